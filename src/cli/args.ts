// Command-line parsing for kubectl-aksnap, kubectl's way: `--flag=value`, `--flag value`, `-n value`,
// `-nvalue`, repeatable flags, and positionals anywhere. Pure: no process access.

export interface FlagSpec {
  /** Long name without dashes. */
  name: string;
  short?: string;
  /** A boolean flag takes no value (`--flag=false` still works). */
  boolean?: boolean;
  /** May be given more than once; values accumulate. */
  repeated?: boolean;
}

export interface Parsed {
  positionals: string[];
  flags: Map<string, string[]>;
}

export class UsageError extends Error {}

export function parseArgs(argv: readonly string[], specs: readonly FlagSpec[]): Parsed {
  const byLong = new Map(specs.map((s) => [s.name, s]));
  const byShort = new Map(specs.filter((s) => s.short).map((s) => [s.short as string, s]));
  const flags = new Map<string, string[]>();
  const positionals: string[] = [];
  const set = (spec: FlagSpec, value: string): void => {
    const prev = flags.get(spec.name);
    if (prev && !spec.repeated) throw new UsageError(`flag --${spec.name} given more than once`);
    flags.set(spec.name, [...(prev ?? []), value]);
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    if (a === "--") {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    let spec: FlagSpec | undefined;
    let inline: string | undefined;
    if (a.startsWith("--")) {
      const eq = a.indexOf("=");
      const name = eq < 0 ? a.slice(2) : a.slice(2, eq);
      inline = eq < 0 ? undefined : a.slice(eq + 1);
      spec = byLong.get(name);
      if (!spec) throw new UsageError(`unknown flag: --${name}`);
    } else if (a.startsWith("-") && a.length > 1) {
      spec = byShort.get(a[1] as string);
      if (!spec) throw new UsageError(`unknown shorthand flag: '${a[1]}' in ${a}`);
      const rest = a.slice(2).replace(/^=/, "");
      inline = rest === "" ? undefined : rest;
    } else {
      positionals.push(a);
      continue;
    }
    if (spec.boolean) {
      if (inline !== undefined && inline !== "true" && inline !== "false") throw new UsageError(`invalid value "${inline}" for --${spec.name}: true or false`);
      set(spec, inline ?? "true");
      continue;
    }
    if (inline === undefined) {
      const next = argv[i + 1];
      if (next === undefined) throw new UsageError(`flag needs an argument: --${spec.name}`);
      inline = next;
      i++;
    }
    set(spec, inline);
  }
  return { positionals, flags };
}

export function flag(p: Parsed, name: string): string | undefined {
  return p.flags.get(name)?.at(-1);
}

export function bool(p: Parsed, name: string): boolean {
  return flag(p, name) === "true";
}

export function flags(p: Parsed, name: string): string[] {
  return p.flags.get(name) ?? [];
}

/** kubectl-style durations for --timeout: 30s, 5m, 1h, 1h30m; 0 = no limit. */
export function parseDuration(s: string): number {
  if (s === "0") return 0;
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h)/y;
  let total = 0;
  let pos = 0;
  while (pos < s.length) {
    re.lastIndex = pos;
    const m = re.exec(s);
    if (!m) throw new UsageError(`invalid duration "${s}": use e.g. 30s, 10m, 1h`);
    const n = Number(m[1]);
    total += n * { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 }[m[2] as "ms" | "s" | "m" | "h"];
    pos = re.lastIndex;
  }
  if (s.length === 0) throw new UsageError("empty duration");
  return total;
}
