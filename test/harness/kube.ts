// Test-side helpers for the real control plane started by global-setup.ts.
import { randomBytes } from "node:crypto";
import { inject } from "vitest";
import { KubeConfig } from "@kubernetes/client-node";
import { KubeClient, type ResourceType } from "../../src/kube/client.ts";

export const namespaceType: ResourceType = { group: "", version: "v1", plural: "namespaces", kind: "Namespace", namespaced: false };

export function kubeConfig(): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromFile(inject("kubeconfig"));
  return kc;
}

export function kubeClient(kc: KubeConfig = kubeConfig()): KubeClient {
  return new KubeClient(kc);
}

/** A fresh namespace per test keeps tests independent on the one shared control plane. */
export async function createNamespace(kc: KubeConfig, prefix: string): Promise<string> {
  const name = `${prefix.toLowerCase().replace(/[^a-z0-9-]/g, "-").slice(0, 40)}-${randomBytes(3).toString("hex")}`;
  await new KubeClient(kc).create(namespaceType, { apiVersion: "v1", kind: "Namespace", metadata: { name } });
  return name;
}

/** Polls fn until it returns a non-undefined value. */
export async function eventually<T>(fn: () => Promise<T | undefined>, what: string, timeoutMs = 30_000, everyMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ""}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
