// Leader election on a lease record with client-go semantics (tools/leaderelection):
// - A candidate takes the lease when it is free (no holder) or when the record has not changed for
//   leaseDuration *as observed locally*. Expiry is measured from when this process last saw the
//   record change, never from the remote renewTime, so clock skew between replicas cannot make a
//   live leader look expired.
// - The leader renews every retryPeriod; if it cannot renew within renewDeadline it has lost and
//   must stop acting (renewDeadline < leaseDuration leaves a margin before others may take over).
// - Writes carry the resourceVersion that was read, so two candidates racing cannot both win.
// - Releasing on shutdown empties the holder, so a standby takes over on its next retry instead of
//   waiting out the lease.
import type { Clock } from "./clock.ts";
import type { Logger } from "./logger.ts";

export interface LeaseRecord {
  /** "" when nobody holds the lease (after a release). */
  holderIdentity: string;
  leaseDurationSeconds: number;
  acquireTimeMs: number;
  renewTimeMs: number;
  leaseTransitions: number;
}

export interface StoredLease {
  record: LeaseRecord;
  resourceVersion: string;
}

/** Result of a conditional write: `conflict` means someone else wrote first (lost race). */
export type LeaseWriteResult = { kind: "ok"; resourceVersion: string } | { kind: "conflict" };

/** Where the lease lives (a coordination.k8s.io/v1 Lease in production, memory in unit tests). */
export interface LeaseStore {
  /** null when the lease does not exist. Other failures throw. */
  get(signal?: AbortSignal): Promise<StoredLease | null>;
  /** `conflict` when it already exists. */
  create(record: LeaseRecord, signal?: AbortSignal): Promise<LeaseWriteResult>;
  /** Compare-and-swap on resourceVersion; `conflict` when it changed. */
  update(record: LeaseRecord, resourceVersion: string, signal?: AbortSignal): Promise<LeaseWriteResult>;
  /** For logs, e.g. "lease aksnap-system/aksnap-leader". */
  describe(): string;
}

export interface LeaderElectorOptions {
  store: LeaseStore;
  /** Unique per process (pod name + random suffix): a restarted process must not resume as leader. */
  identity: string;
  clock: Clock;
  logger: Logger;
  /** How long others wait, from their last observation of a change, before taking over. Default 15s. */
  leaseDurationMs?: number;
  /** How long the leader keeps retrying a failing renewal before giving up. Default 10s. */
  renewDeadlineMs?: number;
  /** Interval between attempts. Default 2s. */
  retryPeriodMs?: number;
  /** Source of jitter in [0, 1); acquire retries wait retryPeriod * (1 + 1.2 * random()). */
  random?: () => number;
  /** Called when the observed holder changes (including to "" on release). */
  onNewLeader?: (identity: string) => void;
}

export type RenewOutcome = { kind: "lost"; reason: string } | { kind: "stopped" };

export const DEFAULT_LEASE_DURATION_MS = 15_000;
export const DEFAULT_RENEW_DEADLINE_MS = 10_000;
export const DEFAULT_RETRY_PERIOD_MS = 2_000;
export const JITTER_FACTOR = 1.2;

export class LeaderElectionLostError extends Error {
  constructor(reason: string) {
    super(`leader election lost: ${reason}`);
    this.name = "LeaderElectionLostError";
  }
}

function sameRecord(a: LeaseRecord | undefined, b: LeaseRecord): boolean {
  return (
    a !== undefined &&
    a.holderIdentity === b.holderIdentity &&
    a.leaseDurationSeconds === b.leaseDurationSeconds &&
    a.acquireTimeMs === b.acquireTimeMs &&
    a.renewTimeMs === b.renewTimeMs &&
    a.leaseTransitions === b.leaseTransitions
  );
}

