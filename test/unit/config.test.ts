import { describe, expect, it } from "vitest";
import { ConfigError, envNames, loadConfig, parseAllowedScopes, parseBindAddress, parseDuration, scopeAllowed, usage, type Config } from "../../src/config.ts";

const SUB = "00000000-0000-0000-0000-000000000001";
const SUB2 = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee";
// What the AKS workload-identity webhook injects; needed by the default credential mode.
const WI = { AZURE_CLIENT_ID: "11111111-1111-1111-1111-111111111111", AZURE_TENANT_ID: "22222222-2222-2222-2222-222222222222", AZURE_FEDERATED_TOKEN_FILE: "/var/run/secrets/azure/tokens/azure-identity-token" };
const BASE = { ...WI, POD_NAME: "aksnap-7d9c-abcde" };

function load(argv: string[], env: Record<string, string | undefined> = BASE): Config {
  const c = loadConfig(argv, env);
  if (c === "help") throw new Error("unexpected help");
  return c;
}

function failure(argv: string[], env: Record<string, string | undefined> = BASE): string {
  try {
    loadConfig(argv, env);
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as Error).message;
  }
  throw new Error("loadConfig did not throw");
}

describe("loadConfig defaults", () => {
  it("needs nothing but the workload-identity variables", () => {
    expect(load([])).toEqual({
      kubeconfig: undefined,
      defaultSubscriptionId: undefined,
      armEndpoint: "https://management.azure.com",
      armCaFile: undefined,
      credential: "workload-identity",
      staticToken: undefined,
      azure: { clientId: WI.AZURE_CLIENT_ID, tenantId: WI.AZURE_TENANT_ID, federatedTokenFile: WI.AZURE_FEDERATED_TOKEN_FILE },
      watchNamespaces: [],
      leaderElect: true,
      leaderElectionNamespace: "aksnap-system",
      leaderElectionId: "aksnap-leader",
      identity: "aksnap-7d9c-abcde",
      metricsAddr: ":8080",
      healthAddr: ":8081",
      workers: 16,
      armWriteQps: 10,
      armWriteBurst: 200,
      resyncPeriodMs: 3_600_000,
      stalledRecheckMs: 600_000,
      reconcileTimeoutMs: 60_000,
      verificationDeadlineMs: 7_200_000,
      verificationPollIntervalMs: 15_000,
      verifyAllVolumeSnapshots: false,
      allowedScopes: undefined,
      allowedRegions: undefined,
      restoreDeadlineMs: 21_600_000,
      logLevel: "info",
    } satisfies Config);
  });

  it("takes the leader-election namespace from POD_NAMESPACE (downward API)", () => {
    expect(load([], { ...BASE, POD_NAMESPACE: "ops" }).leaderElectionNamespace).toBe("ops");
    expect(load(["--leader-election-namespace", "x"], { ...BASE, POD_NAMESPACE: "ops" }).leaderElectionNamespace).toBe("x");
  });

  it("identity: POD_NAME, else HOSTNAME-pid, else aksnap-pid", () => {
    expect(load([], WI).identity).toBe(`aksnap-${process.pid}`);
    expect(load([], { ...WI, HOSTNAME: "node1" }).identity).toBe(`node1-${process.pid}`);
    expect(load([], { ...WI, HOSTNAME: "node1", POD_NAME: "p" }).identity).toBe("p");
  });

  it("keeps AZURE_AUTHORITY_HOST for sovereign clouds", () => {
    expect(load([], { ...BASE, AZURE_AUTHORITY_HOST: "https://login.microsoftonline.us/" }).azure.authorityHost).toBe("https://login.microsoftonline.us/");
  });

  it("--help", () => {
    expect(loadConfig(["--help"], {})).toBe("help");
  });

  it("usage lists every flag with its environment variable", () => {
    for (const [flag, env] of Object.entries(envNames)) expect(usage).toMatch(new RegExp(`--${flag}\\s+${env}\\b`));
  });
});

