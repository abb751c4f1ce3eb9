import { createDatabase, migrateDeploy } from '@bootlun/db';
import { unique } from '../support/api-harness';
import { startApiProcess } from '../support/api-process';
import { expectedState, hostState } from '../support/host-view';
import { ownRedisEnv, startPrivatePostgres, startPrivateRedis, type PrivateServer } from '../support/private-services';
import { startStack, waitForLun, waitForOperation, type Stack } from '../support/stack';
import { waitFor } from '../support/wait-for';

/**
 * Jobs survive their infrastructure: Redis down while changes arrive, Postgres restarted
 * under a running worker, the API killed between commit and enqueue. Each scenario has
 * its own servers so stopping them disturbs no other test.
 */

async function allReady(s: Stack, ids: string[], timeoutMs: number) {
  await waitFor(`${ids.length} LUNs ready`, async () => {
    const rows = await s.h.services.prisma.iscsiLun.findMany({ where: { id: { in: ids } }, select: { status: true, errorMessage: true } });
    const bad = rows.find((r) => r.status === 'error');
    if (bad) throw new Error(`a LUN failed: ${bad.errorMessage}`);
    return rows.length === ids.length && rows.every((r) => r.status === 'ready') ? true : undefined;
  }, timeoutMs, 250);
}

describe('Redis stopped for 10 s while 50 creates arrive', () => {
  let redis: PrivateServer;
  let s: Stack;
  beforeAll(async () => {
    redis = await startPrivateRedis();
    s = await startStack({ apiEnv: { QUEUE_BACKEND: 'redis', ...ownRedisEnv(redis.url) }, sweepIntervalMs: 500, ownDatabase: true });
  }, 60_000);
  afterAll(async () => {
    await s?.close();
    await redis?.destroy();
  });

  it('accepts all 50 (durably, saying the queue is down) and all end ready once Redis is back', async () => {
    await redis.stop();
    const downSince = Date.now();
    const replies = await Promise.all(
      Array.from({ length: 50 }, (_, i) => s.h.as('operator').post('/api/v1/storage/luns', { name: unique(`r${i}`), size_gb: 1, target_id: s.backend.id, chap_enabled: i % 2 === 0 })),
    );
    expect(replies.map((r) => r.status)).toEqual(Array(50).fill(202));
    expect(replies.every((r) => /queue is unreachable/.test(r.body.message))).toBe(true);
    // The outage itself is the scenario: keep Redis down for the full 10 s.
    await new Promise((r) => setTimeout(r, Math.max(0, 10_000 - (Date.now() - downSince))));
    await redis.start();
    const started = Date.now();
    await allReady(s, replies.map((r) => r.body.data.id), 120_000);
    console.log(`50 creates dispatched by the sweeper and ready ${Date.now() - started} ms after Redis came back`);
    expect(await hostState(s)).toEqual(await expectedState(s));
  }, 180_000);
});

describe('Postgres restarted while the worker runs jobs', () => {
  let pg: PrivateServer;
  let s: Stack;
  beforeAll(async () => {
    pg = await startPrivatePostgres();
    const db = await createDatabase(pg.url, 'bootlun_restart');
    await migrateDeploy(db.url);
    // The queue stays on Redis here: this scenario is about the database of record going away.
    s = await startStack({ apiEnv: { DATABASE_URL: db.url, QUEUE_BACKEND: 'redis' }, workerEnv: { RETRY_CREATE_ATTEMPTS: '8', RETRY_CREATE_BACKOFF_MS: '500', FAULT_STEP_DELAY_MS: '100' } });
  }, 90_000);
  afterAll(async () => {
    await s?.close();
    await pg?.destroy();
  });

  it('jobs retry and finish; nothing is lost', async () => {
    const replies = [];
    for (let i = 0; i < 10; i++) replies.push(await s.h.as('operator').post('/api/v1/storage/luns', { name: unique(`p${i}`), size_gb: 1, target_id: s.backend.id }));
    expect(replies.map((r) => r.status)).toEqual(Array(10).fill(202));
    await waitForLun(s.h, replies[0]!.body.data.id, (l) => l.status === 'ready');
    await pg.stop();
    await pg.start();
    await allReady(s, replies.map((r) => r.body.data.id), 120_000);
    // An operation is marked finished just after its LUN's write-back: wait for the last ones.
    await waitFor('every operation succeeded', async () => ((await s.h.services.prisma.operation.findMany({ where: { backendId: s.backend.id } })).every((o) => o.status === 'succeeded') ? true : undefined), 30_000);
    expect(await hostState(s)).toEqual(await expectedState(s));
  }, 180_000);
});

describe('API killed right after commit, before enqueue', () => {
  let s: Stack;
  beforeAll(async () => (s = await startStack()), 60_000);
  afterAll(() => s?.close());

  it('the outbox sweeper of the next API process runs the operation', async () => {
    const crashing = await startApiProcess({ FAULT_CRASH_AFTER_COMMIT: 'true' });
    const key = s.h.keys.operator;
    const name = unique('crash');
    const reply = await fetch(`${crashing.baseUrl}/api/v1/storage/luns`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name, size_gb: 1, target_id: s.backend.id }),
    }).catch((err: Error) => err);
    expect(String((reply as Error).message)).toMatch(/fetch failed/); // the connection died with the process
    expect((await crashing.exited).signal).toBe('SIGKILL');

    const lun = await s.h.services.prisma.iscsiLun.findUniqueOrThrow({ where: { name } });
    const [op] = await s.h.services.prisma.operation.findMany({ where: { lunId: lun.id } });
    expect(op).toMatchObject({ status: 'queued', enqueuedAt: null });

    const healthy = await startApiProcess({ OUTBOX_SWEEP_INTERVAL_MS: '500' });
    try {
      await waitForLun(s.h, lun.id, (l) => l.status === 'ready', 30_000);
      // The worker settles the LUN first and then its operation: wait for the second as well.
      await waitForOperation(s.h, op!.id, ['succeeded'], 30_000);
      const after = await s.h.services.prisma.operation.findUniqueOrThrow({ where: { id: op!.id } });
      expect(after.enqueuedAt).not.toBeNull();
      expect(after.status).toBe('succeeded');
    } finally {
      await healthy.stop();
    }
  }, 120_000);
});
