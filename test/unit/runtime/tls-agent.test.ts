import https from "node:https";
import type { AddressInfo } from "node:net";
import tls from "node:tls";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FixedTlsAgent } from "../../../src/runtime/tls-agent.ts";
import { makeSelfSignedCert } from "../../emulator/server.ts";

describe("FixedTlsAgent", () => {
  let server: https.Server;
  let port = 0;
  let ca = "";
  beforeAll(async () => {
    const m = await makeSelfSignedCert();
    ca = m.cert;
    server = https.createServer({ key: m.key, cert: m.cert }, (_req, res) => res.end("ok"));
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  const get = (agent: https.Agent): Promise<string> =>
    new Promise((resolve, reject) => {
      https
        .get({ host: "127.0.0.1", port, path: "/", agent, ca }, (res) => {
          let body = "";
          res.on("data", (c: Buffer) => (body += c.toString()));
          res.on("end", () => resolve(body));
        })
        .on("error", reject);
    });

  it("builds its TLS context once, not once per connection, and still verifies the server", async () => {
    const real = tls.createSecureContext;
    let built = 0;
    tls.createSecureContext = (o) => (built++, real(o));
    try {
      // No keep-alive: each request opens a new TLS connection.
      const agent = new FixedTlsAgent({ keepAlive: false, ca: [ca] });
      expect(built).toBe(1);
      expect(await Promise.all([get(agent), get(agent), get(agent)])).toEqual(["ok", "ok", "ok"]);
      expect(built).toBe(1);
      agent.destroy();

      const untrusting = new FixedTlsAgent({ keepAlive: false });
      await expect(get(untrusting)).rejects.toThrow(/self-signed|certificate/i);
      untrusting.destroy();
    } finally {
      tls.createSecureContext = real;
    }
  });

  it("leaves the TLS material out of its pool key", () => {
    const agent = new FixedTlsAgent({ ca: [ca] });
    expect(agent.getName({ host: "h", port: 6443, servername: "h", ca } as never)).toBe("h:6443:::h");
    agent.destroy();
  });
});
