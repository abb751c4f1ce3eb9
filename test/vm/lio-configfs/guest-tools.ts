import { execFile } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { buildProduction, STORAGE_HOST_FILES } from '../../../scripts/build';
import type { StorageVm } from '../storage-vm';

/**
 * What the storage-host VM runs of ours, on a small read-only ext4 disk the guest mounts
 * at /opt/bootlun (the deploy unit's WorkingDirectory): the host's `node` binary (the
 * guest is Debian 12 like the host), the production worker artifact as `npm run build`
 * makes it (dist/worker.js, self-contained), the systemd unit from deploy/, and one
 * esbuild bundle of guest-runner.ts for driver-level checks. No image rebuild: the disk
 * is attached at boot like the others.
 */

const run = promisify(execFile);
const ROOT = path.resolve(__dirname, '../../..');
export const GUEST_TOOLS_MOUNT = '/opt/bootlun';
export const TOOLS_DISK_ID = 'tools';

/** Builds the bundle and the disk image in `dir`; returns the image path. */
export async function buildToolsDisk(dir: string): Promise<string> {
  const stage = mkdtempSync(path.join(os.tmpdir(), 'bootlun-tools-'));
  try {
    await run(path.join(ROOT, 'node_modules/.bin/esbuild'), [
      path.join(__dirname, 'guest-runner.ts'),
      '--bundle',
      '--platform=node',
      '--target=node20',
      '--log-level=warning',
      `--outfile=${path.join(stage, 'guest-runner.js')}`,
    ]);
    copyFileSync(process.execPath, path.join(stage, 'node'));
    const dist = mkdtempSync(path.join(os.tmpdir(), 'bootlun-dist-'));
    try {
      await buildProduction(dist);
      mkdirSync(path.join(stage, 'dist'));
      for (const file of STORAGE_HOST_FILES) copyFileSync(path.join(dist, file), path.join(stage, 'dist', file));
    } finally {
      rmSync(dist, { recursive: true, force: true });
    }
    mkdirSync(path.join(stage, 'deploy'));
    copyFileSync(path.join(ROOT, 'deploy/systemd/bootlun-worker@.service'), path.join(stage, 'deploy/bootlun-worker@.service'));
    const bytes = ['node', 'guest-runner.js', ...STORAGE_HOST_FILES.map((f) => `dist/${f}`)].reduce((sum, f) => sum + statSync(path.join(stage, f)).size, 0);
    const image = path.join(dir, 'tools.img');
    mkdirSync(dir, { recursive: true });
    const sizeMb = Math.ceil((bytes * 1.2) / 2 ** 20) + 16;
    await run('mke2fs', ['-q', '-F', '-t', 'ext4', '-L', 'bootlun-tools', '-d', stage, image, `${sizeMb}M`]);
    return image;
  } finally {
    rmSync(stage, { recursive: true, force: true });
  }
}

/** Mounts the tools disk in the guest (found by its serial). */
export async function mountTools(vm: StorageVm): Promise<void> {
  const serials = await vm.check(['sh', '-c', 'for d in /sys/block/vd*; do echo "${d##*/} $(cat $d/serial)"; done']);
  const line = serials.split('\n').find((l) => l.endsWith(` bootlun-${TOOLS_DISK_ID}`));
  if (!line) throw new Error(`tools disk not found in the guest:\n${serials}`);
  await vm.check(['mkdir', '-p', GUEST_TOOLS_MOUNT]);
  await vm.check(['mount', '-o', 'ro', `/dev/${line.split(' ')[0]}`, GUEST_TOOLS_MOUNT]);
}

export interface GuestReply<T = unknown> {
  results: Array<{ op: string; ms: number; trace?: string[]; result?: T; error?: string }>;
  warnings: string[];
}

/** One guest-runner process: the request on stdin, its JSON answer back. */
export async function runInGuest<T = unknown>(vm: StorageVm, request: unknown, timeoutMs = 300_000): Promise<GuestReply<T> & { wallMs: number }> {
  const started = Date.now();
  const r = await vm.exec([`${GUEST_TOOLS_MOUNT}/node`, `${GUEST_TOOLS_MOUNT}/guest-runner.js`], JSON.stringify(request), timeoutMs);
  if (r.code !== 0) throw new Error(`guest-runner exited ${r.code}: ${r.stderr}`);
  return { ...(JSON.parse(r.stdout) as GuestReply<T>), wallMs: Date.now() - started };
}
