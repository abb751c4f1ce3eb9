import { beginOperation, runOperation, type TargetDriver, type WorkerDeps } from '@bootlun/core';
import pg from 'pg';
import { backendBody, startApiHarness, unique, type ApiHarness } from '../support/api-harness';

/**
 * SQL round trips per request on the hot paths, counted at the driver (every statement
 * node-postgres sends, BEGIN and COMMIT included). The API key is looked up once and then
 * served from the process's cache, as for a client that keeps calling.
 */
const sent: string[] = [];
const query = pg.Client.prototype.query;
/** With BullMQ's PostgreSQL backend the queue's own statements (add_job, …) go through pg too; they are the queue's, not ours. */
const isQueueStatement = (sql: string) => /^\s*--[^\n]*\n\s*SELECT (add_job|add_jobs)\(/.test(sql) || /\bbullmq\b/i.test(sql);
beforeAll(() => {
  pg.Client.prototype.query = function (this: pg.Client, ...args: unknown[]) {
    const q = args[0] as string | { text?: string };
    const sql = typeof q === 'string' ? q : (q?.text ?? '');
    if (!isQueueStatement(sql)) sent.push(sql);
    return (query as (...a: unknown[]) => unknown).apply(this, args);
  } as typeof query;
});
afterAll(() => {
  pg.Client.prototype.query = query;
});

let h: ApiHarness;
let backendId: string;
let lunId: string;
beforeAll(async () => {
  h = await startApiHarness();
  backendId = (await h.as('admin').post('/api/v1/storage/backends', backendBody())).body.data.id;
  await h.as('operator').post('/api/v1/nodes', { mac_address: '02:00:00:aa:00:01', hostname: unique('rt') });
  lunId = (await h.as('operator').post('/api/v1/storage/luns', { name: unique('rt'), size_gb: 1, target_id: backendId, chap_enabled: true })).body.data.id;
});
afterAll(() => h.close());

/** Statements one request sends, after a first call has warmed the key cache. */
async function roundTrips(send: () => Promise<{ status: number }>, expected: number): Promise<string[]> {
  expect((await send()).status).toBeLessThan(300);
  sent.length = 0;
  const res = await send();
  expect(res.status).toBeLessThan(300);
  const statements = [...sent];
  expect({ count: statements.length, statements }).toEqual({ count: expected, statements: expect.any(Array) });
  return statements;
}

describe('SQL round trips per request', () => {
  it('a LUN page with names and total: one statement, no transaction', async () => {
    const statements = await roundTrips(() => h.as('viewer').get(`/api/v1/storage/luns?limit=50&backend_id=${backendId}`), 1);
    expect(statements.join('\n')).not.toMatch(/BEGIN/);
  });

  it('one LUN: one statement', async () => {
    await roundTrips(() => h.as('viewer').get(`/api/v1/storage/luns/${lunId}`), 1);
  });

  it('the node list: one statement', async () => {
    await roundTrips(() => h.as('viewer').get('/api/v1/nodes?limit=1000'), 1);
  });

  it('a create: the backend, the LUN with its operation in one atomic statement, the enqueue mark', async () => {
    const statements = await roundTrips(() => h.as('operator').post('/api/v1/storage/luns', { name: unique('rt'), size_gb: 1, target_id: backendId, chap_enabled: true }), 3);
    expect(statements.map((s) => s.trim().split(/\s+/)[0])).toEqual(['SELECT', 'WITH', 'UPDATE']);
    expect(statements[1]).toMatch(/INSERT INTO iscsi_luns[\s\S]*INSERT INTO operations/);
  });
});

describe('SQL round trips per job', () => {
  it('a create: claim (read + move), the LUN, the ownership ledger, write-back, done; no progress traffic for a quick converge', async () => {
    const created = (await h.as('operator').post('/api/v1/storage/luns', { name: unique('job'), size_gb: 1, target_id: backendId, chap_enabled: true })).body.data;
    const backend = (await h.services.repos.backends.get(backendId))!;
    // The tgt driver's sequence of steps and checkpoints, without a tgtd behind it.
    const driver: TargetDriver = {
      kind: 'tgt',
      lunNumber: 1,
      converge: async (desired, ctx) => {
        for (const [step, percent] of [['read tgt state', 5], ['backing file', 15], ['create target', 30], ['add LUN', 45], ['CHAP accounts', 60], ['verify', 90]] as const) {
          await ctx.checkpoint();
          await ctx.step(step, percent);
        }
        return { iqn: desired.iqn, lunNumber: 1, backingPath: '/srv/x.img', sizeBytes: desired.sizeBytes, initiators: [], chapUsername: desired.chap?.username ?? null, mutualChapUsername: null };
      },
      removeTarget: async () => undefined,
      removeBacking: async () => undefined,
      listTargets: async () => [],
      listBackings: async () => [],
      persist: async () => undefined,
      capacity: async () => ({ source: 'filesystem', location: '/srv', totalBytes: 1, usedBytes: 0, freeBytes: 1 }),
    };
    const deps: WorkerDeps = {
      repos: h.services.repos,
      secrets: h.services.secrets,
      driver,
      backend,
      backingFor: (lunId) => ({ kind: 'file', path: `/srv/bootlun-rt/bootlun-${lunId}.img` }),
      requestPersist: () => undefined,
      log: () => undefined,
    };
    sent.length = 0;
    const op = await beginOperation(deps, created.operation_id);
    await runOperation(deps, op!);
    const statements = sent.map((s) => s.trim().split(/\s+/).slice(0, 3).join(' '));
    expect(statements).toHaveLength(6);
    expect((await h.as('viewer').get(`/api/v1/storage/luns/${created.id}`)).body.data.status).toBe('ready');
    expect((await h.as('viewer').get(`/api/v1/operations/${created.operation_id}`)).body.data).toMatchObject({ status: 'succeeded', progress_percent: 100, progress_step: 'done' });
  });
});
