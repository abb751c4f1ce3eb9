import { unique } from '../support/api-harness';
import { expectedState, hostState } from '../support/host-view';
import { directClient, startRedisCluster, type RedisCluster } from '../support/redis-ha';
import { startStack, waitForLun, waitForOperation, type Stack } from '../support/stack';

/**
 * The queue on a three-master Redis Cluster: the API and a worker reach it with
 * REDIS_CLUSTER_NODES alone, BullMQ's keys share one hash tag ({prefix}), and the e2e slice
 * (create → ready, update, delete, the boot rate limit) behaves as on one server.
 */
let cluster: RedisCluster;
let s: Stack;
beforeAll(async () => {
  cluster = await startRedisCluster();
  s = await startStack({ apiEnv: { QUEUE_BACKEND: 'redis', ...cluster.env, BOOT_RATE_LIMIT_PER_MINUTE: '3' }, ownDatabase: true });
}, 90_000);
afterAll(async () => {
  await s?.close();
  await cluster?.destroy();
});

it('creates, resizes and deletes LUNs through a Cluster-held queue; the host holds exactly what the database says', async () => {
  const replies = await Promise.all(Array.from({ length: 6 }, (_, i) => s.h.as('operator').post('/api/v1/storage/luns', { name: unique(`c${i}`), size_gb: 1, target_id: s.backend.id, chap_enabled: i % 2 === 0 })));
  expect(replies.map((r) => r.status)).toEqual(Array(6).fill(202));
  expect(replies.every((r) => !/queue is unreachable/.test(r.body.message ?? ''))).toBe(true);
  for (const r of replies) await waitForLun(s.h, r.body.data.id, (l) => l.status === 'ready', 60_000);

  const [first, second] = replies.map((r) => r.body.data);
  const resized = await s.h.as('operator').patch(`/api/v1/storage/luns/${first.id}`, { size_gb: 2 });
  expect(resized.status).toBe(202);
  await waitForOperation(s.h, resized.body.data.operation_id, ['succeeded'], 60_000);
  const deleted = await s.h.as('operator').delete(`/api/v1/storage/luns/${second.id}`);
  expect(deleted.status).toBe(202);
  await waitForOperation(s.h, deleted.body.data.operation_id, ['succeeded'], 60_000);

  expect(await hostState(s)).toEqual(await expectedState(s));
}, 120_000);

it('keeps every BullMQ key of the run under the hash-tagged prefix, on one node', async () => {
  const prefix = `{${process.env.BULLMQ_PREFIX ?? 'bootlun'}}`;
  const keysPerNode = await Promise.all(
    cluster.nodes.map(async (n) => {
      const client = directClient(n.port);
      try {
        return (await client.keys('*')).filter((k) => !k.includes(':boot-rate:'));
      } finally {
        client.disconnect();
      }
    }),
  );
  const all = keysPerNode.flat();
  expect(all.length).toBeGreaterThan(0);
  expect(all.every((k) => k.startsWith(`${prefix}:`))).toBe(true);
  expect(keysPerNode.filter((keys) => keys.length > 0)).toHaveLength(1);
});

it('counts the boot rate limit in the Cluster: the fourth request within the minute gets 429 with Retry-After', async () => {
  const statuses = [];
  let last: { status: number; headers: Record<string, string>; text: string } | undefined;
  for (let i = 0; i < 4; i++) {
    last = await s.h.as('viewer').get('/api/v1/boot/ipxe?mac=02:00:5e:00:53:01');
    statuses.push(last.status);
  }
  expect(statuses).toEqual([200, 200, 200, 429]);
  expect(Number(last!.headers['retry-after'])).toBeGreaterThanOrEqual(1);
  expect(last!.text).toMatch(/^#!ipxe/);
});

it('Bull Board reads the Cluster-held queue: the backend shows its completed jobs', async () => {
  const res = await s.h.as('admin').get('/admin/queues/api/queues?page=1&jobsPerPage=10');
  expect(res.status).toBe(200);
  const ours = (res.body.queues as { displayName?: string; counts: Record<string, number> }[]).find((q) => q.displayName === `${s.backend.name} (tgt)`);
  // Six creates, a resize, a delete and the startup reconcile (removed on completion) ran on it.
  expect(ours?.counts.completed).toBeGreaterThanOrEqual(8);
});

it("Bull Board's Redis panel reads the Cluster: INFO of its nodes, in cluster mode", async () => {
  const res = await s.h.as('admin').get('/admin/queues/api/redis/stats');
  expect(res.status).toBe(200);
  expect(res.body).toMatchObject({ backend: 'redis', mode: 'cluster' });
  expect(Number(res.body.port)).toBeGreaterThan(0);
});
