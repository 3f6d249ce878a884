// Time is injected everywhere in the runtime so that queues, backoff and leader election can be
// tested deterministically with ManualClock instead of global fake timers.

export interface Timer {
  cancel(): void;
}

export interface Clock {
  /** Milliseconds since the epoch: only for timestamps written to objects (it can step). */
  now(): number;
  /**
   * Milliseconds on a monotonic clock (performance.now()): for intervals, deadlines and backoff.
   * An NTP step of the wall clock must not stretch a retry or expire a lease early.
   */
  monotonicMs(): number;
  /** Runs fn once after ms (clamped to >= 0; waits beyond setTimeout's 2^31-1 ms are re-armed). */
  setTimer(ms: number, fn: () => void): Timer;
  /**
   * Resolves after ms, or as soon as signal aborts. It resolves rather than rejects on abort so
   * loops can simply re-check `signal.aborted`.
   */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

function sleepWith(clock: Pick<Clock, "setTimer">, ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const onAbort = (): void => {
      timer.cancel();
      resolve();
    };
    const timer = clock.setTimer(ms, () => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    });
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/** setTimeout's largest delay: Node fires a longer one after 1 ms (with a warning). */
export const MAX_TIMER_DELAY_MS = 2 ** 31 - 1;

/**
 * A setTimeout that waits any length: longer waits are re-armed in steps of at most 2^31-1 ms
 * against the monotonic deadline, so `addAfter(key, 30 days)` sleeps instead of spinning.
 */
export function longTimer(ms: number, fn: () => void, monotonicMs: () => number = () => performance.now()): Timer {
  const delay = Number.isFinite(ms) ? Math.max(0, ms) : MAX_TIMER_DELAY_MS;
  const deadline = monotonicMs() + delay;
  let handle: ReturnType<typeof setTimeout>;
  const arm = (wait: number): void => {
    handle = setTimeout(() => {
      const left = deadline - monotonicMs();
      if (left > 0) arm(left);
      else fn();
    }, Math.min(wait, MAX_TIMER_DELAY_MS));
  };
  arm(delay);
  return { cancel: () => clearTimeout(handle) };
}

export class SystemClock implements Clock {
  now(): number {
    return Date.now();
  }

  monotonicMs(): number {
    return performance.now();
  }

  setTimer(ms: number, fn: () => void): Timer {
    return longTimer(ms, fn);
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return sleepWith(this, ms, signal);
  }
}

interface ManualTimer {
  readonly due: number;
  readonly seq: number;
  readonly fn: () => void;
  cancelled: boolean;
}

/** Lets every pending promise continuation run (one macrotask turn drains the microtask queue). */
export function flushMicrotasks(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/**
 * A clock that only moves when told to. `advance` fires due timers in (due time, creation) order,
 * with `now()` equal to each timer's due time while it runs, and lets promise continuations settle
 * between timers so async loops (sleep → work → sleep) progress as they would in real time.
 */
export class ManualClock implements Clock {
  #now: number;
  /** Wall time minus monotonic time; stepWall moves it (NTP steps) without moving timers. */
  #wallOffset = 0;
  #seq = 0;
  #timers: ManualTimer[] = [];

  constructor(startMs = 0) {
    this.#now = startMs;
  }

  now(): number {
    return this.#now + this.#wallOffset;
  }

  /** Monotonic time; equal to now() until stepWall is used. Timers run on it. */
  monotonicMs(): number {
    return this.#now;
  }

  /** Steps the wall clock (as NTP can, also backwards) without moving monotonic time or timers. */
  stepWall(deltaMs: number): void {
    this.#wallOffset += deltaMs;
  }

  setTimer(ms: number, fn: () => void): Timer {
    const timer: ManualTimer = { due: this.#now + Math.max(0, ms), seq: this.#seq++, fn, cancelled: false };
    this.#timers.push(timer);
    return {
      cancel: () => {
        timer.cancelled = true;
        this.#timers = this.#timers.filter((t) => t !== timer);
      },
    };
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return sleepWith(this, ms, signal);
  }

  /** Number of timers not yet fired or cancelled. */
  pendingTimers(): number {
    return this.#timers.length;
  }

  /** Due time of the earliest pending timer. */
  nextDue(): number | undefined {
    return this.#earliest()?.due;
  }

  /** Moves time forward by ms, firing every timer that falls due on the way (including ones created meanwhile). */
  async advance(ms: number): Promise<void> {
    const target = this.#now + Math.max(0, ms);
    await flushMicrotasks();
    for (;;) {
      const next = this.#earliest();
      if (next === undefined || next.due > target) break;
      this.#timers = this.#timers.filter((t) => t !== next);
      this.#now = Math.max(this.#now, next.due);
      next.fn();
      await flushMicrotasks();
    }
    this.#now = target;
    await flushMicrotasks();
  }

  /** Moves to an absolute time (no-op if it is in the past). */
  async advanceTo(ms: number): Promise<void> {
    await this.advance(Math.max(0, ms - this.#now));
  }

  #earliest(): ManualTimer | undefined {
    let best: ManualTimer | undefined;
    for (const t of this.#timers) {
      if (t.cancelled) continue;
      if (best === undefined || t.due < best.due || (t.due === best.due && t.seq < best.seq)) best = t;
    }
    return best;
  }
}
