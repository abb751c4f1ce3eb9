import { reconcileSchedulerId } from '@bootlun/jobs';
import { allReady, createLuns, expectOneTargetAndFileEach, LOST_JOB_GRACE_MS, readyCount } from '../support/lost-jobs';
import { ownRedisEnv, startPrivateRedis, type PrivateServer } from '../support/private-services';
import { directClient } from '../support/redis-ha';
import { startStack, type Stack } from '../support/stack';
import { waitFor } from '../support/wait-for';

/**
 * What Redis can lose and the outbox sweeper gives back: every job of a Redis that
 * restarted empty (jobs a Sentinel-failed primary acknowledged but never replicated:
 * test/ha, `npm run test:ha`). Operations stay queued/running in Postgres; the sweeper finds those
 * whose job is gone and enqueues them again, and the worker's idempotent steps make any
 * job that does run twice harmless: the host ends with exactly one target and one
 * backing file per LUN.
 */

describe('Redis restarted empty (no persistence) in the middle of 40 creates', () => {
  let redis: PrivateServer;
  let s: Stack;
  beforeAll(async () => {
    redis = await startPrivateRedis({ persistent: false });
    s = await startStack({ apiEnv: { QUEUE_BACKEND: 'redis', ...ownRedisEnv(redis.url), OUTBOX_LOST_JOB_GRACE_MS: LOST_JOB_GRACE_MS }, sweepIntervalMs: 500, ownDatabase: true });
  }, 60_000);
  afterAll(async () => {
    await s?.close();
    await redis?.destroy();
  });

  it('the sweeper enqueues the vanished jobs again; all end ready, one target and one file each', async () => {
    const created = await createLuns(s, 40, 'e');
    const ids = created.map((c) => c.id);
    await waitFor('10 ready', async () => ((await readyCount(s, ids)) >= 10 ? true : undefined), 60_000, 100);
    await redis.stop();
    await redis.start();
    const restartedAt = new Date();
    const notReadyAtRestart = ids.length - (await readyCount(s, ids));
    const client = directClient(redis.port);
    expect(await client.dbsize()).toBeLessThanOrEqual(5); // empty, but for what the worker re-creates at once
    client.disconnect();

    await allReady(s, ids, 120_000);
    const ops = await s.h.services.prisma.operation.findMany({ where: { id: { in: created.map((c) => c.operation_id) } } });
    const requeued = ops.filter((o) => o.enqueuedAt! > restartedAt);
    console.log(`Redis restarted empty with ${notReadyAtRestart} of 40 creates not ready; ${requeued.length} enqueued again by the sweeper; all ready ${Date.now() - restartedAt.getTime()} ms after the restart`);
    expect(requeued.length).toBeGreaterThan(0);
    expect(requeued.every((o) => o.queueCheckedAt !== null)).toBe(true);
    await waitFor('every operation settled', async () => ((await s.h.services.prisma.operation.count({ where: { id: { in: ops.map((o) => o.id) }, status: { not: 'succeeded' } } })) === 0 ? true : undefined), 30_000);
    await expectOneTargetAndFileEach(s, ids);
    // The worker's scheduled reconcile lived in Redis alone; the worker puts it back.
    await waitFor('the reconcile schedule restored', () => s.h.services.queues.forBackend(s.backend.id).getJobScheduler(reconcileSchedulerId(s.backend.id)), 10_000);
    expect(s.worker.output()).toContain('scheduled reconcile was missing from the queue (Redis lost it); restored');
  }, 180_000);
});

