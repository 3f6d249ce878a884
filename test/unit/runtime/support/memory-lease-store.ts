// An in-memory LeaseStore with apiserver-like optimistic concurrency (resourceVersion bumps on
// every write) and fault injection, shared by several candidates in one test.
import type { LeaseRecord, LeaseStore, LeaseWriteResult, StoredLease } from "../../../../src/runtime/leaderelection.ts";

/** hang: settles when the caller aborts; stuck: ignores the signal too (a client without timeouts). */
/** late: a request already on the wire: it ignores the caller's abort and goes through once gate opens. */
export type Fault = { kind: "error"; error: Error } | { kind: "hang" } | { kind: "stuck" } | { kind: "late"; gate: Promise<void> };

export class MemoryLease {
  stored: StoredLease | null = null;
  #rv = 0;
  /** Faults applied to the next operations of any view, in order. */
  readonly faults: Fault[] = [];
  readonly writes: LeaseRecord[] = [];

  view(name = "lease"): LeaseStore {
    return {
      describe: () => `memory/${name}`,
      get: async (signal) => {
        await this.#fault(signal);
        return this.stored === null ? null : { record: { ...this.stored.record }, resourceVersion: this.stored.resourceVersion };
      },
      create: async (record, signal): Promise<LeaseWriteResult> => {
        await this.#fault(signal);
        if (this.stored !== null) return { kind: "conflict" };
        return this.#write(record);
      },
      update: async (record, resourceVersion, signal): Promise<LeaseWriteResult> => {
        await this.#fault(signal);
        if (this.stored === null || this.stored.resourceVersion !== resourceVersion) return { kind: "conflict" };
        return this.#write(record);
      },
    };
  }

  holder(): string | undefined {
    return this.stored?.record.holderIdentity;
  }

  #write(record: LeaseRecord): LeaseWriteResult {
    const resourceVersion = String(++this.#rv);
    this.stored = { record: { ...record }, resourceVersion };
    this.writes.push({ ...record });
    return { kind: "ok", resourceVersion };
  }

  async #fault(signal: AbortSignal | undefined): Promise<void> {
    const fault = this.faults.shift();
    if (fault === undefined) return;
    switch (fault.kind) {
      case "error":
        throw fault.error;
      case "hang":
        // Like a request to an unreachable apiserver: settles only when the caller aborts it.
        await new Promise<void>((_resolve, reject) => {
          if (signal === undefined) return;
          signal.addEventListener("abort", () => reject(signal.reason), { once: true });
        });
        return;
      case "stuck":
        await new Promise<void>(() => {});
        return;
      case "late":
        await fault.gate;
    }
  }
}
