// The regex shapes the apiserver checks (via CEL matches) and the small helpers over them.
import { describe, expect, it } from "vitest";
import { CRON_REGEX, DURATION_REGEX, RE, RE_ID, RUN_REF_REGEX, TIME_ZONE_REGEX, parseDuration, runId } from "../../../src/crds/index.ts";

const re = (s: string) => new RegExp(s, "u");

describe("cron shape", () => {
  it.each([
    "0 2 * * *",
    "*/15 * * * *",
    "0 */6 * * *",
    "30 3 * * 1-5",
    "5,35 9-17 * * MON-FRI",
    "0 0 1 * *",
    "0 0 1 JAN,JUL *",
    "0 0 ? * sun",
    "0 0 31 12 7",
    "00 09 01 01 0",
    "0 0 1-15/2 * *",
    "0\t2 * * *",
    "@hourly",
    "@daily",
    "@weekly",
    "@monthly",
    "@yearly",
  ])("accepts %j", (s) => expect(re(CRON_REGEX).test(s)).toBe(true));

  it.each([
    "",
    "0 2 * *",
    "0 0 2 * * *",
    "60 * * * *",
    "* 24 * * *",
    "0 0 0 * *",
    "0 0 32 * *",
    "0 0 * 13 *",
    "0 0 * 0 *",
    "0 0 * * 8",
    "*-5 * * * *",
    "@every 1h",
    "@reboot",
    "@annually",
    "TZ=UTC 0 2 * * *",
    "CRON_TZ=Europe/Amsterdam 0 2 * * *",
    " 0 2 * * *",
    "0 2 * * * ",
    "0 2 * * MONDAY",
    "L * * * *",
  ])("rejects %j", (s) => expect(re(CRON_REGEX).test(s)).toBe(false));
});

describe("time-zone shape", () => {
  it.each(["UTC", "Europe/Amsterdam", "America/Argentina/Buenos_Aires", "Etc/GMT+5", "EST5EDT", "America/Port-au-Prince", "US/Pacific"])("accepts %s", (s) =>
    expect(re(TIME_ZONE_REGEX).test(s)).toBe(true),
  );
  it.each(["", "W. Europe Standard Time", "Europe/", "/Europe", "../etc/passwd", "Europe Amsterdam", "+01:00", "a/b/c/d"])("rejects %j", (s) =>
    expect(re(TIME_ZONE_REGEX).test(s)).toBe(false),
  );
  it("accepts every zone this Node knows", () => {
    for (const z of Intl.supportedValuesOf("timeZone")) expect(re(TIME_ZONE_REGEX).test(z), z).toBe(true);
  });
});

describe("durations", () => {
  it.each([
    ["90m", 90 * 60_000],
    ["72h", 72 * 3_600_000],
    ["30d", 30 * 86_400_000],
    ["2w", 14 * 86_400_000],
    ["1d12h", 36 * 3_600_000],
    ["0h", 0],
  ] as const)("%s = %d ms", (s, ms) => expect(parseDuration(s)).toBe(ms));

  it.each(["", "30", "30 days", "1.5h", "30s", "-1d", "1y", "1d1d1d1d1d"])("rejects %j", (s) => {
    expect(parseDuration(s)).toBeUndefined();
    expect(re(DURATION_REGEX).test(s)).toBe(false);
  });
});

describe("run ids", () => {
  it("are the scheduled time in UTC, YYYYMMDDHHmm", () => {
    expect(runId(new Date("2026-11-23T02:00:00+01:00"))).toBe("202611230100");
    expect(runId(new Date("2026-01-05T09:07:59.999Z"))).toBe("202601050907");
  });
  it.each([["latest", true], ["202611230200", true], ["20261123020", false], ["Latest", false], ["2026-11-23", false]] as const)("%s → %s", (s, ok) =>
    expect(re(RUN_REF_REGEX).test(s)).toBe(ok),
  );
});

describe("Azure names and ids", () => {
  const pool = "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg-aks-demo/providers/Microsoft.ContainerService/managedClusters/aks-demo/agentPools/userpool";
  it.each([
    [pool, true],
    [pool.replace("resourceGroups", "resourcegroups").replace("agentPools", "agentpools").replace("Microsoft.ContainerService", "microsoft.containerservice"), true],
    [pool.replace("rg-aks-demo", "MC_rg-aks-demo_aks-demo_westeurope"), true],
    [pool.replace("rg-aks-demo", "rg-äks(1)"), true],
    [pool.replace("/agentPools/userpool", ""), false],
    [pool.replace("userpool", "UserPool"), false],
    [pool.replace("userpool", "userpool12345"), false],
    [pool.replace("rg-aks-demo", "rg."), false],
    [pool.replace("00000000-0000-0000-0000-000000000001", "sub"), false],
    [pool.replace("Microsoft.ContainerService", "MicrosoftXContainerService"), false],
    [`${pool}/extra`, false],
  ] as const)("agent pool id %s → %s", (id, ok) => expect(re(RE_ID.agentPool).test(id)).toBe(ok));

  it.each([
    [RE.resourceGroup, "rg-aks-demo", true],
    [RE.resourceGroup, "a", true],
    [RE.resourceGroup, "rg.", false],
    [RE.resourceGroup, "r".repeat(90), true],
    [RE.resourceGroup, "r".repeat(91), false],
    [RE.resourceGroup, "rg aks", false],
    [RE.armName, "a", true],
    [RE.armName, "aks-demo_1", true],
    [RE.armName, "-aks", false],
    [RE.armName, "a".repeat(63), true],
    [RE.armName, "a".repeat(64), false],
    [RE.agentPoolName, "systempool", true],
    [RE.agentPoolName, "1pool", false],
    [RE.location, "westeurope", true],
    [RE.location, "West Europe", false],
    [RE.subscriptionId, "00000000-0000-0000-0000-000000000001", true],
    [RE.subscriptionId, "00000000000000000000000000000001", false],
    [RE.dnsSubdomain, "data-postgres-0", true],
    [RE.dnsSubdomain, "a.b-c", true],
    [RE.dnsSubdomain, "Data", false],
  ] as const)("%s ~ %j → %s", (regex, s, ok) => expect(re(regex).test(s)).toBe(ok));
});