function describeError(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export class LeaderElector {
  readonly identity: string;
  readonly leaseDurationMs: number;
  readonly renewDeadlineMs: number;
  readonly retryPeriodMs: number;
  readonly #store: LeaseStore;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #random: () => number;
  readonly #onNewLeader: ((identity: string) => void) | undefined;

  /** Last record seen or written, and the local monotonic time we first saw it. */
  #observed: LeaseRecord | undefined;
  #observedTime = 0;
  #observedResourceVersion: string | undefined;
  #reportedLeader: string | undefined;
  #leading = false;
  /** Bumped whenever leadership ends, so a slow write that lands afterwards cannot revive it. */
  #epoch = 0;
  /** The store attempt still on the wire, if acquire/renew stopped waiting for it. */
  #pendingAttempt: Promise<boolean> | undefined;

  constructor(options: LeaderElectorOptions) {
    this.identity = options.identity;
    this.leaseDurationMs = options.leaseDurationMs ?? DEFAULT_LEASE_DURATION_MS;
    this.renewDeadlineMs = options.renewDeadlineMs ?? DEFAULT_RENEW_DEADLINE_MS;
    this.retryPeriodMs = options.retryPeriodMs ?? DEFAULT_RETRY_PERIOD_MS;
    if (this.identity === "") throw new RangeError("leader election identity must not be empty");
    if (!(this.retryPeriodMs > 0)) throw new RangeError("retryPeriod must be > 0");
    if (!(this.leaseDurationMs > this.renewDeadlineMs)) throw new RangeError("leaseDuration must be greater than renewDeadline");
    if (!(this.renewDeadlineMs > JITTER_FACTOR * this.retryPeriodMs)) {
      throw new RangeError(`renewDeadline must be greater than retryPeriod*${JITTER_FACTOR}`);
    }
    this.#store = options.store;
    this.#clock = options.clock;
    this.#log = options.logger.child({ lease: options.store.describe(), identity: options.identity });
    this.#random = options.random ?? Math.random;
    this.#onNewLeader = options.onNewLeader;
  }

  /** Whether this process currently holds leadership (set on acquire, cleared on loss/release). */
  isLeader(): boolean {
    return this.#leading;
  }

  /** The holder this process last observed ("" = nobody, undefined = never read). */
  getLeader(): string | undefined {
    return this.#observed?.holderIdentity;
  }

  /**
   * Tries until the lease is ours (true) or the signal aborts (false). The first attempt is
   * immediate; retries are jittered so standbys do not hit the apiserver in lockstep.
   */
  async acquire(signal: AbortSignal): Promise<boolean> {
    this.#log.info("Attempting to acquire leader lease");
    while (!signal.aborted) {
      const epoch = this.#epoch;
      // Bound each attempt so a request that never answers cannot stall the candidate forever.
      const attempt = new AbortController();
      const timer = this.#clock.setTimer(this.renewDeadlineMs, () => attempt.abort(new Error("lease attempt timed out")));
      const attemptSignal = AbortSignal.any([signal, attempt.signal]);
      const ok = await Promise.race([this.#attempt(attemptSignal, epoch), abortedAsFalse(attemptSignal)]);
      timer.cancel();
      if (ok && !signal.aborted && epoch === this.#epoch) {
        this.#leading = true;
        this.#log.info("Successfully acquired lease");
        return true;
      }
      await this.#clock.sleep(this.retryPeriodMs * (1 + JITTER_FACTOR * this.#random()), signal);
    }
    return false;
  }

  /**
   * Keeps renewing while leading. Resolves `lost` when a renewal could not succeed within
   * renewDeadline (the caller must stop all leader work at once), `stopped` when the signal aborts.
   */
  async renew(signal: AbortSignal): Promise<RenewOutcome> {
    if (!this.#leading) return { kind: "lost", reason: "not leading" };
    const epoch = this.#epoch;
    for (;;) {
      await this.#clock.sleep(this.retryPeriodMs, signal);
      if (signal.aborted) return { kind: "stopped" };
      const outcome = await this.#renewRound(signal, epoch);
      if (outcome !== undefined) return outcome;
    }
  }

  /** One renewal round: retry every retryPeriod until success or renewDeadline (client-go PollImmediateUntil). */
  async #renewRound(signal: AbortSignal, epoch: number): Promise<RenewOutcome | undefined> {
    const deadline = this.#clock.monotonicMs() + this.renewDeadlineMs;
    const round = new AbortController();
    const timer = this.#clock.setTimer(this.renewDeadlineMs, () => round.abort(new Error("renew deadline exceeded")));
    const attemptSignal = AbortSignal.any([signal, round.signal]);
    try {
      for (;;) {
        // A hung request must not outlive the deadline: race it against the round's abort.
        const ok = await Promise.race([this.#attempt(attemptSignal, epoch), abortedAsFalse(attemptSignal)]);
        if (signal.aborted) return { kind: "stopped" };
        if (ok && epoch === this.#epoch) return undefined;
        if (this.#clock.monotonicMs() >= deadline || round.signal.aborted) break;
        await this.#clock.sleep(Math.min(this.retryPeriodMs, deadline - this.#clock.monotonicMs()), attemptSignal);
        if (signal.aborted) return { kind: "stopped" };
        if (round.signal.aborted) break;
      }
    } finally {
      timer.cancel();
    }
    const reason = `failed to renew lease within ${this.renewDeadlineMs}ms`;
    this.#endLeadership();
    this.#log.error({ reason }, "Leader election lost");
    return { kind: "lost", reason };
  }

  /**
   * Gives the lease up if we still hold it, so another candidate can take over without waiting for
   * expiry: empty holder and a 1s duration (as client-go). Returns false if the write failed.
   */
  async release(signal?: AbortSignal): Promise<boolean> {
    const wasLeading = this.#leading;
    this.#endLeadership();
    // A stop that raced an acquire: the abandoned write may still land and make us the holder.
    // Wait for it (within the caller's deadline) so the read below sees it and releases it,
    // instead of leaving the lease held for a full leaseDuration.
    const pending = this.#pendingAttempt;
    if (pending !== undefined) await Promise.race([pending, ...(signal === undefined ? [] : [abortedAsFalse(signal)])]);
    let current: StoredLease | null;
    try {
      current = await this.#store.get(signal);
    } catch (error) {
      this.#log.error({ err: error }, "Failed to read lease for release");
      return false;
    }
    if (current === null || current.record.holderIdentity !== this.identity) {
      if (wasLeading) this.#log.info({ holder: current?.record.holderIdentity }, "Lease no longer ours; nothing to release");
      return true;
    }
    const now = this.#clock.now();
    const released: LeaseRecord = {
      holderIdentity: "",
      leaseDurationSeconds: 1,
      acquireTimeMs: now,
      renewTimeMs: now,
      leaseTransitions: current.record.leaseTransitions,
    };
    try {
      const written = await this.#store.update(released, current.resourceVersion, signal);
      if (written.kind === "conflict") {
        this.#log.warn("Lease changed while releasing; not released");
        return false;
      }
      this.#setObserved(released, written.resourceVersion, this.#clock.monotonicMs());
      this.#log.info("Released leader lease");
      return true;
    } catch (error) {
      this.#log.error({ err: error }, "Failed to release lease");
      return false;
    }
  }

  /**
   * client-go's HealthzAdaptor: unhealthy when we believe we lead but have not renewed for
   * leaseDuration + tolerance, i.e. the renew loop is stuck and someone else may be leading.
   * Returns a reason when unhealthy.
   */
  check(maxTolerableExpiredLeaseMs: number): string | undefined {
    if (!this.#leading) return undefined;
    const sinceMs = this.#clock.monotonicMs() - this.#observedTime;
    if (sinceMs > this.leaseDurationMs + maxTolerableExpiredLeaseMs) {
      return `lease not renewed for ${sinceMs}ms (leaseDuration ${this.leaseDurationMs}ms + tolerance ${maxTolerableExpiredLeaseMs}ms)`;
    }
    return undefined;
  }

  /**
   * client-go's Run: acquire, call onStartedLeading with a signal that aborts when leadership ends,
   * renew until lost or stopped, then call onStoppedLeading; release on stop if asked.
   */
  async run(
    signal: AbortSignal,
    callbacks: { onStartedLeading: (leading: AbortSignal) => void; onStoppedLeading: (outcome: RenewOutcome) => void },
    options: { releaseOnCancel?: boolean } = {},
  ): Promise<RenewOutcome | undefined> {
    if (!(await this.acquire(signal))) return undefined;
    const leading = new AbortController();
    callbacks.onStartedLeading(leading.signal);
    const outcome = await this.renew(signal);
    leading.abort(outcome.kind === "lost" ? new LeaderElectionLostError(outcome.reason) : signal.reason);
    if (outcome.kind === "stopped" && (options.releaseOnCancel ?? true)) await this.release();
    callbacks.onStoppedLeading(outcome);
    return outcome;
  }

  #endLeadership(): void {
    if (this.#leading) this.#epoch++;
    this.#leading = false;
  }

  #holderIsMe(): boolean {
    return this.#observed?.holderIdentity === this.identity;
  }

  #leaseValid(now: number): boolean {
    const durationMs = (this.#observed?.leaseDurationSeconds ?? 0) * 1000;
    return this.#observedTime + durationMs > now;
  }

  #setObserved(record: LeaseRecord, resourceVersion: string, at: number): void {
    this.#observed = record;
    this.#observedResourceVersion = resourceVersion;
    this.#observedTime = at;
    if (record.holderIdentity !== this.#reportedLeader) {
      this.#reportedLeader = record.holderIdentity;
      this.#log.info({ holder: record.holderIdentity }, "New leader observed");
      this.#onNewLeader?.(record.holderIdentity);
    }
  }

  /** Runs one attempt and remembers it while it is in flight (acquire/renew may stop waiting for it). */
  #attempt(signal: AbortSignal, epoch: number): Promise<boolean> {
    const p = this.#tryAcquireOrRenew(signal, epoch);
    this.#pendingAttempt = p;
    void p.finally(() => {
      if (this.#pendingAttempt === p) this.#pendingAttempt = undefined;
    });
    return p;
  }

  /** client-go tryAcquireOrRenew: true when the lease is ours after this attempt. */
  async #tryAcquireOrRenew(signal: AbortSignal, epoch: number): Promise<boolean> {
    // Wall time goes into the record (other replicas read it); validity is judged on monotonic time.
    const now = this.#clock.now();
    const mono = this.#clock.monotonicMs();
    const desired: LeaseRecord = {
      holderIdentity: this.identity,
      leaseDurationSeconds: Math.ceil(this.leaseDurationMs / 1000),
      acquireTimeMs: now,
      renewTimeMs: now,
      leaseTransitions: 0,
    };
    const stale = (): boolean => epoch !== this.#epoch || signal.aborted;

    try {
      // Fast path: we hold a valid lease; write directly with the resourceVersion we know.
      const observed = this.#observed;
      const rv = this.#observedResourceVersion;
      if (observed !== undefined && rv !== undefined && this.#holderIsMe() && this.#leaseValid(mono)) {
        const renewed: LeaseRecord = { ...desired, acquireTimeMs: observed.acquireTimeMs, leaseTransitions: observed.leaseTransitions };
        const written = await this.#store.update(renewed, rv, signal);
        if (written.kind === "ok") {
          this.#setObserved(renewed, written.resourceVersion, this.#clock.monotonicMs());
          return !stale();
        }
        if (stale()) return false;
        // Conflict: fall through to a fresh read.
      }

      const current = await this.#store.get(signal);
      if (stale()) return false;
      if (current === null) {
        const created = await this.#store.create(desired, signal);
        if (created.kind === "conflict") return false;
        // Record what is stored even if the attempt went stale, so a later release() knows.
        this.#setObserved(desired, created.resourceVersion, this.#clock.monotonicMs());
        return !stale();
      }

      // Expiry counts from when *we* saw the record change (skew-safe), not from its renewTime.
      if (!sameRecord(this.#observed, current.record)) {
        this.#setObserved(current.record, current.resourceVersion, this.#clock.monotonicMs());
      } else {
        this.#observedResourceVersion = current.resourceVersion;
      }
      if (current.record.holderIdentity !== "" && this.#leaseValid(mono) && !this.#holderIsMe()) {
        return false;
      }

      const next: LeaseRecord = this.#holderIsMe()
        ? { ...desired, acquireTimeMs: current.record.acquireTimeMs, leaseTransitions: current.record.leaseTransitions }
        : { ...desired, leaseTransitions: current.record.leaseTransitions + 1 };
      const written = await this.#store.update(next, current.resourceVersion, signal);
      if (written.kind === "conflict") return false;
      this.#setObserved(next, written.resourceVersion, this.#clock.monotonicMs());
      return !stale();
    } catch (error) {
      if (!signal.aborted) this.#log.warn({ err: error }, `Lease attempt failed: ${describeError(error)}`);
      return false;
    }
  }
}

function abortedAsFalse(signal: AbortSignal): Promise<false> {
  return new Promise((resolve) => {
    if (signal.aborted) resolve(false);
    else signal.addEventListener("abort", () => resolve(false), { once: true });
  });
}
