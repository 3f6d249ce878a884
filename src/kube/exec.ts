// Running a command in a pod's container through the apiserver's pods/exec, with the operator's
// own credentials (RBAC: pods/exec create). @kubernetes/client-node's Exec speaks the websocket
// protocol; this wraps it in a port with a deadline. On timeout (or abort) the stream is closed:
// the apiserver then stops relaying, though the process in the container may run on (Kubernetes
// has no way to kill an exec'd process) — which is why hooks should bound themselves too.
import { Writable } from "node:stream";
import type { Exec, KubeConfig, V1Status } from "@kubernetes/client-node";

export interface ExecRequest {
  namespace: string;
  pod: string;
  container: string;
  command: readonly string[];
  timeoutMs: number;
  signal?: AbortSignal;
}

/** Succeeded: exit code 0. Failed: a non-zero exit code, or the exec could not run (no exitCode). */
export type ExecResult =
  | { kind: "exited"; exitCode: number; output: string }
  | { kind: "timedOut"; output: string }
  | { kind: "error"; message: string; output: string };

export interface ExecPort {
  exec(req: ExecRequest): Promise<ExecResult>;
}

/** Output kept per exec: the tail is what status shows, so keeping more would only cost memory. */
export const MAX_OUTPUT_BYTES = 64 * 1024;

/** The exit code a V1Status of a finished exec reports (Success → 0; NonZeroExitCode → its cause). */
export function exitCodeOf(s: V1Status): number | undefined {
  if (s.status === "Success") return 0;
  const code = s.details?.causes?.find((c) => c.reason === "ExitCode")?.message;
  return code !== undefined && /^\d+$/u.test(code) ? Number(code) : undefined;
}

/** The last `lines` lines of `text`, at most `maxChars` characters (the end kept). */
export function tail(text: string, lines = 20, maxChars = 2048): string {
  const ls = text.replace(/\s+$/u, "").split("\n");
  const t = ls.slice(-lines).join("\n");
  return t.length > maxChars ? t.slice(t.length - maxChars) : t;
}

/** The websocket library rejects with an ErrorEvent-like object, not an Error. */
export function describe(e: unknown): string {
  if (e instanceof Error) return e.message;
  if (typeof e === "object" && e !== null) {
    const m = (e as { message?: unknown; error?: unknown }).message ?? (e as { error?: unknown }).error;
    if (typeof m === "string") return m;
    if (m instanceof Error) return m.message;
  }
  return String(e);
}

/**
 * The exec port. @kubernetes/client-node (≈ 80 MiB of RSS) is loaded on the first exec only, so an
 * operator whose schedules have no hooks never pays for it.
 */
export function kubeExec(loadConfig: () => KubeConfig | Promise<KubeConfig>): ExecPort {
  let client: Promise<Exec> | undefined;
  const execClient = (): Promise<Exec> =>
    (client ??= (async () => {
      const [lib, kc] = await Promise.all([import("@kubernetes/client-node"), loadConfig()]);
      return new lib.Exec(kc);
    })());
  return {
    async exec(req: ExecRequest): Promise<ExecResult> {
      let ex: Exec;
      try {
        ex = await execClient();
      } catch (e) {
        client = undefined;
        return { kind: "error", message: `exec client: ${describe(e)}`, output: "" };
      }
      let output = "";
      const sink = (): Writable =>
        new Writable({
          write(chunk: Buffer, _enc, cb): void {
            output = (output + chunk.toString("utf8")).slice(-MAX_OUTPUT_BYTES);
            cb();
          },
        });
      return new Promise<ExecResult>((resolve) => {
        let settled = false;
        let ws: { close(): void } | undefined;
        const finish = (r: ExecResult): void => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          req.signal?.removeEventListener("abort", onAbort);
          ws?.close();
          resolve(r);
        };
        const timer = setTimeout(() => finish({ kind: "timedOut", output }), req.timeoutMs);
        const onAbort = (): void => finish({ kind: "error", message: "aborted (the operator is stopping, or its --reconcile-timeout was reached)", output });
        req.signal?.addEventListener("abort", onAbort);
        const onStatus = (s: V1Status): void => {
          const code = exitCodeOf(s);
          finish(code === undefined ? { kind: "error", message: s.message ?? s.reason ?? "exec failed", output } : { kind: "exited", exitCode: code, output });
        };
        ex
          .exec(req.namespace, req.pod, req.container, [...req.command], sink(), sink(), null, false, onStatus)
          .then((socket) => {
            ws = socket;
            if (settled) socket.close();
            // A socket closed without a status (container gone, apiserver restarted) is an error.
            socket.on("close", () => finish({ kind: "error", message: "exec stream closed without an exit status", output }));
          })
          .catch((e: unknown) => finish({ kind: "error", message: describe(e), output }));
      });
    },
  };
}
