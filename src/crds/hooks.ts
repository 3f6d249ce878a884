// Hooks: a command run in users' pods through the apiserver's pods/exec. One item shape and one
// outcome shape, shared by SnapshotSchedule (pre and post hooks around a run's snapshots) and
// RestoreRequest (post hooks once the restored PVCs are there); each kind words the descriptions
// for where its hooks run and what onError Fail does there.
import Type, { type Static } from "typebox";
import { ObjectName, PodSelectorSchema } from "./common.ts";
import { matching, stringEnum, withRules } from "./schema.ts";

export const DEFAULT_HOOK_TIMEOUT_SECONDS = 30;
export const MAX_HOOK_TIMEOUT_SECONDS = 600;

/** One hook item; `where` says which pods it runs in, `onFail` what onError Fail does in this kind. */
export const hookSchema = (opts: { where: string; onFail: string }) =>
  Type.Object(
    {
      name: withRules(Type.String({ minLength: 1, maxLength: 63, description: "Names the hook in status and Events; unique within its list." }), [
        matching("^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", "hook name must be a DNS label: lower-case letters, digits and '-'"),
      ]),
      podSelector: PodSelectorSchema,
      container: Type.Optional(ObjectName("Container to run the command in. Default: the pod's first container.")),
      command: Type.Array(Type.String({ maxLength: 4096 }), {
        minItems: 1,
        maxItems: 64,
        description: 'argv, run without a shell (e.g. ["fsfreeze", "--freeze", "/data"]); a shell only if you name one: ["sh", "-c", "..."].',
      }),
      timeoutSeconds: Type.Optional(
        Type.Integer({
          minimum: 1,
          maximum: MAX_HOOK_TIMEOUT_SECONDS,
          default: DEFAULT_HOOK_TIMEOUT_SECONDS,
          description: "The exec is abandoned after this long and the hook counts as TimedOut.",
        }),
      ),
      onError: Type.Optional(
        stringEnum(["Continue", "Fail"] as const, {
          default: "Fail",
          description: `Fail: ${opts.onFail} Continue: the failure is recorded and the rest goes on.`,
        }),
      ),
    },
    { description: `A command run in ${opts.where}, through the apiserver's pods/exec.` },
  );
export type Hook = Static<ReturnType<typeof hookSchema>>;

/** A list of hooks (1-16, names unique), run in order. */
export const hookList = <S extends ReturnType<typeof hookSchema>>(item: S, when: string) =>
  withRules(Type.Array(item, { minItems: 1, maxItems: 16, description: `Hooks run in order ${when}.` }), [
    {
      rule: "self.all(a, self.exists_one(b, b.name == a.name))",
      message: "hook names must be unique within a list",
      check: (xs) => xs.every((a) => xs.filter((b) => b.name === a.name).length === 1),
    },
  ]);

/** The status keeps this many hook outcomes (the newest). */
export const MAX_HOOK_RESULTS = 256;

export const HookResultSchema = Type.Object(
  {
    name: Type.String({ maxLength: 63 }),
    phase: stringEnum(["pre", "post"] as const, { description: "pre: before a run's snapshots. post: after them, or after a restore." }),
    pod: Type.Optional(Type.String({ maxLength: 253, description: "The pod the command ran in (absent for NoPods)." })),
    container: Type.Optional(Type.String({ maxLength: 63 })),
    exitCode: Type.Optional(Type.Integer({ description: "The command's exit code, when it exited." })),
    outputTail: Type.Optional(Type.String({ maxLength: 2048, description: "The last lines (up to 20) of stdout and stderr." })),
    durationMs: Type.Integer({ minimum: 0 }),
    result: stringEnum(["Succeeded", "Failed", "TimedOut", "NoPods"] as const, { description: "NoPods: the selector matched no running pod (a failure)." }),
    message: Type.Optional(Type.String({ maxLength: 1024 })),
  },
  { description: "One hook's outcome in one pod." },
);
export type HookResult = Static<typeof HookResultSchema>;
