// An https.Agent for one fixed set of TLS options, shared by the Kubernetes client (one per TLS
// fingerprint) and the ARM client (one per extra CA).
// - Its pool key leaves the TLS options out: Node's getName joins the CA, certificate and key into
//   the key of every request (with a CA bundle of ≈ 150 certificates that was 6.6–11 % of the
//   operator's CPU while 1,000 objects were created).
// - It builds the TLS context once: without `secureContext`, every new connection parses the whole
//   CA bundle again (≈ 130 ms of CPU for the ARM connections opened while 1,000 objects were
//   created, in the operator's profile).
// Safe because every request through one agent uses the same TLS options.
import https from "node:https";
import tls from "node:tls";

export class FixedTlsAgent extends https.Agent {
  constructor(options: https.AgentOptions = {}) {
    super({ ...options, secureContext: options.secureContext ?? tls.createSecureContext(options) });
  }

  override getName(o: https.RequestOptions = {}): string {
    return `${o.host ?? "localhost"}:${o.port ?? ""}:${o.localAddress ?? ""}:${o.family ?? ""}:${o.servername ?? ""}`;
  }
}