describe("loadConfig: flags beat env, env beats defaults", () => {
  // [flag, flag value, env value, read back, expected from flag, expected from env]
  it.each<[keyof typeof envNames, string, string, (c: Config) => unknown, unknown, unknown]>([
    ["kubeconfig", "/a", "/b", (c) => c.kubeconfig, "/a", "/b"],
    ["default-subscription-id", SUB, SUB2, (c) => c.defaultSubscriptionId, SUB, SUB2],
    ["arm-endpoint", "https://management.usgovcloudapi.net/", "https://localhost:8443", (c) => c.armEndpoint, "https://management.usgovcloudapi.net", "https://localhost:8443"],
    ["arm-ca-file", "/ca1.pem", "/ca2.pem", (c) => c.armCaFile, "/ca1.pem", "/ca2.pem"],
    ["credential", "default", "workload-identity", (c) => c.credential, "default", "workload-identity"],
    ["watch-namespaces", "a, b ,,c", "x", (c) => c.watchNamespaces, ["a", "b", "c"], ["x"]],
    ["leader-elect", "false", "0", (c) => c.leaderElect, false, false],
    ["leader-election-namespace", "ns1", "ns2", (c) => c.leaderElectionNamespace, "ns1", "ns2"],
    ["leader-election-id", "id1", "id2", (c) => c.leaderElectionId, "id1", "id2"],
    ["identity", "me", "you", (c) => c.identity, "me", "you"],
    ["metrics-bind-address", "127.0.0.1:9090", "0", (c) => c.metricsAddr, "127.0.0.1:9090", "0"],
    ["health-probe-bind-address", ":9091", ":9092", (c) => c.healthAddr, ":9091", ":9092"],
    ["workers", "8", "2", (c) => c.workers, 8, 2],
    ["arm-write-qps", "0.5", "20", (c) => c.armWriteQps, 0.5, 20],
    ["arm-write-burst", "10", "300", (c) => c.armWriteBurst, 10, 300],
    ["resync-period", "30m", "2h", (c) => c.resyncPeriodMs, 1_800_000, 7_200_000],
    ["stalled-recheck-period", "1m", "90s", (c) => c.stalledRecheckMs, 60_000, 90_000],
    ["reconcile-timeout", "30s", "2m", (c) => c.reconcileTimeoutMs, 30_000, 120_000],
    ["verification-deadline", "1d", "45m", (c) => c.verificationDeadlineMs, 86_400_000, 2_700_000],
    ["verification-poll-interval", "30s", "1m", (c) => c.verificationPollIntervalMs, 30_000, 60_000],
    ["allowed-scopes", `a=/subscriptions/${SUB}`, `b=/subscriptions/${SUB2}`, (c) => [...(c.allowedScopes?.byNamespace.entries() ?? [])], [["a", [`/subscriptions/${SUB}`]]], [["b", [`/subscriptions/${SUB2}`]]]],
    ["restore-deadline", "90m", "1d", (c) => c.restoreDeadlineMs, 5_400_000, 86_400_000],
    ["allowed-regions", "westeurope, northeurope", "eastus2", (c) => c.allowedRegions, ["westeurope", "northeurope"], ["eastus2"]],
    ["log-level", "debug", "warn", (c) => c.logLevel, "debug", "warn"],
  ])("--%s", (flag, fromFlag, fromEnv, read, wantFlag, wantEnv) => {
    const env = { ...BASE, [envNames[flag]]: fromEnv };
    expect(read(load([`--${flag}`, fromFlag], env))).toEqual(wantFlag);
    expect(read(load([`--${flag}=${fromFlag}`], env))).toEqual(wantFlag);
    expect(read(load([], env))).toEqual(wantEnv);
  });

  it("an empty environment variable counts as unset", () => {
    expect(load([], { ...BASE, AKSNAP_WORKERS: "", AKSNAP_ARM_ENDPOINT: "" })).toMatchObject({ workers: 16, armEndpoint: "https://management.azure.com" });
  });

  it("an empty flag is a value, and validated", () => {
    expect(failure(["--workers="])).toBe('workers: "" must be a whole number ≥ 1');
  });

  it.each([
    ["true", true],
    ["TRUE", true],
    ["1", true],
    ["yes", true],
    ["false", false],
    ["No", false],
    ["0", false],
  ])("leader-elect %s → %s", (v, want) => {
    expect(load(["--leader-elect", v]).leaderElect).toBe(want);
  });
});

describe("loadConfig: credentials", () => {
  it("static-token reads the token from AKSNAP_STATIC_TOKEN only (never argv)", () => {
    const c = load(["--credential", "static-token"], { AKSNAP_STATIC_TOKEN: "t0k3n" });
    expect(c).toMatchObject({ credential: "static-token", staticToken: "t0k3n" });
  });

  it("default (DefaultAzureCredential) needs no AZURE_* variables", () => {
    expect(load(["--credential", "default"], {}).credential).toBe("default");
  });

  it.each<[string, Record<string, string>, string]>([
    ["all three", {}, "AZURE_CLIENT_ID, AZURE_TENANT_ID, AZURE_FEDERATED_TOKEN_FILE"],
    ["the token file", { AZURE_CLIENT_ID: "c", AZURE_TENANT_ID: "t" }, "AZURE_FEDERATED_TOKEN_FILE"],
    ["client and tenant", { AZURE_FEDERATED_TOKEN_FILE: "/f" }, "AZURE_CLIENT_ID, AZURE_TENANT_ID"],
    ["an empty client id", { ...WI, AZURE_CLIENT_ID: "" }, "AZURE_CLIENT_ID"],
  ])("workload-identity without %s lists what is missing and how to get it", (_n, env, missing) => {
    expect(failure([], env)).toBe(
      `credential workload-identity needs ${missing} (injected by the AKS workload-identity webhook: label the pod azure.workload.identity/use: "true" and annotate its ServiceAccount with azure.workload.identity/client-id), or use --credential default`,
    );
  });
});

