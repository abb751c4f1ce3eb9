import { migrateDeploy, type ScratchDatabase } from '@bootlun/db';
import { backendBody, startApiHarness, unique, type ApiHarness } from '../support/api-harness';
import { startApiProcess, type ApiProcess } from '../support/api-process';
import { createBody, expectOneApiOutcome, fiftyCreates } from '../support/concurrent-creates';
import { startPrivateHaproxy, type PrivateHaproxy } from '../support/haproxy';
import { createEmptyDatabase, dropTestDatabase } from '../support/test-db';
import { waitFor } from '../support/wait-for';

/**
 * Three API processes behind HAProxy, sharing nothing but Postgres and Redis: answers through
 * the load balancer are those of one API, a replica killed mid-run loses no accepted create,
 * and Bull Board shows the same queues on every replica.
 */

let db: ScratchDatabase & { directUrl: string };
let h: ApiHarness;
let apis: ApiProcess[] = [];
let lb: PrivateHaproxy;

beforeAll(async () => {
  // A database of their own: three sweepers every 500 ms would otherwise take part in every
  // other file's operations (and Bull Board would list every other file's backends).
  db = await createEmptyDatabase();
  await migrateDeploy(db.url);
  const own = { DATABASE_URL: db.url, DATABASE_DIRECT_URL: db.directUrl };
  h = await startApiHarness(own);
  // A short outbox sweep, so what a killed replica committed but never enqueued is picked up within the test.
  apis = await Promise.all([1, 2, 3].map(() => startApiProcess({ ...own, OUTBOX_SWEEP_INTERVAL_MS: '500' })));
  lb = await startPrivateHaproxy(apis.map((a) => a.baseUrl));
}, 120_000);
afterAll(async () => {
  await lb?.stop();
  await Promise.all(apis.map((a) => a.stop()));
  await h?.close();
  if (db) await dropTestDatabase(db.name);
});

interface Reply {
  status: number;
  body: { success: boolean; data?: { id: string; name: string; operation_id: string }; error?: string };
  servedBy: string;
}

