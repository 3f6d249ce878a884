// Public surface of the test CSI driver (disk.csi.azure.com backed by the ARM emulator).
export { startCsiDriver, loadCsiProto } from "./driver.ts";
export type { CsiCall, CsiDriverOptions, RunningCsiDriver } from "./driver.ts";
export { startControlServer, setRemoteBehaviour } from "./control.ts";
export type { ControlServer } from "./control.ts";
export { DRIVER_NAME, SNAPSHOT_BEHAVIOURS, armName, isSnapshotBehaviour, snapshotReadiness } from "./logic.ts";
export type { SnapshotBehaviour } from "./logic.ts";
