// A TCP proxy on loopback between a client and a target that can black-hole traffic: bytes stop
// flowing both ways, and no FIN or RST is passed on, while every socket stays open — what a client
// sees when a node dies or a load balancer fails over without resetting its connections. Heal
// resumes forwarding (held bytes are delivered late, as TCP retransmission would after the path
// comes back). It counts accepted connections, so tests can prove connection reuse.
import net from "node:net";

interface Pair {
  client: net.Socket;
  upstream: net.Socket | undefined;
  /** Work held back while black-holed: late bytes and closes, replayed on heal. */
  held: Array<() => void>;
}

export class BlackholeProxy {
  readonly #server: net.Server;
  readonly #target: { host: string; port: number };
  readonly #pairs = new Set<Pair>();
  #holed = false;
  /** Connections accepted from clients since start. */
  accepted = 0;

  private constructor(server: net.Server, target: { host: string; port: number }) {
    this.#server = server;
    this.#target = target;
  }

  /** Listens on 127.0.0.1 (a free port) and forwards to target. */
  static async start(target: { host: string; port: number }): Promise<BlackholeProxy> {
    const server = net.createServer();
    const proxy = new BlackholeProxy(server, target);
    server.on("connection", (socket) => proxy.#accept(socket));
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(0, "127.0.0.1", () => resolve());
    });
    return proxy;
  }

  get port(): number {
    const a = this.#server.address();
    return typeof a === "object" && a !== null ? a.port : 0;
  }

  /** Open client connections (black-holed ones included). */
  get open(): number {
    return this.#pairs.size;
  }

  isBlackholed(): boolean {
    return this.#holed;
  }

  /** Stops forwarding both ways; sockets stay open and nobody is told. */
  blackhole(): void {
    this.#holed = true;
    for (const p of this.#pairs) {
      p.client.pause();
      p.upstream?.pause();
    }
  }

  /** Forwards again, first delivering whatever was held back. */
  heal(): void {
    this.#holed = false;
    for (const p of [...this.#pairs]) {
      for (const step of p.held.splice(0)) step();
      if (p.upstream === undefined && !p.client.destroyed) this.#connectUpstream(p);
      p.client.resume();
      p.upstream?.resume();
    }
  }

  async close(): Promise<void> {
    for (const p of this.#pairs) {
      p.client.destroy();
      p.upstream?.destroy();
    }
    this.#pairs.clear();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #accept(client: net.Socket): void {
    this.accepted++;
    const pair: Pair = { client, upstream: undefined, held: [] };
    this.#pairs.add(pair);
    client.on("error", () => {});
    // A new connection during an outage: the handshake "succeeds" locally but nothing gets through.
    if (this.#holed) client.pause();
    else this.#connectUpstream(pair);
    this.#pipe(pair, client, () => pair.upstream);
  }

  #connectUpstream(pair: Pair): void {
    const upstream = net.connect(this.#target.port, this.#target.host);
    pair.upstream = upstream;
    upstream.on("error", () => {});
    this.#pipe(pair, upstream, () => pair.client);
  }

  /** Forwards from → to() unless black-holed; close and end are forwarded only when not holed. */
  #pipe(pair: Pair, from: net.Socket, to: () => net.Socket | undefined): void {
    const run = (step: () => void): void => {
      if (this.#holed) {
        pair.held.push(step);
        from.pause();
      } else step();
    };
    from.on("data", (chunk: Buffer) => run(() => to()?.write(chunk)));
    from.on("end", () => run(() => to()?.end()));
    from.on("close", () =>
      run(() => {
        to()?.destroy();
        this.#pairs.delete(pair);
      }),
    );
  }
}
