export * from './target-driver';
export * from './backing';
export { LioDriver, DEFAULT_SAVECONFIG_PATH, type LioDriverOptions } from './lio/lio.driver';
export { ensureVolume, listVolumes, removeVolume } from './lvm/lvm.volumes';
export type { LogicalVolume } from './lvm/lvm.parse';