async function send(method: string, path: string, key: string, body?: object): Promise<Reply> {
  const res = await fetch(`${lb.baseUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: body ? JSON.stringify(body) : undefined,
  });
  return { status: res.status, body: (await res.json()) as Reply['body'], servedBy: res.headers.get('x-served-by') ?? '' };
}

/**
 * What a real client does with a create: a connection that broke, or a 502/503 from the load
 * balancer (its replica died with the request), is sent again; anything else is the answer.
 */
async function createWithRetry(body: object): Promise<Reply & { attempts: number }> {
  for (let attempts = 1; ; attempts++) {
    const reply = await send('POST', '/api/v1/storage/luns', h.keys.operator, body).catch(() => undefined);
    if (reply && ![502, 503, 504].includes(reply.status)) return { ...reply, attempts };
    if (attempts >= 10) throw new Error(`create ${JSON.stringify(body)} failed ${attempts} times`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function newBackend(): Promise<{ id: string; name: string }> {
  const reply = await send('POST', '/api/v1/storage/backends', h.keys.admin, backendBody());
  expect(reply.status).toBe(201);
  return reply.body.data!;
}

describe('three API replicas behind HAProxy', () => {
  it('50 parallel creates, ten sharing a name, through the load balancer: the answers of one API', async () => {
    const backend = await newBackend();
    const { names, shared } = fiftyCreates();
    const replies = await Promise.all(names.map((name) => send('POST', '/api/v1/storage/luns', h.keys.operator, createBody(name, backend.id))));
    expect(new Set(replies.map((r) => r.servedBy))).toEqual(new Set(['api1', 'api2', 'api3']));
    await expectOneApiOutcome(h, backend.id, shared, replies);
  }, 60_000);

  it('Bull Board answers on every replica with the same queue', async () => {
    const backend = await newBackend();
    for (let i = 0; i < 3; i++) expect((await createWithRetry({ name: unique('bb'), size_gb: 1, target_id: backend.id })).status).toBe(202);
    const basic = `Basic ${Buffer.from(`admin:${h.keys.admin}`).toString('base64')}`;

    for (const api of apis) {
      const page = await fetch(`${api.baseUrl}/admin/queues`, { headers: { authorization: basic } });
      expect(page.status).toBe(200);
      expect(await page.text()).toContain('<html');
      const res = await fetch(`${api.baseUrl}/admin/queues/api/queues?page=1&jobsPerPage=10`, { headers: { authorization: basic } });
      expect(res.status).toBe(200);
      const { queues } = (await res.json()) as { queues: { displayName?: string; counts: Record<string, number> }[] };
      const ours = queues.find((q) => q.displayName === `${backend.name} (tgt)`);
      expect(ours?.counts.waiting).toBe(3);
    }
    // And through the load balancer, whichever replica answers: every one of them, within as
    // long as it takes (round robin skips a replica its health check has marked down, and on a
    // loaded machine one can be down for a second or two until two checks pass again).
    const served = new Set<string>();
    const deadline = Date.now() + 20_000;
    while (served.size < 3 && Date.now() < deadline) {
      const page = await fetch(`${lb.baseUrl}/admin/queues`, { headers: { authorization: basic } });
      expect(page.status).toBe(200);
      served.add(page.headers.get('x-served-by') ?? '');
      await new Promise((r) => setTimeout(r, 50));
    }
    expect([...served].sort()).toEqual(['api1', 'api2', 'api3']);
  }, 60_000);

  it('one replica SIGKILLed mid-run: every accepted create exists with its operation and its job; clients retrying lose nothing', async () => {
    const backend = await newBackend();
    const names = Array.from({ length: 60 }, (_, i) => `${unique('k')}-${i}`);
    const victim = apis[1]!;
    const results = new Map<string, Reply & { attempts: number }>();
    let done = 0;
    let killedAt = -1;

    // Ten clients at a time; the second replica dies once a quarter of the creates are answered.
    const queue = [...names];
    const client = async () => {
      for (let name = queue.shift(); name !== undefined; name = queue.shift()) {
        results.set(name, await createWithRetry({ name, size_gb: 1, target_id: backend.id }));
        done += 1;
        if (done === 15 && killedAt < 0) {
          killedAt = done;
          victim.child.kill('SIGKILL');
        }
      }
    };
    await Promise.all(Array.from({ length: 10 }, client));
    expect((await victim.exited).signal).toBe('SIGKILL');

    const replies = [...results.values()];
    const retried = replies.filter((r) => r.attempts > 1);
    const foundCommitted = retried.filter((r) => r.status === 409).length;
    console.log(`replica api2 killed after ${killedAt} of 60 creates; ${retried.length} creates sent again after a broken connection or a 502/503, ${foundCommitted} of them finding their first attempt committed (409 on the name)`);
    expect(replies.map((r) => r.servedBy)).toContain('api2');
    // A retry may find its own first attempt committed (409 on the name); nothing else fails.
    for (const r of replies) expect(r.status === 202 || (r.status === 409 && r.attempts > 1)).toBe(true);

    // Every create that was answered 202 exists, with the operation the reply named.
    const accepted = replies.filter((r) => r.status === 202).map((r) => r.body.data!);
    const ops = await h.services.prisma.operation.findMany({ where: { id: { in: accepted.map((d) => d.operation_id) } } });
    expect(new Map(ops.map((o) => [o.id, o.lunId]))).toEqual(new Map(accepted.map((d) => [d.operation_id, d.id])));

    // Every name exists exactly once, each LUN with exactly one operation.
    const luns = await h.services.prisma.iscsiLun.findMany({ where: { backendId: backend.id } });
    expect(luns.map((l) => l.name).sort()).toEqual([...names].sort());
    const allOps = await h.services.prisma.operation.findMany({ where: { backendId: backend.id } });
    expect(allOps.map((o) => o.lunId).sort()).toEqual(luns.map((l) => l.id).sort());

    // And every operation reaches the queue: what the killed replica committed but never
    // enqueued is enqueued by a survivor's outbox sweeper (job id = operation id).
    const queueOf = h.services.queues.forBackend(backend.id);
    await waitFor('a job for every operation', async () => {
      const jobs = await queueOf.getJobs(['waiting', 'delayed', 'prioritized']);
      const ids = new Set(jobs.map((j) => j.id));
      return allOps.every((o) => ids.has(o.id)) ? true : undefined;
    }, 30_000, 250);
    expect(await queueOf.getJobCounts('waiting', 'delayed', 'prioritized')).toMatchObject({ waiting: 60 });

    // The load balancer took the dead replica out: what follows is served by the two left.
    const after = await Promise.all(Array.from({ length: 6 }, () => send('GET', '/api/v1/storage/luns?limit=1', h.keys.viewer)));
    expect(after.map((r) => r.status)).toEqual(Array(6).fill(200));
    expect(new Set(after.map((r) => r.servedBy))).toEqual(new Set(['api1', 'api3']));
  }, 120_000);
});
