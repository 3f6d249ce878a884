// kubectl-like output: left-aligned columns separated by three spaces, ages like "5m" / "3d4h",
// and the JSONPath subset CRD printer columns use. Pure.

/** Renders rows under upper-case headers, padding each column to its widest cell. */
export function renderTable(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: readonly string[]): string =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
      .join("   ")
      .trimEnd();
  return [line(headers), ...rows.map(line)].join("\n") + "\n";
}

/** kubectl's HumanDuration: 45s, 5m30s, 5m, 3h20m, 3d4h, 20d, 2y10d. */
export function humanAge(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 120) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 10) return s % 60 === 0 ? `${m}m` : `${m}m${s % 60}s`;
  if (m < 180) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 8) return m % 60 === 0 ? `${h}h` : `${h}h${m % 60}m`;
  if (h < 48) return `${h}h`;
  const d = Math.floor(h / 24);
  if (d < 8) return h % 24 === 0 ? `${d}d` : `${d}d${h % 24}h`;
  if (d < 365 * 2) return `${d}d`;
  const y = Math.floor(d / 365);
  return d % 365 === 0 ? `${y}y` : `${y}y${d % 365}d`;
}

/**
 * Evaluates the JSONPath of a CRD printer column: `.a.b`, `.a[0]`, and one filter
 * `[?(@.k=="v")]` per segment, which is all our columns use. Missing → undefined.
 */
export function jsonPath(obj: unknown, path: string): unknown {
  const tokens = path.match(/\.[A-Za-z0-9_-]+|\[\?\(@\.[A-Za-z0-9_]+=="[^"]*"\)\]|\[\d+\]/g) ?? [];
  if (tokens.join("") !== path) throw new Error(`unsupported JSONPath ${path}`);
  let cur: unknown = obj;
  for (const t of tokens) {
    if (cur === undefined || cur === null) return undefined;
    if (t.startsWith(".")) {
      cur = typeof cur === "object" ? (cur as Record<string, unknown>)[t.slice(1)] : undefined;
    } else if (t.startsWith("[?")) {
      const m = /^\[\?\(@\.([A-Za-z0-9_]+)=="([^"]*)"\)\]$/.exec(t);
      cur = Array.isArray(cur) && m ? cur.find((e) => typeof e === "object" && e !== null && String((e as Record<string, unknown>)[m[1] as string]) === m[2]) : undefined;
    } else {
      cur = Array.isArray(cur) ? cur[Number(t.slice(1, -1))] : undefined;
    }
  }
  return cur;
}

/** A cell as kubectl prints it: `<none>` when absent, ages for dates. */
export function cell(value: unknown, type: string, now: number): string {
  if (value === undefined || value === null || value === "") return "<none>";
  if (type === "date" && typeof value === "string") {
    const t = Date.parse(value);
    return Number.isNaN(t) ? value : humanAge(now - t);
  }
  return typeof value === "object" ? JSON.stringify(value) : String(value as string | number | boolean);
}
