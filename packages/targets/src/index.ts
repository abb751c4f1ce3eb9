export * from './target-driver';
export * from './backing';
export { LioDriver, DEFAULT_SAVECONFIG_PATH, type LioDriverOptions } from './lio/lio.driver';
export { ensureVolume, listVolumes, removeVolume } from './lvm/lvm.volumes';
export type { LogicalVolume } from './lvm/lvm.parse';
export { TgtDriver, type TgtDriverOptions } from './tgt/tgt.driver';
export { TgtadmClient, type TgtadmClientOptions } from './tgt/tgtadm.client';
export { TgtadmError } from './tgt/tgtadm-error';
export * from './driver-factory';
