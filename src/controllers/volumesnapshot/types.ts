// Where the CSI snapshot kinds live in the API (external-snapshotter v8, snapshot.storage.k8s.io/v1).
import type { ResourceType } from "../../kube/client.ts";

const group = "snapshot.storage.k8s.io";
export const volumeSnapshotType: ResourceType = { group, version: "v1", plural: "volumesnapshots", kind: "VolumeSnapshot", namespaced: true };
export const volumeSnapshotContentType: ResourceType = {
  group,
  version: "v1",
  plural: "volumesnapshotcontents",
  kind: "VolumeSnapshotContent",
  namespaced: false,
};
export const volumeSnapshotClassType: ResourceType = { group, version: "v1", plural: "volumesnapshotclasses", kind: "VolumeSnapshotClass", namespaced: false };
