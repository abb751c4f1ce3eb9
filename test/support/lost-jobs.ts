import { expectedState, hostDriver, hostState } from './host-view';
import { unique } from './api-harness';
import type { Stack } from './stack';
import { waitFor } from './wait-for';

/** What the lost-job scenarios (test/e2e/redis-lost-jobs, test/ha/sentinel-failover) share. */

/** Short enough for a test; production's default is 30 s (OUTBOX_LOST_JOB_GRACE_MS). */
export const LOST_JOB_GRACE_MS = '2000';

export async function createLuns(s: Stack, count: number, tag: string): Promise<{ id: string; operation_id: string; message: string }[]> {
  const created: { id: string; operation_id: string; message: string }[] = [];
  // In tens, like a busy operator script: the creates overlap the worker's jobs without a thundering herd.
  for (let i = 0; i < count; i += 10) {
    const replies = await Promise.all(
      Array.from({ length: Math.min(10, count - i) }, (_, j) => s.h.as('operator').post('/api/v1/storage/luns', { name: unique(`${tag}${i + j}`), size_gb: 1, target_id: s.backend.id, chap_enabled: (i + j) % 2 === 0 })),
    );
    for (const r of replies) {
      expect(r.status).toBe(202);
      created.push({ ...r.body.data, message: r.body.message ?? '' });
    }
  }
  return created;
}

export async function readyCount(s: Stack, ids: string[]): Promise<number> {
  const rows = await s.h.services.prisma.iscsiLun.findMany({ where: { id: { in: ids } }, select: { status: true, errorMessage: true } });
  const bad = rows.find((r) => r.status === 'error');
  if (bad) throw new Error(`a LUN failed: ${bad.errorMessage}`);
  return rows.filter((r) => r.status === 'ready').length;
}

export async function allReady(s: Stack, ids: string[], timeoutMs: number): Promise<void> {
  try {
    await waitFor(`${ids.length} LUNs ready`, async () => ((await readyCount(s, ids)) === ids.length ? true : undefined), timeoutMs, 250);
  } catch (err) {
    // What was stuck, for the failure message: the LUNs' and operations' states, and the worker's last words.
    const luns = await s.h.services.prisma.iscsiLun.groupBy({ by: ['status'], where: { id: { in: ids } }, _count: { _all: true } });
    const ops = await s.h.services.prisma.operation.findMany({ where: { lunId: { in: ids }, status: { not: 'succeeded' } }, select: { id: true, status: true, attempts: true, enqueuedAt: true, queueCheckedAt: true, error: true }, take: 5 });
    const jobs = await Promise.all(ops.map(async (o) => [o.id, await s.h.services.queues.forBackend(s.backend.id).getJobState(o.id).catch((e: Error) => e.message)]));
    throw new Error(`${(err as Error).message}; LUNs ${JSON.stringify(luns)}; unfinished operations ${JSON.stringify(ops)}; their jobs ${JSON.stringify(jobs)}\n--- worker ---\n${s.worker.output().slice(-3000)}`, { cause: err });
  }
}

/** Every LUN has exactly one target (its IQN, its file, one LUN) and one backing file; nothing else is on the host. */
export async function expectOneTargetAndFileEach(s: Stack, ids: string[]): Promise<void> {
  expect(await hostState(s)).toEqual(await expectedState(s));
  const targets = await hostDriver(s).listTargets((s.backend.config as { iqn_prefix: string }).iqn_prefix);
  const luns = await s.h.services.prisma.iscsiLun.findMany({ where: { id: { in: ids } } });
  for (const lun of luns) {
    const mine = targets.filter((t) => t.iqn === lun.iqn);
    expect(mine).toHaveLength(1);
    expect(mine[0]).toMatchObject({ lunNumber: 1, backingPath: s.backingFile(lun.id) });
  }
  expect(luns).toHaveLength(ids.length);
}

