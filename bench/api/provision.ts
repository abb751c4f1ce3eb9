import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { Client } from 'pg';
import { backingPath } from '@bootlun/core';
import { backingFor } from '@bootlun/targets';
import { startTgtd } from '../../test/support/tgtd';
import { treeUsage } from '../support/proc';
import { startProductionWorker, type BenchProcess } from '../support/processes';
import { median, since } from '../support/timing';

/**
 * POST → ready through the whole system (API, queue, a real worker process on a real
 * tgtd, write-back) against the bare tgtadm sequence an admin script would run for the
 * same LUN (sparse file, target, logical unit, CHAP account, bind, read back), on the
 * same tgtd, interleaved LUN by LUN so both see the same machine. Before timing anything
 * it checks that both produce the same target, as tgtd shows it.
 */

export interface ProvisionOptions {
  api: BenchProcess;
  adminToken: string;
  databaseUrl: string;
  /** Environment the worker shares with the API (database, queue, sealing key). */
  workerEnv: Record<string, string>;
  dir: string;
  count: number;
}

export interface ProvisionResult {
  count: number;
  /** Medians, ms. */
  postToReady: number;
  bare: number;
  postAnswered: number;
  /** From the commit of LUN and operation to the worker claiming it (enqueue and queue pickup). */
  committedToStarted: number;
  job: number;
  ratio: number;
  workerRssMb: number;
}

const SIZE_GB = 1;

/** One target's block of `tgtadm --op show --mode target`, with what differs by name (tid, IQN, file, CHAP user) replaced. */
function targetShape(show: string, iqn: string, file: string, user: string): string {
  const blocks = show.split(/^(?=Target \d+: )/m);
  const block = blocks.find((b) => b.startsWith('Target ') && b.split('\n')[0]!.endsWith(`: ${iqn}`));
  if (!block) throw new Error(`target ${iqn} not found in tgtd`);
  return block
    .replaceAll(iqn, '<iqn>')
    .replaceAll(file, '<file>')
    .replace(new RegExp(`^(\\s+)${user}$`, 'm'), '$1<user>')
    .replace(/^Target \d+:/, 'Target <tid>:')
    .replace(/(SCSI (?:ID|SN):\s+).*$/gm, '$1<scsi id>');
}