describe("loadConfig: every validation error", () => {
  it.each<[string, string[], Record<string, string | undefined>, string]>([
    ["subscription not a GUID", ["--default-subscription-id", "my-sub"], BASE, 'default-subscription-id: "my-sub" is not a subscription GUID'],
    ["subscription GUID with braces", ["--default-subscription-id", `{${SUB}}`], BASE, `default-subscription-id: "{${SUB}}" is not a subscription GUID`],
    ["subscription from env", [], { ...BASE, AKSNAP_DEFAULT_SUBSCRIPTION_ID: "x" }, 'default-subscription-id: "x" is not a subscription GUID'],
    ["http endpoint", ["--arm-endpoint", "http://localhost:8080"], BASE, 'arm-endpoint: "http://localhost:8080" must be https (the Azure SDK refuses bearer tokens over http)'],
    ["endpoint not a URL", ["--arm-endpoint", "management.azure.com"], BASE, 'arm-endpoint: "management.azure.com" is not a URL'],
    ["unknown credential", ["--credential", "msi"], BASE, 'credential: "msi" must be workload-identity, default or static-token'],
    ["static-token without the token", ["--credential", "static-token"], BASE, "credential static-token needs AKSNAP_STATIC_TOKEN (only for the local ARM emulator)"],
    ["static-token with an empty token", ["--credential", "static-token"], { AKSNAP_STATIC_TOKEN: "" }, "credential static-token needs AKSNAP_STATIC_TOKEN (only for the local ARM emulator)"],
    ["bad log level", ["--log-level", "verbose"], BASE, 'log-level: "verbose" must be trace, debug, info, warn or error'],
    ["bad bool", ["--leader-elect", "on"], BASE, 'leader-elect: "on" must be true or false'],
    ["workers 0", ["--workers", "0"], BASE, 'workers: "0" must be a whole number ≥ 1'],
    ["workers fractional", ["--workers", "1.5"], BASE, 'workers: "1.5" must be a whole number ≥ 1'],
    ["workers negative", ["--workers=-2"], BASE, 'workers: "-2" must be a whole number ≥ 1'],
    ["burst not a number", ["--arm-write-burst", "lots"], BASE, 'arm-write-burst: "lots" must be a whole number ≥ 1'],
    ["qps 0", ["--arm-write-qps", "0"], BASE, 'arm-write-qps: "0" must be a number > 0'],
    ["qps negative", ["--arm-write-qps=-1"], BASE, 'arm-write-qps: "-1" must be a number > 0'],
    ["qps not a number", ["--arm-write-qps", "fast"], BASE, 'arm-write-qps: "fast" must be a number > 0'],
    ["qps infinite", ["--arm-write-qps", "Infinity"], BASE, 'arm-write-qps: "Infinity" must be a number > 0'],
    ["resync without unit", ["--resync-period", "3600"], BASE, 'resync-period: "3600" is not a duration (use e.g. 90s, 5m, 1h, 1d)'],
    ["stalled recheck with a space", ["--stalled-recheck-period", "1h 30m"], BASE, 'stalled-recheck-period: "1h 30m" is not a duration (use e.g. 90s, 5m, 1h, 1d)'],
    ["deadline negative", ["--verification-deadline=-1h"], BASE, 'verification-deadline: "-1h" is not a duration (use e.g. 90s, 5m, 1h, 1d)'],
    ["verify-all not a boolean", ["--verify-all-volume-snapshots=maybe"], BASE, 'verify-all-volume-snapshots: "maybe" must be true or false'],
    ["bad allowed scope", ["--allowed-scopes", "ns=/subscriptions/abc"], BASE, 'allowed-scopes: "/subscriptions/abc" is not /subscriptions/<guid> or /subscriptions/<guid>/resourceGroups/<name>'],
    ["region not canonical", ["--allowed-regions", "West Europe"], BASE, 'allowed-regions: "West Europe" is not a canonical Azure region name such as westeurope'],
    ["regions empty", ["--allowed-regions", " , "], BASE, "allowed-regions: empty; omit the flag to allow every region"],
    ["unknown flag", ["--resync", "1h"], BASE, "Unknown option '--resync'"],
    ["positional argument", ["run"], BASE, "Unexpected argument 'run'"],
  ])("%s", (_n, argv, env, message) => {
    expect(failure(argv, env)).toContain(message);
  });

  // A zero period would requeue every Ready object at once, forever: a hot loop of ARM GETs.
  it.each([
    ["resync-period", "0s"],
    ["stalled-recheck-period", "0m"],
    ["reconcile-timeout", "0s"],
    ["verification-deadline", "0h"],
    ["verification-poll-interval", "0s"],
  ])("--%s %s is refused (must be > 0)", (flag, v) => {
    expect(failure([`--${flag}`, v])).toBe(`${flag}: "${v}" must be longer than 0`);
  });
});

