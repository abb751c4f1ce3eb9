import { queueNameFor } from '@bootlun/jobs';
import { allReady, createLuns, expectOneTargetAndFileEach, LOST_JOB_GRACE_MS, readyCount } from '../support/lost-jobs';
import { directClient, startSentinelGroup, type SentinelGroup } from '../support/redis-ha';
import { startStack, type Stack } from '../support/stack';
import { waitFor } from '../support/wait-for';

/**
 * A Redis primary SIGKILLed under 200 creates, with a replication gap forced first: the
 * Sentinels promote the replica, the processes follow it, and the outbox sweeper finds the
 * jobs the old primary acknowledged but never replicated and enqueues them again.
 */
describe('Sentinel: the primary SIGKILLed during 200 creates, with a replication gap', () => {
  let group: SentinelGroup;
  let s: Stack;
  beforeAll(async () => {
    group = await startSentinelGroup();
    s = await startStack({ apiEnv: { QUEUE_BACKEND: 'redis', ...group.env, OUTBOX_LOST_JOB_GRACE_MS: LOST_JOB_GRACE_MS }, sweepIntervalMs: 500, ownDatabase: true });
  }, 90_000);
  afterAll(async () => {
    await s?.close();
    await group?.destroy();
  });

  it('fails over; jobs the old primary acknowledged but never replicated are found and run; all 200 ready, one target and one file each', async () => {
    const before = await createLuns(s, 140, 'a');
    await waitFor('40 ready', async () => ((await readyCount(s, before.map((c) => c.id))) >= 40 ? true : undefined), 120_000, 100);

    // The gap, forced: the replica loses its link and cannot get it back (wrong masterauth),
    // so what the primary acknowledges from now on exists on the primary alone.
    const replica = directClient(group.replica.port, group.password);
    await replica.config('SET', 'masterauth', 'not-the-password');
    await replica.call('CLIENT', 'KILL', 'TYPE', 'master');
    await waitFor('replica link down', async () => ((await replica.info('replication')).includes('master_link_status:down') ? true : undefined), 10_000);
    const inGap = await createLuns(s, 50, 'g');
    expect(inGap.every((c) => !/queue is unreachable/.test(c.message))).toBe(true); // acknowledged by the primary

    group.primary.child.kill('SIGKILL');
    const killedAt = new Date();
    await replica.config('SET', 'masterauth', group.password);
    replica.disconnect(); // the Sentinels drop the promoted server's clients anyway
    const notReadyAtKill = 190 - (await readyCount(s, [...before, ...inGap].map((c) => c.id)));
    // Creates keep arriving during the failover: whatever the queue refuses waits in the outbox.
    const during = await createLuns(s, 10, 'd');

    await waitFor('the Sentinels to promote the replica', async () => ((await group.currentPrimaryPort()) === group.replica.port ? true : undefined), 30_000, 200);
    const failoverMs = Date.now() - killedAt.getTime();
    // What the new primary lacks: the jobs of the gap creates that the worker had not finished before the kill.
    const prefix = process.env.BULLMQ_PREFIX ?? 'bootlun';
    const queueName = queueNameFor(s.backend.id);
    const promoted = directClient(group.replica.port, group.password);
    const exists = await Promise.all(inGap.map((c) => promoted.exists(`${prefix}:${queueName}:${c.operation_id}`)));
    promoted.disconnect();
    const lost = inGap.filter((_, i) => exists[i] === 0);
    const lostOps = await s.h.services.prisma.operation.findMany({ where: { id: { in: lost.map((c) => c.operation_id) } } });
    const lostUnfinished = lostOps.filter((o) => o.status === 'queued' || o.status === 'running');
    expect(lostUnfinished.length).toBeGreaterThan(0);

    const all = [...before, ...inGap, ...during];
    expect(all).toHaveLength(200);
    await allReady(s, all.map((c) => c.id), 180_000);
    await waitFor('every operation settled', async () => ((await s.h.services.prisma.operation.count({ where: { id: { in: all.map((c) => c.operation_id) }, status: { not: 'succeeded' } } })) === 0 ? true : undefined), 30_000);
    const after = await s.h.services.prisma.operation.findMany({ where: { id: { in: lostUnfinished.map((o) => o.id) } } });
    // Each lost one was checked by the sweeper, enqueued again after the kill, and ran.
    for (const op of after) expect(op).toMatchObject({ status: 'succeeded', queueCheckedAt: expect.any(Date), enqueuedAt: expect.any(Date) });
    expect(after.every((o) => o.enqueuedAt! > killedAt && o.queueCheckedAt! > killedAt)).toBe(true);
    const deferred = during.filter((c) => /queue is unreachable/.test(c.message)).length;
    // Harmless double work: a job whose completion the new primary never heard of is delivered again and skipped.
    const skipped = s.worker.output().split('operation already finished or unknown; skipping').length - 1;
    const startedTwice = await s.h.services.prisma.operation.count({ where: { id: { in: all.map((c) => c.operation_id) }, attempts: { gt: 1 } } });
    console.log(
      `failover: ${notReadyAtKill} of 190 creates not ready at the kill, promoted after ${failoverMs} ms; ` +
        `the new primary lacked ${lost.length} of the 50 gap jobs (${lostUnfinished.length} not yet run); ${deferred} of 10 creates during the failover waited in the outbox; ` +
        `${skipped} stale deliveries skipped by the worker, ${startedTwice} operations started twice; all 200 ready ${Date.now() - killedAt.getTime()} ms after the kill`,
    );
    await expectOneTargetAndFileEach(s, all.map((c) => c.id));
  }, 300_000);
});
