// kubectl aksnap: status, run, restore, verify. Talks to the apiserver as the user (their kubeconfig,
// context and RBAC) through the project's KubeClient; output goes through `Io` so tests and the
// entry point share one code path.
import { KubeConfig } from "@kubernetes/client-node";
import { stringify } from "yaml";
import { KINDS, RestoreRequestKind, SnapshotScheduleKind } from "../crds/index.ts";
import { ANNOTATION_COMPLETION_PERCENT, ANNOTATION_RUN_REQUESTED_AT, ANNOTATION_VERIFIED } from "../crds/names.ts";
import { KubeClient, type KubeObject, type ResourceType } from "../kube/client.ts";
import { isKubeError } from "../kube/errors.ts";
import { bool, flag, parseArgs, parseDuration, UsageError, type FlagSpec, type Parsed } from "./args.ts";
import { HELP, helpFor } from "./help.ts";
import { restoreFromFlags, RESTORE_FLAGS } from "./restore.ts";
import { cell, humanAge, jsonPath, renderTable } from "./table.ts";

export interface Io {
  out(s: string): void;
  err(s: string): void;
  now(): number;
  sleep(ms: number): Promise<void>;
  env: Record<string, string | undefined>;
}

export const ANNOTATION_VERIFICATION = "aksnap.io/verification";
export const ANNOTATION_VERIFICATION_REASON = "aksnap.io/verification-reason";
export const LABEL_VERIFY = "aksnap.io/verify";

const volumeSnapshots: ResourceType = { group: "snapshot.storage.k8s.io", version: "v1", plural: "volumesnapshots", kind: "VolumeSnapshot", namespaced: true };

const GLOBAL_FLAGS: FlagSpec[] = [
  { name: "kubeconfig" },
  { name: "context" },
  { name: "namespace", short: "n" },
  { name: "all-namespaces", short: "A", boolean: true },
  { name: "output", short: "o" },
  { name: "help", short: "h", boolean: true },
  { name: "timeout" },
  { name: "wait", boolean: true },
  { name: "poll-interval" },
  ...RESTORE_FLAGS,
];

type Output = "table" | "wide" | "json" | "yaml";

interface Ctx {
  io: Io;
  client: KubeClient;
  namespace: string;
  allNamespaces: boolean;
  output: Output;
  timeoutMs: number;
  pollMs: number;
  args: Parsed;
}

/** Runs one invocation; resolves with the exit code (0 ok, 1 what was followed failed or an error, 2 usage). */
export async function main(argv: readonly string[], io: Io): Promise<number> {
  let args: Parsed;
  try {
    args = parseArgs(argv, GLOBAL_FLAGS);
  } catch (e) {
    io.err(`error: ${(e as Error).message}\nSee 'kubectl aksnap --help' for usage.\n`);
    return 2;
  }
  const [command, ...rest] = args.positionals;
  if (command === undefined || command === "help" || (bool(args, "help") && command === undefined)) {
    io.out(HELP);
    return 0;
  }
  if (bool(args, "help")) {
    const h = helpFor(command);
    if (!h) {
      io.err(`error: unknown command "${command}" for "kubectl aksnap"\n`);
      return 2;
    }
    io.out(h);
    return 0;
  }
  if (helpFor(command) === undefined) {
    io.err(`error: unknown command "${command}" for "kubectl aksnap"\nRun 'kubectl aksnap --help' for usage.\n`);
    return 2;
  }
  try {
    const ctx = context(args, io);
    switch (command) {
      case "status":
        return await status(ctx, rest);
      case "run":
        return await run(ctx, rest);
      case "restore":
        return await restore(ctx, rest);
      case "verify":
        return await verify(ctx, rest);
    }
    throw new UsageError(`unknown command "${command}"`);
  } catch (e) {
    if (e instanceof UsageError) {
      io.err(`error: ${e.message}\nSee 'kubectl aksnap ${command} --help' for usage.\n`);
      return 2;
    }
    io.err(`Error from server: ${describe(e)}\n`);
    return 1;
  }
}

