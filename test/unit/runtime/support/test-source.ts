// A Source double whose sync the test controls.
import type { Source } from "../../../../src/runtime/manager.ts";

export class TestSource implements Source {
  readonly name: string;
  started = false;
  stoppedBySignal = false;
  /** What lastHeardAt() answers (monotonic ms); undefined: never heard. */
  heardAt: number | undefined;
  /** A stopped() that never resolves (a source stuck on a dead connection). */
  neverStops = false;
  #synced = false;
  #waiters: (() => void)[] = [];
  readonly #failStart: Error | undefined;

  constructor(name: string, options: { failStart?: Error } = {}) {
    this.name = name;
    this.#failStart = options.failStart;
  }

  async start(signal: AbortSignal): Promise<void> {
    if (this.#failStart !== undefined) throw this.#failStart;
    this.started = true;
    signal.addEventListener("abort", () => (this.stoppedBySignal = true), { once: true });
  }

  lastHeardAt(): number | undefined {
    return this.heardAt;
  }

  stopped(): Promise<void> {
    return this.neverStops ? new Promise(() => {}) : Promise.resolve();
  }

  hasSynced(): boolean {
    return this.#synced;
  }

  markSynced(): void {
    this.#synced = true;
    for (const w of this.#waiters.splice(0)) w();
  }

  waitForSync(signal: AbortSignal): Promise<boolean> {
    if (this.#synced) return Promise.resolve(true);
    return new Promise((resolve) => {
      this.#waiters.push(() => resolve(true));
      signal.addEventListener("abort", () => resolve(false), { once: true });
    });
  }
}
