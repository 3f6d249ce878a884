// A gRPC client for the test CSI driver, typed loosely to the calls the tests make. It loads the same
// csi.proto as the driver (the spec module in the Go module cache: csiTools().proto).
import * as grpc from "@grpc/grpc-js";
import { loadCsiProto } from "./driver.ts";

export type CsiRequest = Record<string, unknown>;
export type CsiResponse = Record<string, unknown> & {
  snapshot?: { snapshot_id: string; source_volume_id: string; ready_to_use: boolean; size_bytes: number };
  volume?: { volume_id: string; capacity_bytes: number; content_source?: { snapshot?: { snapshot_id: string } } };
  entries?: Array<{ snapshot: { snapshot_id: string; source_volume_id: string; ready_to_use: boolean } }>;
  next_token?: string;
};

export interface CsiClient {
  call(service: "Identity" | "Controller" | "Node", method: string, req?: CsiRequest): Promise<CsiResponse>;
  close(): void;
}

export function csiClient(endpoint: string, protoPath: string): CsiClient {
  const csi = (loadCsiProto(protoPath)["csi"] as grpc.GrpcObject)["v1"] as grpc.GrpcObject;
  const clients = new Map<string, grpc.Client>();
  const get = (service: string): grpc.Client => {
    let c = clients.get(service);
    if (!c) {
      const Ctor = csi[service] as grpc.ServiceClientConstructor;
      c = new Ctor(endpoint, grpc.credentials.createInsecure());
      clients.set(service, c);
    }
    return c;
  };
  return {
    call: (service, method, req = {}) =>
      new Promise((res, rej) => {
        const c = get(service) as unknown as Record<string, (r: CsiRequest, cb: (e: grpc.ServiceError | null, v: CsiResponse) => void) => void>;
        const f = c[method];
        if (!f) return rej(new Error(`no method ${service}.${method}`));
        f.call(c, req, (e, v) => (e ? rej(e) : res(v)));
      }),
    close: () => {
      for (const c of clients.values()) c.close();
    },
  };
}

/** The gRPC status name of a rejected call, e.g. "ALREADY_EXISTS". */
export async function grpcCode(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return "OK";
  } catch (e) {
    const code = (e as { code?: number }).code;
    return code === undefined ? `not a gRPC error: ${String(e)}` : (grpc.status[code] ?? String(code));
  }
}