describe("parseDuration", () => {
  it.each([
    ["500ms", 500],
    ["90s", 90_000],
    ["5m", 300_000],
    ["1h", 3_600_000],
    ["2d", 172_800_000],
    ["1h30m", 5_400_000],
    ["1d2h3m4s5ms", 93_784_005],
    ["1.5h", 5_400_000],
    ["0.5s", 500],
    ["0s", 0],
  ])("%s = %d ms", (s, ms) => {
    expect(parseDuration(s, "x")).toBe(ms);
  });

  it.each(["", "5", "h", "5x", "5M", "1h 30m", " 1h", "1h ", "-5m", "+5m", "1e3s", ".5h", "1h-", "1w", "PT1H"])("rejects %j naming the setting", (s) => {
    expect(() => parseDuration(s, "resync-period")).toThrow(new ConfigError(`resync-period: "${s}" is not a duration (use e.g. 90s, 5m, 1h, 1d)`));
  });
});

describe("parseAllowedScopes", () => {
  const rg = (sub: string, name: string): string => `/subscriptions/${sub}/resourceGroups/${name}`;

  it("reads namespaces, several scopes each, and the * fallback", () => {
    const s = parseAllowedScopes(`ns-a=${rg(SUB, "rg1")},/subscriptions/${SUB2};*=/subscriptions/${SUB}`);
    expect([...s.byNamespace.entries()]).toEqual([
      ["ns-a", [rg(SUB, "rg1"), `/subscriptions/${SUB2}`]],
      ["*", [`/subscriptions/${SUB}`]],
    ]);
  });

  it("trims whitespace and trailing slashes, skips empty parts, merges a repeated namespace", () => {
    const s = parseAllowedScopes(` ns-a = ${rg(SUB, "rg1")}/ , ;; ns-a=/subscriptions/${SUB2}/ ;`);
    expect([...s.byNamespace.entries()]).toEqual([["ns-a", [rg(SUB, "rg1"), `/subscriptions/${SUB2}`]]]);
  });

  it("accepts ARM's resource-group name characters and casing", () => {
    const s = parseAllowedScopes(`a=/SUBSCRIPTIONS/${SUB.toUpperCase()}/resourcegroups/My_RG.(prod)-1`);
    expect(s.byNamespace.get("a")).toEqual([`/SUBSCRIPTIONS/${SUB.toUpperCase()}/resourcegroups/My_RG.(prod)-1`]);
  });

  it("a namespace with no scopes may touch nothing (and does not fall back to *)", () => {
    const s = parseAllowedScopes(`locked=;*=/subscriptions/${SUB}`);
    expect(s.byNamespace.get("locked")).toEqual([]);
    expect(scopeAllowed(s, "locked", `${rg(SUB, "rg")}/providers/Microsoft.ContainerService/snapshots/s`)).toBe(false);
  });

  it.each<[string, string, string]>([
    ["no =", `/subscriptions/${SUB}`, `allowed-scopes: "/subscriptions/${SUB}" must look like namespace=/subscriptions/<id>[/resourceGroups/<rg>][,...]`],
    ["no namespace", `=/subscriptions/${SUB}`, `allowed-scopes: "=/subscriptions/${SUB}" must look like namespace=/subscriptions/<id>[/resourceGroups/<rg>][,...]`],
    ["not a GUID", "a=/subscriptions/prod", 'allowed-scopes: "/subscriptions/prod" is not /subscriptions/<guid> or /subscriptions/<guid>/resourceGroups/<name>'],
    ["a resource, not a scope", `a=${rg(SUB, "rg")}/providers/Microsoft.ContainerService/snapshots/s`, `allowed-scopes: "${rg(SUB, "rg")}/providers/Microsoft.ContainerService/snapshots/s" is not /subscriptions/<guid> or /subscriptions/<guid>/resourceGroups/<name>`],
    ["bad resource-group characters", `a=${rg(SUB, "rg 1")}`, `allowed-scopes: "${rg(SUB, "rg 1")}" is not /subscriptions/<guid> or /subscriptions/<guid>/resourceGroups/<name>`],
    ["resource-group name too long", `a=${rg(SUB, "r".repeat(91))}`, `allowed-scopes: "${rg(SUB, "r".repeat(91))}" is not /subscriptions/<guid> or /subscriptions/<guid>/resourceGroups/<name>`],
    ["relative", `a=subscriptions/${SUB}`, `allowed-scopes: "subscriptions/${SUB}" is not /subscriptions/<guid> or /subscriptions/<guid>/resourceGroups/<name>`],
  ])("rejects %s", (_n, input, message) => {
    expect(() => parseAllowedScopes(input)).toThrow(new ConfigError(message));
  });
});

