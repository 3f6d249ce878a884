// Turns a WorldFixture into stored resources: the wire bodies ARM would return for resources that
// finished provisioning long ago (provisioningState Succeeded, read-only fields filled in).

import { randomUUID } from "node:crypto";
import { snapshotBody } from "./aks.ts";
import { formatResourceId, KIND_INFO, type ResourceRef } from "./ids.ts";
import type { JsonObject } from "./json.ts";
import type { ArmState } from "./state.ts";
import { DEFAULT_LATEST_NODE_IMAGES, type WorldFixture } from "./world.ts";

const SKU_TIER: Readonly<Record<string, string>> = {
  Standard_LRS: "Standard",
  Premium_LRS: "Premium",
  StandardSSD_LRS: "Standard",
  UltraSSD_LRS: "Ultra",
  Premium_ZRS: "Premium",
  StandardSSD_ZRS: "Standard",
  PremiumV2_LRS: "Premium",
  Standard_ZRS: "Standard",
};

function tags(t: Readonly<Record<string, string>> | undefined): JsonObject | undefined {
  return t === undefined ? undefined : { ...t };
}

function withTags(body: JsonObject, t: Readonly<Record<string, string>> | undefined): JsonObject {
  const tt = tags(t);
  if (tt !== undefined) body["tags"] = tt;
  return body;
}