function describe(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function context(args: Parsed, io: Io): Ctx {
  const output = flag(args, "output") ?? "table";
  if (output !== "table" && output !== "wide" && output !== "json" && output !== "yaml") {
    throw new UsageError(`unable to match a printer suitable for the output format "${output}", allowed formats are: json,yaml,wide`);
  }
  const kc = new KubeConfig();
  const file = flag(args, "kubeconfig");
  if (file) kc.loadFromFile(file);
  else if (io.env.KUBECONFIG) {
    // KUBECONFIG may list several files, as kubectl merges them.
    const files = io.env.KUBECONFIG.split(":").filter((f) => f !== "");
    kc.loadFromFile(files[0] as string);
    for (const f of files.slice(1)) {
      const more = new KubeConfig();
      more.loadFromFile(f);
      kc.mergeConfig(more);
    }
  } else kc.loadFromDefault();
  const ctxName = flag(args, "context");
  if (ctxName) {
    if (!kc.getContextObject(ctxName)) throw new UsageError(`context "${ctxName}" does not exist in the kubeconfig`);
    kc.setCurrentContext(ctxName);
  }
  const namespace = flag(args, "namespace") ?? kc.getContextObject(kc.getCurrentContext())?.namespace ?? "default";
  return {
    io,
    client: new KubeClient(kc),
    namespace,
    allNamespaces: bool(args, "all-namespaces"),
    output,
    timeoutMs: parseDuration(flag(args, "timeout") ?? "0"),
    pollMs: parseDuration(flag(args, "poll-interval") ?? "2s"),
    args,
  };
}

/** Tables and progress lines, not a machine-readable document. */
const human = (ctx: Ctx): boolean => ctx.output === "table" || ctx.output === "wide";

function print(ctx: Ctx, obj: unknown): void {
  ctx.io.out(ctx.output === "json" ? `${JSON.stringify(obj, null, 4)}\n` : stringify(obj));
}

function onePositional(rest: readonly string[], what: string): string {
  if (rest.length !== 1) throw new UsageError(rest.length === 0 ? `${what} is required` : `exactly one ${what}, got ${rest.join(" ")}`);
  return rest[0] as string;
}

// ---- status ----

interface Section {
  rt: ResourceType;
  columns: Array<{ name: string; type: string; value: (o: KubeObject) => unknown }>;
}

/** The kinds' printer columns, as `kubectl get` shows them (`wide`: the priority-1 ones too). */
function aksnapSections(wide: boolean): Section[] {
  return KINDS.map((k) => ({
    rt: k.resource,
    columns: k.printerColumns.filter((c) => wide || (c.priority ?? 0) === 0).map((c) => ({ name: c.name.toUpperCase(), type: c.type, value: (o: KubeObject) => jsonPath(o, c.jsonPath) })),
  }));
}

const annotation = (key: string) => (o: KubeObject) => o.metadata.annotations?.[key];
const volumeSnapshotSection: Section = {
  rt: volumeSnapshots,
  columns: [
    { name: "READYTOUSE", type: "string", value: (o) => jsonPath(o, ".status.readyToUse") },
    { name: "VERIFIED", type: "string", value: annotation(ANNOTATION_VERIFIED) },
    { name: "STATE", type: "string", value: annotation(ANNOTATION_VERIFICATION) },
    { name: "REASON", type: "string", value: annotation(ANNOTATION_VERIFICATION_REASON) },
    { name: "COPY%", type: "string", value: annotation(ANNOTATION_COMPLETION_PERCENT) },
    { name: "AGE", type: "date", value: (o) => o.metadata.creationTimestamp },
  ],
};

async function status(ctx: Ctx, rest: readonly string[]): Promise<number> {
  if (rest.length > 0) throw new UsageError(`status takes no arguments, got ${rest.join(" ")}`);
  const ns = ctx.allNamespaces ? undefined : ctx.namespace;
  const items: KubeObject[] = [];
  const tables: string[] = [];
  let failed = false;
  for (const s of [...aksnapSections(ctx.output === "wide"), volumeSnapshotSection]) {
    let list: KubeObject[];
    try {
      list = (await ctx.client.list(s.rt, ns)).items;
    } catch (e) {
      // One kind the user may not list (RBAC) or that is not installed must not hide the others.
      if (isKubeError(e, "notFound") && s.rt === volumeSnapshots) continue;
      ctx.io.err(`warning: cannot list ${s.rt.plural}.${s.rt.group}: ${describe(e)}\n`);
      failed = true;
      continue;
    }
    list.sort((a, b) => `${a.metadata.namespace}/${a.metadata.name}`.localeCompare(`${b.metadata.namespace}/${b.metadata.name}`));
    for (const o of list) items.push({ ...o, apiVersion: o.apiVersion || `${s.rt.group}/${s.rt.version}`, kind: o.kind || s.rt.kind });
    if (list.length === 0) continue;
    const now = ctx.io.now();
    const headers = [...(ctx.allNamespaces ? ["NAMESPACE"] : []), "NAME", ...s.columns.map((c) => c.name)];
    const rows = list.map((o) => [
      ...(ctx.allNamespaces ? [o.metadata.namespace ?? ""] : []),
      `${s.rt.plural.replace(/s$/, "")}.${s.rt.group}/${o.metadata.name}`,
      ...s.columns.map((c) => cell(c.value(o), c.type, now)),
    ]);
    tables.push(renderTable(headers, rows));
  }
  if (ctx.output === "json" || ctx.output === "yaml") {
    print(ctx, { apiVersion: "v1", kind: "List", items, metadata: { resourceVersion: "" } });
  } else if (tables.length === 0) {
    ctx.io.err(ns ? `No aksnap resources found in ${ns} namespace.\n` : "No aksnap resources found.\n");
  } else {
    ctx.io.out(tables.join("\n"));
  }
  return failed ? 1 : 0;
}

// ---- following ----

/** Polls until `done` returns a value, printing each new progress line once; undefined on timeout. */
async function follow<T>(ctx: Ctx, step: () => Promise<{ done?: T; progress?: string }>): Promise<T | undefined> {
  const deadline = ctx.timeoutMs > 0 ? ctx.io.now() + ctx.timeoutMs : Infinity;
  let last: string | undefined;
  for (;;) {
    const r = await step();
    if (r.progress !== undefined && r.progress !== last && human(ctx)) {
      ctx.io.out(`${r.progress}\n`);
      last = r.progress;
    }
    if (r.done !== undefined) return r.done;
    if (ctx.io.now() >= deadline) return undefined;
    await ctx.io.sleep(Math.min(ctx.pollMs, Math.max(0, deadline - ctx.io.now())));
  }
}

function timedOut(ctx: Ctx, what: string): number {
  ctx.io.err(`error: timed out after ${humanAge(ctx.timeoutMs)} waiting for ${what}\n`);
  return 1;
}

// ---- run ----

interface ScheduleStatus {
  lastHandledRunRequest?: string;
  activeRuns?: Array<{ id: string; scheduledTime: string }>;
  lastRun?: { id: string; phase: string; targets: number; verified: number; failed: number; scheduledTime: string };
}

const scheduleRt = SnapshotScheduleKind.resource;

async function run(ctx: Ctx, rest: readonly string[]): Promise<number> {
  const name = onePositional(rest, "SCHEDULE");
  const token = `kubectl-aksnap-${new Date(ctx.io.now()).toISOString()}`;
  await ctx.client.mergePatch(scheduleRt, ctx.namespace, name, { metadata: { annotations: { [ANNOTATION_RUN_REQUESTED_AT]: token } } });
  if (human(ctx)) ctx.io.out(`snapshotschedule.aksnap.io/${name} run requested (${ANNOTATION_RUN_REQUESTED_AT}=${token})\n`);
  if (flag(ctx.args, "wait") === "false") return 0;
  let runId: string | undefined;
  const result = await follow(ctx, async () => {
    const o = await ctx.client.get(scheduleRt, ctx.namespace, name);
    const st = (o.status ?? {}) as ScheduleStatus;
    if (runId === undefined) {
      if (st.lastHandledRunRequest !== token) return { progress: "waiting for the operator to pick up the request" };
      // The run the request started: the newest one in flight, else (already finished) the last one.
      const newest = [...(st.activeRuns ?? [])].sort((a, b) => b.scheduledTime.localeCompare(a.scheduledTime))[0];
      runId = newest?.id ?? st.lastRun?.id;
      if (runId === undefined) return { progress: "request handled; waiting for the run to start" };
    }
    const active = (st.activeRuns ?? []).some((r) => r.id === runId);
    const lr = st.lastRun?.id === runId ? st.lastRun : undefined;
    const progress = lr ? `run ${runId}: ${lr.phase}, ${lr.verified}/${lr.targets} verified, ${lr.failed} failed` : `run ${runId}: Pending`;
    if (lr && !active && (lr.phase === "Succeeded" || lr.phase === "Failed")) return { done: { object: o, phase: lr.phase }, progress };
    return { progress };
  });
  if (!result) return timedOut(ctx, `run of snapshotschedule/${name}`);
  if (!human(ctx)) print(ctx, result.object);
  return result.phase === "Succeeded" ? 0 : 1;
}

// ---- restore ----

const restoreRt = RestoreRequestKind.resource;

async function restore(ctx: Ctx, rest: readonly string[]): Promise<number> {
  const name = onePositional(rest, "NAME");
  const obj = restoreFromFlags(name, ctx.namespace, ctx.args);
  await ctx.client.create(restoreRt, obj);
  if (human(ctx)) ctx.io.out(`restorerequest.aksnap.io/${name} created\n`);
  if (flag(ctx.args, "wait") === "false") {
    if (!human(ctx)) print(ctx, await ctx.client.get(restoreRt, ctx.namespace, name));
    return 0;
  }
  const result = await follow(ctx, async () => {
    const o = await ctx.client.get(restoreRt, ctx.namespace, name);
    const st = (o.status ?? {}) as { phase?: string; conditions?: Array<{ type: string; reason?: string; message?: string }> };
    const ready = st.conditions?.find((c) => c.type === "Ready");
    const progress = `restorerequest/${name}: ${st.phase ?? "Pending"}${ready?.reason ? ` (${ready.reason}${ready.message ? `: ${ready.message}` : ""})` : ""}`;
    return st.phase === "Succeeded" || st.phase === "Failed" ? { done: { object: o, phase: st.phase }, progress } : { progress };
  });
  if (!result) return timedOut(ctx, `restorerequest/${name}`);
  if (!human(ctx)) print(ctx, result.object);
  return result.phase === "Succeeded" ? 0 : 1;
}

// ---- verify ----

async function verify(ctx: Ctx, rest: readonly string[]): Promise<number> {
  const name = onePositional(rest, "VOLUMESNAPSHOT");
  await ctx.client.mergePatch(volumeSnapshots, ctx.namespace, name, { metadata: { labels: { [LABEL_VERIFY]: "true" } } });
  if (human(ctx)) ctx.io.out(`volumesnapshot.snapshot.storage.k8s.io/${name} labeled ${LABEL_VERIFY}=true\n`);
  if (!bool(ctx.args, "wait")) {
    if (!human(ctx)) print(ctx, await ctx.client.get(volumeSnapshots, ctx.namespace, name));
    return 0;
  }
  const result = await follow(ctx, async () => {
    const o = await ctx.client.get(volumeSnapshots, ctx.namespace, name);
    const a = o.metadata.annotations ?? {};
    const state = a[ANNOTATION_VERIFICATION];
    const progress = `volumesnapshot/${name}: ${state ?? "not checked yet"}${a[ANNOTATION_VERIFICATION_REASON] ? ` (${a[ANNOTATION_VERIFICATION_REASON]})` : ""}${a[ANNOTATION_COMPLETION_PERCENT] ? `, copy ${a[ANNOTATION_COMPLETION_PERCENT]}%` : ""}`;
    if (a[ANNOTATION_VERIFIED] === "true") return { done: { object: o, ok: true }, progress };
    // Failed and NotVerifiable will not turn into Verified by waiting.
    if (state === "Failed" || state === "NotVerifiable") return { done: { object: o, ok: false }, progress };
    return { progress };
  });
  if (!result) return timedOut(ctx, `volumesnapshot/${name} to be verified`);
  if (!human(ctx)) print(ctx, result.object);
  return result.ok ? 0 : 1;
}