describe("scopeAllowed", () => {
  const snap = (sub: string, group: string, name = "s1"): string => `/subscriptions/${sub}/resourceGroups/${group}/providers/Microsoft.ContainerService/snapshots/${name}`;
  const scopes = parseAllowedScopes(`team-a=/subscriptions/${SUB}/resourceGroups/rg-a;team-b=/subscriptions/${SUB2};*=/subscriptions/${SUB}/resourceGroups/shared`);

  it("allows everything when no scopes are configured (single tenant)", () => {
    expect(scopeAllowed(undefined, "any", snap(SUB2, "whatever"))).toBe(true);
  });

  it.each<[string, string, string, boolean]>([
    ["resource-group scope: inside", "team-a", snap(SUB, "rg-a"), true],
    ["resource-group scope: another group", "team-a", snap(SUB, "rg-b"), false],
    ["resource-group scope: a group whose name extends it", "team-a", snap(SUB, "rg-a2"), false],
    ["resource-group scope: same group name in another subscription", "team-a", snap(SUB2, "rg-a"), false],
    ["resource-group scope: the group itself", "team-a", `/subscriptions/${SUB}/resourceGroups/rg-a`, true],
    ["resource-group scope: ARM's lower-case spelling", "team-a", snap(SUB, "rg-a").replace("resourceGroups", "resourcegroups"), true],
    ["resource-group scope: other name casing", "team-a", snap(SUB, "RG-A"), true],
    ["subscription scope: any group", "team-b", snap(SUB2, "anything"), true],
    ["subscription scope: upper-case GUID", "team-b", snap(SUB2.toUpperCase(), "anything"), true],
    ["subscription scope: another subscription", "team-b", snap(SUB, "rg-a"), false],
    ["unlisted namespace falls back to *", "team-c", snap(SUB, "shared"), true],
    ["unlisted namespace, outside *", "team-c", snap(SUB, "rg-a"), false],
    ["a listed namespace does not also get *", "team-a", snap(SUB, "shared"), false],
  ])("%s", (_n, ns, id, want) => {
    expect(scopeAllowed(scopes, ns, id)).toBe(want);
  });

  it("without a * entry an unlisted namespace may touch nothing", () => {
    expect(scopeAllowed(parseAllowedScopes(`team-a=/subscriptions/${SUB}`), "team-c", snap(SUB, "rg"))).toBe(false);
  });
});

describe("parseBindAddress", () => {
  it.each<[string, { host: string; port: number } | undefined]>([
    ["0", undefined],
    [":8080", { host: "0.0.0.0", port: 8080 }],
    ["127.0.0.1:9090", { host: "127.0.0.1", port: 9090 }],
    ["localhost:0", { host: "localhost", port: 0 }],
    ["0.0.0.0:65535", { host: "0.0.0.0", port: 65535 }],
    ["8080", { host: "0.0.0.0", port: 8080 }],
    // Go's host:port form, as controller-runtime takes it; Node's listen() wants the bare address.
    ["[::1]:8080", { host: "::1", port: 8080 }],
    ["[::]:8081", { host: "::", port: 8081 }],
  ])("%s", (addr, want) => {
    expect(parseBindAddress(addr)).toEqual(want);
  });

  it.each([":http", "host:65536", "host:-1", ":80.5", "host:", ":", ""])("rejects %j", (addr) => {
    expect(() => parseBindAddress(addr)).toThrow(new ConfigError(`bind address "${addr}" has no valid port`));
  });
});
