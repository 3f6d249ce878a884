// An https.Agent for one fixed set of TLS options, shared by the Kubernetes client (one per TLS
// fingerprint) and the ARM client (one per extra CA). Its pool key leaves the TLS options out:
// Node's getName joins the CA, certificate and key into the key of every request (with a CA bundle
// of ≈ 150 certificates that was 6.6–11 % of the operator's CPU while 1,000 objects were created).
// Safe because every request through one agent uses the same TLS options.
import https from "node:https";

export class FixedTlsAgent extends https.Agent {
  override getName(o: https.RequestOptions = {}): string {
    return `${o.host ?? "localhost"}:${o.port ?? ""}:${o.localAddress ?? ""}:${o.family ?? ""}:${o.servername ?? ""}`;
  }
}