export async function measureProvisioning(o: ProvisionOptions): Promise<ProvisionResult> {
  const tgtd = await startTgtd();
  const db = new Client({ connectionString: o.databaseUrl });
  await db.connect();
  let worker: BenchProcess | null = null;
  try {
    const backingDir = path.join(o.dir, 'luns');
    const bareDir = path.join(o.dir, 'bare');
    mkdirSync(backingDir, { recursive: true });
    mkdirSync(bareDir, { recursive: true });
    mkdirSync(path.join(o.dir, 'tgt-conf'), { recursive: true });
    const auth = { authorization: `Bearer ${o.adminToken}`, 'content-type': 'application/json' };
    const own = randomBytes(4).toString('hex');
    const created = await fetch(`${o.api.baseUrl}/api/v1/storage/backends`, {
      method: 'POST',
      headers: auth,
      body: JSON.stringify({
        name: `bench-tgt-${own}`,
        config: { driver: 'tgt', portal_ip: '127.0.0.1', portal_port: tgtd.portalPort, tgt_control_port: tgtd.controlPort, iqn_prefix: `iqn.2026-11.io.bootlun.tgt${own}`, backingstore_type: 'file', backingstore_path: backingDir },
      }),
    });
    const backend = ((await created.json()) as { data?: { id: string; name: string } }).data;
    if (!created.ok || !backend) throw new Error(`creating the tgt backend failed: ${created.status}`);

    worker = await startProductionWorker({ ...o.workerEnv, STORAGE_BACKEND: backend.name, TGT_CONFIG_DIR: path.join(o.dir, 'tgt-conf'), DATA_DIR: path.join(o.dir, 'worker-data') }, o.dir);

    const tgtadm = (...args: string[]) => execFileSync('tgtadm', ['-C', String(tgtd.controlPort), '--lld', 'iscsi', ...args], { encoding: 'utf8' });

    /** Ours: POST, then watch the row (a 2 ms poll on the database, no API load) until the worker wrote `ready`. */
    const provision = async (name: string) => {
      const t0 = process.hrtime.bigint();
      const res = await fetch(`${o.api.baseUrl}/api/v1/storage/luns`, { method: 'POST', headers: auth, body: JSON.stringify({ name, size_gb: SIZE_GB, target_id: backend.id, purpose: 'boot_from_san', chap_enabled: true }) });
      const answered = since(t0);
      const body = (await res.json()) as { data?: { id: string; iqn: string; chap_username: string; operation_id: string } };
      if (res.status !== 202 || !body.data) throw new Error(`POST /storage/luns answered ${res.status}`);
      const lun = body.data;
      for (;;) {
        const { rows } = await db.query('SELECT status, error_message FROM iscsi_luns WHERE id = $1', [lun.id]);
        if (rows[0]?.status === 'ready') break;
        if (rows[0]?.status === 'error') throw new Error(`LUN ${name} failed: ${rows[0].error_message}`);
        if (since(t0) > 30_000) throw new Error(`LUN ${name} not ready after 30 s (status ${rows[0]?.status}); worker log:\n${worker!.log().slice(-2000)}`);
        await new Promise((resolve) => setTimeout(resolve, 2));
      }
      const ready = since(t0);
      // The operation is marked finished just after the LUN's write-back: wait for it (outside the clock) before the next LUN.
      let timing: { pickup: number; job: number } | undefined;
      while (!timing) {
        const { rows } = await db.query(
          `SELECT extract(epoch FROM started_at - created_at) * 1000 AS pickup, extract(epoch FROM finished_at - started_at) * 1000 AS job FROM operations WHERE id = $1 AND finished_at IS NOT NULL`,
          [lun.operation_id],
        );
        if (rows[0]) timing = { pickup: Number(rows[0].pickup), job: Number(rows[0].job) };
        else if (since(t0) > 30_000) throw new Error(`operation of LUN ${name} not finished after 30 s`);
        else await new Promise((resolve) => setTimeout(resolve, 2));
      }
      return { ...lun, answered, ready, ...timing };
    };

    /** The baseline: what an admin script runs for the same LUN, one tgtadm process per step (the secret in argv, as tgtadm takes it). */
    const bare = (i: number) => {
      const t0 = process.hrtime.bigint();
      // Counting down from a high tid: the worker takes one past the highest, so the two never meet.
      const tid = String(30_000 - i);
      const iqn = `iqn.2026-11.io.bootlun.bare${own}:lun-${i}`;
      const file = path.join(bareDir, `bare-${i}.img`);
      const user = `bb${own}${i}`;
      execFileSync('truncate', ['-s', `${SIZE_GB}G`, file]);
      tgtadm('--op', 'new', '--mode', 'target', '--tid', tid, '-T', iqn);
      tgtadm('--op', 'new', '--mode', 'logicalunit', '--tid', tid, '--lun', '1', '-b', file, '--bstype', 'rdwr');
      tgtadm('--op', 'new', '--mode', 'account', '--user', user, '--password', 'Secret1Secret1ab');
      tgtadm('--op', 'bind', '--mode', 'account', '--tid', tid, '--user', user);
      tgtadm('--op', 'show', '--mode', 'target'); // read back, as a careful script would
      return { ms: since(t0), iqn, file, user };
    };

    // Warm-up (not counted): the worker's start-up reconcile runs first, JIT and pools settle.
    const warm = await provision(`warm-${own}`);
    const warmBare = bare(0);
    const ours = (lun: { iqn: string; id: string; chap_username: string }) => targetShape(tgtadm('--op', 'show', '--mode', 'target'), lun.iqn, backingPath(backingFor('file', backingDir, lun.id)), lun.chap_username);
    const theirs = targetShape(tgtadm('--op', 'show', '--mode', 'target'), warmBare.iqn, warmBare.file, warmBare.user);
    if (ours(warm) !== theirs) throw new Error(`the bare sequence does not make the target the worker makes:\n--- worker\n${ours(warm)}\n--- bare\n${theirs}`);

    const runs: Array<Awaited<ReturnType<typeof provision>>> = [];
    const bareMs: number[] = [];
    for (let i = 1; i <= o.count; i++) {
      // Alternate which goes first, so a burst of load elsewhere hits both alike.
      if (i % 2 === 0) bareMs.push(bare(i).ms);
      runs.push(await provision(`p-${own}-${i}`));
      if (i % 2 === 1) bareMs.push(bare(i).ms);
    }
    const postToReady = median(runs.map((r) => r.ready));
    const bareMedian = median(bareMs);
    return {
      count: o.count,
      postToReady,
      bare: bareMedian,
      postAnswered: median(runs.map((r) => r.answered)),
      committedToStarted: median(runs.map((r) => r.pickup)),
      job: median(runs.map((r) => r.job)),
      ratio: postToReady / bareMedian,
      workerRssMb: treeUsage(worker.pid).rssMb,
    };
  } finally {
    await worker?.stop();
    await db.end();
    await tgtd.stop();
  }
}