export function seedWorld(state: ArmState, world: WorldFixture, now: number): void {
  state.latestNodeImages = { ...DEFAULT_LATEST_NODE_IMAGES, ...(world.latestNodeImageVersions ?? {}) };
  const created = new Date(now - 30 * 24 * 3600_000).toISOString();
  for (const sub of world.subscriptions) {
    state.addSubscription(sub.subscriptionId);
    for (const rg of sub.resourceGroups) {
      state.addResourceGroup(sub.subscriptionId, rg.name, rg.location);
      const base = { subscriptionId: sub.subscriptionId, resourceGroup: rg.name };

      for (const c of rg.managedClusters ?? []) {
        const cref: ResourceRef = { ...base, kind: "managedCluster", name: c.name };
        const cid = formatResourceId(cref);
        const loc = c.location.replace(/\s+/g, "").toLowerCase();
        const dnsPrefix = c.dnsPrefix ?? `${c.name}-dns`;
        state.upsert(
          cref,
          cid,
          withTags(
            {
              id: cid,
              name: c.name,
              type: KIND_INFO.managedCluster.armType,
              location: c.location,
              sku: { name: "Base", tier: "Standard" },
              identity: { type: "SystemAssigned", principalId: randomUUID(), tenantId: "72f988bf-86f1-41af-91ab-2d7cd011db47" },
              properties: {
                provisioningState: "Succeeded",
                powerState: { code: "Running" },
                kubernetesVersion: c.kubernetesVersion,
                currentKubernetesVersion: c.kubernetesVersion,
                dnsPrefix,
                fqdn: `${dnsPrefix}-${randomUUID().slice(0, 8)}.hcp.${loc}.azmk8s.io`,
                nodeResourceGroup: `MC_${rg.name}_${c.name}_${loc}`,
                enableRBAC: true,
                maxAgentPools: 100,
                networkProfile: {
                  networkPlugin: "azure",
                  networkPluginMode: "overlay",
                  podCidr: "10.244.0.0/16",
                  serviceCidr: "10.0.0.0/16",
                  dnsServiceIP: "10.0.0.10",
                  outboundType: "loadBalancer",
                  loadBalancerSku: "standard",
                },
              },
              eTag: randomUUID(),
              systemData: { createdAt: created, createdBy: "platform-team@example.com", createdByType: "User" },
            },
            c.tags,
          ),
        );
        for (const p of c.agentPools) {
          const pref: ResourceRef = { ...base, kind: "agentPool", cluster: c.name, name: p.name };
          const pid = formatResourceId(pref);
          const version = p.orchestratorVersion ?? c.kubernetesVersion;
          const props: JsonObject = {
            count: p.count,
            vmSize: p.vmSize,
            osType: p.osType ?? "Linux",
            osSKU: p.osSKU ?? "Ubuntu",
            mode: p.mode,
            type: "VirtualMachineScaleSets",
            maxPods: p.maxPods ?? 110,
            orchestratorVersion: version,
            currentOrchestratorVersion: version,
            nodeImageVersion: p.nodeImageVersion,
            enableFIPS: p.enableFIPS ?? false,
            provisioningState: "Succeeded",
            powerState: { code: "Running" },
            eTag: randomUUID(),
            upgradeSettings: { maxSurge: "10%" },
          };
          if (p.availabilityZones) props["availabilityZones"] = [...p.availabilityZones];
          if (p.nodeLabels) props["nodeLabels"] = { ...p.nodeLabels };
          state.upsert(pref, pid, { id: pid, name: p.name, type: KIND_INFO.agentPool.armType, properties: props });
        }
      }

      for (const d of rg.disks ?? []) {
        const dref: ResourceRef = { ...base, kind: "disk", name: d.name };
        const id = formatResourceId(dref);
        const props: JsonObject = {
          creationData: { createOption: "Empty" },
          diskSizeGB: d.diskSizeGB,
          diskSizeBytes: d.diskSizeGB * 1024 * 1024 * 1024,
          uniqueId: randomUUID(),
          timeCreated: created,
          provisioningState: "Succeeded",
          diskState: "Unattached",
          encryption: { type: "EncryptionAtRestWithPlatformKey" },
          networkAccessPolicy: "AllowAll",
          publicNetworkAccess: "Enabled",
        };
        if (d.osType) props["osType"] = d.osType;
        if (d.sku === "PremiumV2_LRS" || d.sku === "UltraSSD_LRS") {
          props["diskIOPSReadWrite"] = 3000;
          props["diskMBpsReadWrite"] = 125;
        }
        const body: JsonObject = { id, name: d.name, type: KIND_INFO.disk.armType, location: d.location, sku: { name: d.sku, tier: SKU_TIER[d.sku] ?? "Standard" }, properties: props };
        if (d.zones) body["zones"] = [...d.zones];
        state.upsert(dref, id, withTags(body, d.tags));
      }

      for (const s of rg.computeSnapshots ?? []) {
        const sref: ResourceRef = { ...base, kind: "computeSnapshot", name: s.name };
        const id = formatResourceId(sref);
        const source = state.getById(s.sourceDiskId);
        const sourceProps = source?.body["properties"];
        const size = s.diskSizeGB ?? (typeof sourceProps === "object" && sourceProps !== null && !Array.isArray(sourceProps) && typeof sourceProps["diskSizeGB"] === "number" ? sourceProps["diskSizeGB"] : 128);
        const incremental = s.incremental ?? true;
        const props: JsonObject = {
          creationData: { createOption: "Copy", sourceResourceId: s.sourceDiskId },
          diskSizeGB: size,
          diskSizeBytes: size * 1024 * 1024 * 1024,
          uniqueId: randomUUID(),
          timeCreated: s.timeCreated ?? created,
          provisioningState: "Succeeded",
          incremental,
          diskState: "Unattached",
          encryption: { type: "EncryptionAtRestWithPlatformKey" },
          networkAccessPolicy: "AllowAll",
          publicNetworkAccess: "Enabled",
        };
        if (incremental) props["incrementalSnapshotFamilyId"] = randomUUID();
        const res = state.upsert(
          sref,
          id,
          withTags({ id, name: s.name, type: KIND_INFO.computeSnapshot.armType, location: s.location, sku: { name: incremental ? "Standard_ZRS" : "Standard_LRS", tier: "Standard" }, properties: props }, s.tags),
        );
        if (s.completionPercent !== undefined || s.copyCompletionError !== undefined) {
          const pct = s.completionPercent ?? 0;
          res.progress = {
            startedAt: now,
            durationMs: 1,
            frozenPercent: pct,
            ...(s.copyCompletionError ? { error: { ...s.copyCompletionError, atPercent: pct } } : {}),
          };
        }
      }

      for (const a of rg.aksSnapshots ?? []) {
        const aref: ResourceRef = { ...base, kind: "aksSnapshot", name: a.name };
        const id = formatResourceId(aref);
        state.upsert(
          aref,
          id,
          snapshotBody({
            id,
            name: a.name,
            location: a.location,
            tags: tags(a.tags),
            sourceResourceId: a.sourceAgentPoolId,
            view: {
              kubernetesVersion: a.kubernetesVersion,
              nodeImageVersion: a.nodeImageVersion,
              osType: a.osType ?? "Linux",
              osSku: a.osSku ?? "Ubuntu",
              vmSize: a.vmSize,
              enableFIPS: a.enableFIPS ?? false,
            },
            systemData: { createdAt: a.createdAt ?? created, createdBy: "platform-team@example.com", createdByType: "User" },
          }),
        );
      }
    }
  }
}
