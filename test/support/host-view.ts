import { readdirSync } from 'node:fs';
import path from 'node:path';
import { SpawnRunner } from '@bootlun/exec';
import { TgtDriver } from '@bootlun/targets';
import type { Stack } from './stack';

/** A driver of our own on the stack's tgtd, to look at (or tamper with) the host behind the worker's back. */
export function hostDriver(s: Stack): TgtDriver {
  const config = s.backend.config as { iqn_prefix: string };
  return new TgtDriver({
    controlPort: s.tgtd.controlPort,
    portalIp: '127.0.0.1',
    portalPort: s.tgtd.portalPort,
    backingDir: s.backingDir,
    configFile: path.join(s.dir, 'unused.conf'),
    runner: new SpawnRunner(),
    iqnPrefix: config.iqn_prefix,
  });
}

/** What the storage host really holds: live tgt targets with our prefix, and backing files. */
export async function hostState(s: Stack): Promise<{ targets: string[]; files: string[] }> {
  const config = s.backend.config as { iqn_prefix: string };
  const targets = (await hostDriver(s).listTargets(config.iqn_prefix)).map((t) => t.iqn).sort();
  const files = readdirSync(s.backingDir).sort();
  return { targets, files };
}

/** What the database says the host should hold. */
export async function expectedState(s: Stack): Promise<{ targets: string[]; files: string[] }> {
  const luns = await s.h.services.prisma.iscsiLun.findMany({ where: { backendId: s.backend.id } });
  return { targets: luns.map((l) => l.iqn).sort(), files: luns.map((l) => `bootlun-${l.id}.img`).sort() };
}
