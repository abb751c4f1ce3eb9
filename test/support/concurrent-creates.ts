import type { ApiHarness } from './api-harness';
import { unique } from './api-harness';

/**
 * The concurrency scenario one API and a set of replicas must answer alike: 50 creates at
 * once on one backend, 40 distinct names and one name ten times.
 */
export function fiftyCreates(): { names: string[]; shared: string } {
  const shared = unique('dup');
  return { shared, names: [...Array.from({ length: 40 }, (_, i) => `${unique('c')}-${i}`), ...Array.from({ length: 10 }, () => shared)] };
}

export const createBody = (name: string, backendId: string) => ({ name, size_gb: 1, target_id: backendId, purpose: 'boot_from_san', chap_enabled: true });

/**
 * What the answers and the stores must show: no 5xx, 41 accepted and 9 conflicts; each name
 * once, 41 LUNs with distinct IQNs, one operation per LUN and one queued job per operation.
 */
export async function expectOneApiOutcome(h: ApiHarness, backendId: string, shared: string, replies: Array<{ status: number; body: unknown }>): Promise<void> {
  const statuses = replies.map((r) => r.status);
  expect(statuses.filter((s) => s >= 500)).toEqual([]);
  expect(statuses.filter((s) => s === 202)).toHaveLength(41);
  expect(statuses.filter((s) => s === 409)).toHaveLength(9);
  for (const r of replies.filter((x) => x.status === 409)) expect(r.body).toMatchObject({ success: false, error: 'conflict' });

  const luns = await h.services.prisma.iscsiLun.findMany({ where: { backendId } });
  expect(luns).toHaveLength(41);
  expect(luns.filter((l) => l.name === shared)).toHaveLength(1);
  expect(new Set(luns.map((l) => l.iqn)).size).toBe(41);

  const ops = await h.services.prisma.operation.findMany({ where: { backendId } });
  expect(ops).toHaveLength(41);
  expect(new Set(ops.map((o) => o.lunId)).size).toBe(41);
  const jobs = await h.services.queues.forBackend(backendId).getJobs(['waiting', 'delayed', 'prioritized']);
  expect(jobs).toHaveLength(41);
  expect(new Set(jobs.map((j) => j.id))).toEqual(new Set(ops.map((o) => o.id)));
}
