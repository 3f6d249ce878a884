// `node:http` through require. Node's ES module facade for a built-in reads every export when it
// is imported, and `http.WebSocket` (and friends) are lazy getters that load Node's bundled undici,
// http2 and web streams: ≈ 1 MiB of source, and what it compiles, that the operator never uses.
// Import types from "node:http" as usual (erased); take values from here.
import type * as NodeHttp from "node:http";
import { createRequire } from "node:module";

export const http = createRequire(import.meta.url)("node:http") as typeof NodeHttp;
