/**
 * The storage backend `npm start` serves on this machine: tgt, portal on 127.0.0.1, LUN
 * files under DATA_DIR/luns. Created once through the repository (with the same schema
 * the API validates with); its row then holds the chosen ports, so every restart brings
 * tgtd back on the same portal and control port. Only when something else has taken one
 * of them since does it move, and say so.
 */
import fs from 'node:fs';
import os from 'node:os';
import { backendConfigSchema, createBackendBody, type BackendConfig } from '@bootlun/contracts';
import type { Backend, BackendRepository } from '@bootlun/core';
import { warn } from './log';
import { isTcpPortFree, isUnixSocketLive, pickTcpPort } from './ports';
import { controlSocket, pickControlPort } from './tgtd';

export const LOCAL_IQN_PREFIX = 'iqn.2026-11.io.bootlun.local';
const DEFAULT_PORTAL_PORT = 3260;
/** Not 0, the system tgtd's default, so a distribution's tgt service and ours never meet. */
const DEFAULT_CONTROL_PORT = 7;

/** `local-<host>`: one per machine even when several machines share an external database. */
export function localBackendName(): string {
  const host = os.hostname().split('.')[0]!.toLowerCase().replace(/[^a-z0-9-]/g, '-').replace(/^-+|-+$/g, '');
  return `local-${host || 'host'}`.slice(0, 63);
}

async function freshPorts(): Promise<Pick<BackendConfig, 'portal_port' | 'tgt_control_port'>> {
  return { portal_port: await pickTcpPort(DEFAULT_PORTAL_PORT), tgt_control_port: await pickControlPort(DEFAULT_CONTROL_PORT) };
}

export async function ensureLocalBackend(repo: BackendRepository, lunDir: string): Promise<Backend> {
  fs.mkdirSync(lunDir, { recursive: true });
  const name = localBackendName();
  const existing = await repo.findByRef(name);
  if (!existing) {
    const body = createBackendBody.parse({
      name,
      type: 'iscsi',
      config: { driver: 'tgt', portal_ip: '127.0.0.1', iqn_prefix: LOCAL_IQN_PREFIX, backingstore_type: 'file', backingstore_path: lunDir, ...(await freshPorts()) },
    });
    return repo.create(body);
  }

  const { config } = existing;
  const portalTaken = !(await isTcpPortFree(config.portal_port, config.portal_ip));
  const controlTaken = await isUnixSocketLive(controlSocket(config.tgt_control_port));
  if (!portalTaken && !controlTaken) return existing;
  const moved = backendConfigSchema.parse({
    ...config,
    portal_port: portalTaken ? await pickTcpPort(config.portal_port + 1) : config.portal_port,
    tgt_control_port: controlTaken ? await pickControlPort(config.tgt_control_port + 1) : config.tgt_control_port,
  });
  warn(
    `${portalTaken ? `iSCSI port ${config.portal_port}` : `tgtd control port ${config.tgt_control_port}`} is now used by another program; ` +
      `backend ${name} moves to portal ${moved.portal_port}, control port ${moved.tgt_control_port} (boot scripts follow; initiators configured by hand need the new port)`,
  );
  return repo.update(existing.id, { config: moved });
}
