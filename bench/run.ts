/**
 * `npm run bench`: the tgt driver (one socket request per step, verified) against the
 * baseline storage admins script today (one tgtadm process per step), measured in the
 * same run on the same private tgtd. Prints times and the ratio; no thresholds here.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SpawnRunner } from '@bootlun/exec';
import { backingFor, LocalBackingFiles, TgtDriver } from '@bootlun/targets';

import { startTgtd } from '../test/support/tgtd';

const N = Number(process.env.BENCH_TARGETS ?? 20);
const PREFIX = 'iqn.2026-11.io.bootlun.bench';
const quiet = { step: async () => undefined, checkpoint: async () => undefined };

async function main() {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bootlun-bench-'));
  const tgtd = await startTgtd();
  try {
    // Baseline: what a targetcli/tgtadm script does — a process per step (secret in argv, too).
    const tgtadm = (...args: string[]) => execFileSync('tgtadm', ['-C', String(tgtd.controlPort), '--lld', 'iscsi', ...args]);
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < N; i++) {
      const tid = String(1000 + i);
      const file = path.join(dir, `baseline-${i}.img`);
      execFileSync('truncate', ['-s', '1G', file]);
      tgtadm('--op', 'new', '--mode', 'target', '--tid', tid, '-T', `${PREFIX}:baseline-${i}`);
      tgtadm('--op', 'new', '--mode', 'logicalunit', '--tid', tid, '--lun', '1', '-b', file);
      tgtadm('--op', 'bind', '--mode', 'target', '--tid', tid, '--initiator-name', `iqn.2010-04.org.ipxe:node${i}`);
      tgtadm('--op', 'new', '--mode', 'account', '--user', `bb${i}`, '--password', 'Secret1Secret1ab');
      tgtadm('--op', 'bind', '--mode', 'account', '--tid', tid, '--user', `bb${i}`);
      tgtadm('--op', 'show', '--mode', 'target'); // read back, as a careful script would
    }
    const baselineMs = Number(process.hrtime.bigint() - t0) / 1e6;

    const driver = new TgtDriver({ controlPort: tgtd.controlPort, portalIp: '127.0.0.1', portalPort: tgtd.portalPort, backingDir: dir, configFile: path.join(dir, 'bench.conf'), runner: new SpawnRunner(), files: new LocalBackingFiles(), iqnPrefix: PREFIX });
    const t1 = process.hrtime.bigint();
    for (let i = 0; i < N; i++) {
      await driver.converge(
        {
          iqn: `${PREFIX}:ours-${i}`,
          sizeBytes: 1024 ** 3,
          backing: backingFor('file', dir, `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`),
          createBacking: true,
          initiators: [`iqn.2010-04.org.ipxe:node${i}`],
          chap: { username: `bl${i}`, secret: 'Secret1Secret1ab' },
          mutualChap: null,
        },
        quiet,
      );
    }
    const oursMs = Number(process.hrtime.bigint() - t1) / 1e6;
    const t2 = process.hrtime.bigint();
    await driver.persist();
    const persistMs = Number(process.hrtime.bigint() - t2) / 1e6;

    console.log(`tgt: ${N} targets with LUN, ACL and CHAP`);
    console.log(`  baseline (tgtadm process per step): ${baselineMs.toFixed(0)} ms (${(baselineMs / N).toFixed(1)} ms/target)`);
    console.log(`  bootlun tgt driver (socket, verified): ${oursMs.toFixed(0)} ms (${(oursMs / N).toFixed(1)} ms/target)`);
    console.log(`  ratio baseline/ours: ${(baselineMs / oursMs).toFixed(2)}x`);
    console.log(`  persist() of ${2 * N} targets: ${persistMs.toFixed(0)} ms`);
  } finally {
    await tgtd.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

void main();
