// The operator's own kubeconfig loader (src/kube/kubeconfig.ts): the forms the operator meets —
// a file with a token, a token file or a client certificate, and in-cluster ServiceAccount files.
import { mkdtempSync, writeFileSync } from "node:fs";
import type { RequestOptions } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadKubeAuth, resolveKubeconfig, TOKEN_FILE_REREAD_MS } from "../../../src/kube/kubeconfig.ts";

const b64 = (s: string): string => Buffer.from(s).toString("base64");

function kubeconfig(user: Record<string, unknown>, cluster: Record<string, unknown> = {}): string {
  return JSON.stringify({
    apiVersion: "v1",
    kind: "Config",
    "current-context": "c",
    clusters: [{ name: "k", cluster: { server: "https://127.0.0.1:6443", "certificate-authority-data": b64("CA PEM"), ...cluster } }],
    users: [{ name: "u", user }],
    contexts: [{ name: "other", context: { cluster: "nope", user: "nope" } }, { name: "c", context: { cluster: "k", user: "u" } }],
  });
}

async function applied(auth: { applyToHTTPSOptions(o: RequestOptions): Promise<void> }): Promise<RequestOptions> {
  const o: RequestOptions = { headers: { Accept: "application/json" } };
  await auth.applyToHTTPSOptions(o);
  return o;
}

describe("kubeconfig loader", () => {
  it("a token: bearer header, the CA, the current context's cluster (not the first)", async () => {
    const dir = mkdtempSync(join(tmpdir(), "kc-"));
    writeFileSync(join(dir, "config"), kubeconfig({ token: "t0k" }));
    const auth = loadKubeAuth({ path: join(dir, "config"), env: {} });
    expect(auth.getCurrentCluster()).toEqual({ server: "https://127.0.0.1:6443" });
    const o = await applied(auth);
    expect(o.headers).toEqual({ Accept: "application/json", Authorization: "Bearer t0k" });
    expect(String(o.ca)).toBe("CA PEM");
  });

  it("client certificate and key (data or files relative to the kubeconfig), insecure-skip-tls-verify, tls-server-name", async () => {
    const dir = mkdtempSync(join(tmpdir(), "kc-"));
    writeFileSync(join(dir, "key.pem"), "KEY");
    const r = resolveKubeconfig(kubeconfig({ "client-certificate-data": b64("CERT"), "client-key": "key.pem" }, { "insecure-skip-tls-verify": true, "tls-server-name": "api" }), dir);
    expect(String(r.cert)).toBe("CERT");
    expect(String(r.key)).toBe("KEY");
    expect(r.insecureSkipTlsVerify).toBe(true);
    expect(r.servername).toBe("api");
  });

  it("a token file is re-read once a minute (bound ServiceAccount tokens rotate)", async () => {
    const dir = mkdtempSync(join(tmpdir(), "kc-"));
    writeFileSync(join(dir, "token"), "first\n");
    writeFileSync(join(dir, "config"), kubeconfig({ tokenFile: join(dir, "token") }));
    let now = 0;
    const auth = loadKubeAuth({ path: join(dir, "config"), env: {}, now: () => now });
    expect((await applied(auth)).headers).toMatchObject({ Authorization: "Bearer first" });
    writeFileSync(join(dir, "token"), "second\n");
    now = TOKEN_FILE_REREAD_MS - 1;
    expect((await applied(auth)).headers).toMatchObject({ Authorization: "Bearer first" });
    now = TOKEN_FILE_REREAD_MS;
    expect((await applied(auth)).headers).toMatchObject({ Authorization: "Bearer second" });
  });

  it("in-cluster: KUBERNETES_SERVICE_HOST/PORT, the ServiceAccount CA and token (IPv6 host bracketed)", async () => {
    const dir = mkdtempSync(join(tmpdir(), "sa-"));
    writeFileSync(join(dir, "ca.crt"), "SA CA");
    writeFileSync(join(dir, "token"), "sa-token");
    const auth = loadKubeAuth({ env: { KUBERNETES_SERVICE_HOST: "fd00::1", KUBERNETES_SERVICE_PORT: "443" }, inClusterDir: dir });
    expect(auth.getCurrentCluster()).toEqual({ server: "https://[fd00::1]:443" });
    const o = await applied(auth);
    expect(String(o.ca)).toBe("SA CA");
    expect(o.headers).toMatchObject({ Authorization: "Bearer sa-token" });
  });

  it("$KUBECONFIG when no path is given", () => {
    const dir = mkdtempSync(join(tmpdir(), "kc-"));
    writeFileSync(join(dir, "config"), kubeconfig({ token: "x" }));
    expect(loadKubeAuth({ env: { KUBECONFIG: `${join(dir, "config")}:/elsewhere` } }).getCurrentCluster()?.server).toBe("https://127.0.0.1:6443");
  });

  it.each([
    ["exec plugins", { exec: { command: "kubelogin" } }, {}, /exec and auth-provider/],
    ["proxy-url", { token: "x" }, { "proxy-url": "http://proxy:3128" }, /proxy-url/],
  ])("refuses what it does not implement: %s", (_n, user, cluster, msg) => {
    expect(() => resolveKubeconfig(kubeconfig(user, cluster), "/")).toThrow(msg);
  });
});
