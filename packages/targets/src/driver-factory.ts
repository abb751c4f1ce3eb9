import path from 'node:path';
import { iqnNamespace } from '@bootlun/contracts';
import type { TargetDriver } from '@bootlun/core';
import type { CommandRunner } from '@bootlun/exec';
import { LioDriver } from './lio/lio.driver';
import { LioConfigfsDriver } from './lio-configfs/lio-configfs.driver';
import { configfsWritableSync } from './lio-configfs/configfs.port';
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
  /** LIO only: absent picks configfs when this worker can write it (see lioInterface). */
  lio_interface?: 'configfs' | 'targetcli';
  /** Block only: the thin pool new LVs are made in. */
  thin_pool?: string;
}

export interface DriverHostOptions {
  /** The backend's name: several backends may share one tgtd, each keeps its own config file. */
  backendName: string;
  /** Directory for the tgt config file (the tgt service reads /etc/tgt/conf.d). */
  tgtConfigDir: string;
  /** Make tgt backing files with node:fs instead of commands (when no sudo prefix is needed). */
  localFiles?: boolean;
  warn?: (message: string) => void;
  /** Whether configfs is writable here; injectable for tests. */
  configfsWritable?: () => boolean;
}

/**
 * The LIO interface a worker uses. configfs needs the worker on the storage host itself,
 * as root (`localFiles`: local transport, no sudo prefix); through the command agent or a
 * sudo prefix only targetcli reaches LIO. An explicit `configfs` that cannot work is a
 * configuration error, never a silent fallback.
 */
export function lioInterface(config: Pick<DriverConfig, 'lio_interface'>, host: Pick<DriverHostOptions, 'localFiles' | 'configfsWritable'>): 'configfs' | 'targetcli' {
  const writable = () => !!host.localFiles && (host.configfsWritable ?? configfsWritableSync)();
  if (config.lio_interface === 'targetcli') return 'targetcli';
  if (config.lio_interface === 'configfs') {
    if (!writable()) {
      throw new Error(
        'lio_interface=configfs needs the worker on the storage host as root (local COMMAND_TRANSPORT, no COMMAND_PREFIX) with /sys/kernel/config/target writable; use lio_interface=targetcli otherwise',
      );
    }
    return 'configfs';
  }
  return writable() ? 'configfs' : 'targetcli';
}

/** One driver for one storage host, chosen by its backend's config. */
export function createTargetDriver(config: DriverConfig, runner: CommandRunner, host: DriverHostOptions): TargetDriver {
  if (config.driver === 'tgt') {
    return new TgtDriver({
      controlPort: config.tgt_control_port,
      portalIp: config.portal_ip,
      portalPort: config.portal_port,
      backingDir: config.backingstore_path,
      configFile: path.join(host.tgtConfigDir, `bootlun-${host.backendName}.conf`),
      // Where earlier versions kept one file per tgtd; still read for CHAP secrets a restarted worker needs.
      legacyConfigFile: path.join(host.tgtConfigDir, `bootlun-${config.tgt_control_port}.conf`),
      runner,
      files: host.localFiles ? new LocalBackingFiles() : undefined,
      // The namespace (prefix plus separator): a bare prefix would also match a neighbour's "<prefix>:b2".
      iqnPrefix: iqnNamespace(config.iqn_prefix),
      warn: host.warn,
    });
  }
  if (lioInterface(config, host) === 'configfs') {
    return new LioConfigfsDriver({
      runner,
      portalIp: config.portal_ip,
      portalPort: config.portal_port,
      backingstoreType: config.backingstore_type,
      backingstorePath: config.backingstore_path,
      thinPool: config.thin_pool,
      iqnPrefix: iqnNamespace(config.iqn_prefix),
      warn: host.warn,
    });
  }
  return new LioDriver({
    runner,
    portalIp: config.portal_ip,
    portalPort: config.portal_port,
    backingstoreType: config.backingstore_type,
    backingstorePath: config.backingstore_path,
    thinPool: config.thin_pool,
    iqnPrefix: iqnNamespace(config.iqn_prefix),
  });
}
