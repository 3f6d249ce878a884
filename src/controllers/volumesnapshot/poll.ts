// When to read a waiting snapshot's Azure copy again. Never sooner than one poll interval after the
// last read (the ARM budget); when two reads show the copy advancing, the next read is placed just
// after the copy should reach 100 % (so "verified" follows completion closely instead of up to an
// interval later), but never more than two intervals after the last read (a copy that speeds up is
// still seen). Without a prediction a small jitter keeps snapshots made together from reading together.

export interface Progress {
  readonly percent: number;
  /** Epoch ms of the read. */
  readonly at: number;
}

/** When a copy advancing from `prev` to `cur` reaches 100 % at the same pace; undefined if it is not advancing. */
export function predictCompletion(prev: Progress | undefined, cur: Progress | undefined): number | undefined {
  if (prev === undefined || cur === undefined || cur.at <= prev.at || cur.percent <= prev.percent || cur.percent >= 100) return undefined;
  const perMs = (cur.percent - prev.percent) / (cur.at - prev.at);
  return cur.at + (100 - cur.percent) / perMs;
}

/** Margin after the predicted completion: at least one percent's worth of copying (ARM rounds). */
function margin(prev: Progress, cur: Progress): number {
  const msPerPercent = (cur.at - prev.at) / (cur.percent - prev.percent);
  return Math.max(500, msPerPercent);
}

export function nextPollAt(opts: { last: number | undefined; intervalMs: number; now: number; random: () => number; prev?: Progress; cur?: Progress }): number {
  const { last, intervalMs, now } = opts;
  if (last === undefined) return now;
  const earliest = last + intervalMs;
  const predicted = predictCompletion(opts.prev, opts.cur);
  if (predicted !== undefined && opts.prev && opts.cur) {
    const target = Math.min(predicted + margin(opts.prev, opts.cur), last + 2 * intervalMs);
    return Math.max(now, earliest, target);
  }
  return Math.max(now, earliest + 0.1 * intervalMs * opts.random());
}
