import path from 'node:path';
import type { CommandRunner } from '@bootlun/exec';
import { LioDriver } from './lio/lio.driver';
import type { TargetDriver } from './target-driver';
import { LocalBackingFiles } from './tgt/backing-files';
import { TgtDriver } from './tgt/tgt.driver';

/** The part of a storage backend's config the drivers need (validated in @bootlun/contracts). */
export interface DriverConfig {
  driver: 'lio' | 'tgt';
  portal_ip: string;
  portal_port: number;
  iqn_prefix: string;
  backingstore_type: 'file' | 'block';
  backingstore_path: string;
  tgt_control_port: number;
}

export interface DriverHostOptions {
  /** Directory for the tgt config file (the tgt service reads /etc/tgt/conf.d). */
  tgtConfigDir: string;
  /** Make tgt backing files with node:fs instead of commands (when no sudo prefix is needed). */
  localFiles?: boolean;
  warn?: (message: string) => void;
}

/** One driver for one storage host, chosen by its backend's config. */
export function createTargetDriver(config: DriverConfig, runner: CommandRunner, host: DriverHostOptions): TargetDriver {
  if (config.driver === 'tgt') {
    return new TgtDriver({
      controlPort: config.tgt_control_port,
      portalIp: config.portal_ip,
      portalPort: config.portal_port,
      backingDir: config.backingstore_path,
      configFile: path.join(host.tgtConfigDir, `bootlun-${config.tgt_control_port}.conf`),
      runner,
      files: host.localFiles ? new LocalBackingFiles() : undefined,
      iqnPrefix: config.iqn_prefix,
      warn: host.warn,
    });
  }
  return new LioDriver({
    runner,
    portalIp: config.portal_ip,
    portalPort: config.portal_port,
    backingstoreType: config.backingstore_type,
    backingstorePath: config.backingstore_path,
    iqnPrefix: config.iqn_prefix,
  });
}
