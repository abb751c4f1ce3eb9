import { randomUUID } from 'node:crypto';
import { targetIqn } from '@bootlun/contracts';
import { backendBody, startApiHarness, unique, type ApiHarness } from '../support/api-harness';

/**
 * POST /storage/luns/bulk and GET /storage/luns/bulk/{id} on real Postgres and Redis, no
 * worker: what the API commits and answers. Each test has a backend of its own, made
 * online and measured the way its worker's heartbeat would.
 */
const GiB = 1024 ** 3;
let h: ApiHarness;

beforeAll(async () => {
  h = await startApiHarness({ BACKEND_OFFLINE_AFTER_MS: '600000' });
});
afterAll(() => h?.close());

interface Fleet {
  backend: { id: string; name: string };
  template: { id: string; name: string; size_gb: number };
  nodes: Array<{ id: string; hostname: string }>;
}

/** A measured backend of `totalGb`, a ready 10 GB template on it, and `count` nodes with hostnames. */
async function fleet(count: number, totalGb = 100): Promise<Fleet> {
  const backend = (await h.as('admin').post('/api/v1/storage/backends', backendBody())).body.data;
  await h.services.repos.backends.recordHeartbeat(backend.id, 'online', new Date());
  await h.services.repos.backends.recordCapacity(backend.id, { source: 'filesystem', location: backend.config.backingstore_path, totalBytes: totalGb * GiB, usedBytes: 0, freeBytes: totalGb * GiB }, new Date());
  const template = (await h.as('operator').post('/api/v1/storage/luns', { name: unique('golden'), size_gb: 10, target_id: backend.id, template: true })).body.data;
  await h.services.repos.luns.writeBack(template.id, template.generation, { status: 'ready' });
  const nodes = [];
  for (let i = 0; i < count; i++) {
    const mac = `02:b0:${[0, 0, 0, 0].map(() => Math.floor(Math.random() * 256).toString(16).padStart(2, '0')).join(':')}`;
    nodes.push((await h.as('operator').post('/api/v1/nodes', { mac_address: mac, hostname: unique('node') })).body.data);
  }
  return { backend, template, nodes };
}

const bulk = (body: Record<string, unknown>, key?: string) => {
  const req = h.as('operator').post('/api/v1/storage/luns/bulk', body);
  return key === undefined ? req : req.set('Idempotency-Key', key);
};
const bodyFor = (f: Fleet, extra: Record<string, unknown> = {}) => ({ source: { lun_id: f.template.id }, node_ids: f.nodes.map((n) => n.id), name_pattern: '{hostname}-boot', ...extra });
const fieldsOf = (res: { body: { fields?: Array<{ field: string }> } }) => (res.body.fields ?? []).map((f) => f.field);
const lunCount = async () => h.services.prisma.iscsiLun.count();
const batchCount = async () => h.services.prisma.lunBatch.count();

describe('POST /storage/luns/bulk', () => {
  it('refuses a malformed request with 400 naming the field, creating nothing', async () => {
    const f = await fleet(2);
    const [a, b] = f.nodes;
    await h.as('operator').patch(`/api/v1/nodes/${b!.id}`, { hostname: a!.hostname.toUpperCase() });
    const noHost = (await h.as('operator').post('/api/v1/nodes', { mac_address: '02:b1:00:00:00:01'.replace('01', Math.floor(Math.random() * 99).toString().padStart(2, '0')) })).body.data;
    const fqdn = (await h.as('operator').post('/api/v1/nodes', { mac_address: '02:b2:00:00:00:01'.replace('01', Math.floor(Math.random() * 99).toString().padStart(2, '0')), hostname: `${unique('n')}.example.com` })).body.data;
    const many = Array.from({ length: 501 }, () => randomUUID());
    const cases: Array<[Record<string, unknown>, string[]]> = [
      [bodyFor(f, { name_pattern: 'boot' }), ['name_pattern']],
      [bodyFor(f, { name_pattern: '{host}-boot' }), ['name_pattern']],
      [bodyFor(f, { node_ids: many }), ['node_ids']],
      [bodyFor(f, { node_ids: [a!.id, a!.id] }), ['node_ids.1']],
      [bodyFor(f, { node_ids: [a!.id, randomUUID()] }), ['node_ids.1']],
      // Two hostnames that differ only in case give one name.
      [bodyFor(f), ['node_ids.1', 'name_pattern']],
      [bodyFor(f, { node_ids: [noHost.id] }), ['node_ids.0', 'name_pattern']],
      [bodyFor(f, { node_ids: [fqdn.id] }), ['node_ids.0', 'name_pattern']],
      [bodyFor(f, { source: { lun_id: randomUUID() } }), ['source.lun_id']],
      [bodyFor(f, { size_gb: 5 }), ['size_gb']],
      [bodyFor(f, { purpose: 'nope' }), ['purpose']],
    ];
    const [luns, batches] = [await lunCount(), await batchCount()];
    for (const [body, fields] of cases) {
      const res = await bulk(body);
      expect({ body: body.name_pattern, status: res.status, error: res.body.error }).toEqual({ body: body.name_pattern, status: 400, error: 'validation_error' });
      expect(fieldsOf(res)).toEqual(expect.arrayContaining(fields));
    }
    const badKey = await bulk(bodyFor(f, { node_ids: [a!.id] }), 'has space');
    expect([badKey.status, fieldsOf(badKey)]).toEqual([400, ['Idempotency-Key']]);
    expect([await lunCount(), await batchCount()]).toEqual([luns, batches]);
  });

  it('clones only a ready template (409 naming source.lun_id otherwise)', async () => {
    const f = await fleet(1);
    await h.as('operator').patch(`/api/v1/storage/luns/${f.template.id}`, { template: false });
    const res = await bulk(bodyFor(f));
    expect([res.status, res.body.error, fieldsOf(res)]).toEqual([409, 'conflict', ['source.lun_id']]);
    expect(res.body.detail).toMatch(/is not a template/);
  });

  it('goes ahead with every item it can and says, per item in request order, which failed and why', async () => {
    // 40 GiB total; the template (10) and two 1 GB LUNs are provisioned: room for two 10 GB clones.
    const f = await fleet(5, 40);
    const [n1, n2, n3, n4, n5] = f.nodes;
    const booting = (await h.as('operator').post('/api/v1/storage/luns', { name: unique('old'), size_gb: 1, target_id: f.backend.id })).body.data;
    await h.services.repos.luns.writeBack(booting.id, booting.generation, { status: 'ready' });
    expect((await h.as('operator').post(`/api/v1/storage/luns/${booting.id}/assign`, { node_id: n2!.id })).status).toBe(202);
    expect((await h.as('operator').post('/api/v1/storage/luns', { name: `${n3!.hostname}-boot`, size_gb: 1, target_id: f.backend.id })).status).toBe(202);

    const res = await bulk(bodyFor(f));
    expect(res.status).toBe(202);
    const data = res.body.data;
    expect(res.body.message).toMatch(/^2 clone\(s\) queued, 3 refused/);
    expect(data).toMatchObject({ source_lun_id: f.template.id, name_pattern: '{hostname}-boot', total: 5, totals: { pending: 2, running: 0, ready: 0, failed: 3 } });
    expect(data.items.map((i: { index: number; node_id: string; name: string; status: string; error: string | null }) => [i.index, i.node_id, i.name, i.status, i.error])).toEqual([
      [0, n1!.id, `${n1!.hostname}-boot`, 'pending', null],
      [1, n2!.id, `${n2!.hostname}-boot`, 'failed', 'conflict'],
      [2, n3!.id, `${n3!.hostname}-boot`, 'failed', 'conflict'],
      [3, n4!.id, `${n4!.hostname}-boot`, 'pending', null],
      [4, n5!.id, `${n5!.hostname}-boot`, 'failed', 'no_capacity'],
    ]);
    expect(data.items[1].detail).toMatch(new RegExp(`already boots from LUN ${booting.name}`));
    expect(data.items[2].detail).toMatch(/already exists/);
    expect(data.items[4].detail).toMatch(/no storage backend has room for 10 GiB.*provisioned 32 GiB/);
    for (const i of [1, 2, 4]) expect(data.items[i]).toMatchObject({ lun: null, lun_id: null, operation_id: null });

    // Accepted items: a clone of the template, assigned to its node, CHAP of its own.
    const accepted = [data.items[0], data.items[3]];
    for (const [item, node] of [[accepted[0], n1], [accepted[1], n4]] as const) {
      expect(item.lun).toMatchObject({ id: item.lun_id, name: item.name, status: 'creating', source_lun_id: f.template.id, backend_id: f.backend.id, size_gb: 10, template: false, assigned_node_id: node!.id, assigned_node_name: node!.hostname, chap_enabled: true, purpose: 'boot_from_san' });
      expect((await h.as('viewer').get(`/api/v1/storage/luns/${item.lun_id}`)).body.data).toMatchObject({ assigned_node_id: node!.id, chap_enabled: true });
    }
    expect(accepted[0].lun.chap_username).not.toBe(accepted[1].lun.chap_username);
    const secrets = await Promise.all(accepted.map(async (i: { lun_id: string }) => (await h.as('admin').get(`/api/v1/storage/luns/${i.lun_id}/credentials`)).body.data.chap_secret));
    expect(secrets[0]).not.toBe(secrets[1]);
  });

  it('refuses alone an item whose insert meets a unique IQN the plan could not see, and commits the others', async () => {
    const f = await fleet(3);
    const prefix = (await h.as('viewer').get(`/api/v1/storage/backends/${f.backend.id}`)).body.data.config.iqn_prefix;
    const clash = `${f.nodes[1]!.hostname}-boot`;
    // A row under another name holding the IQN the second clone would get: only the insert itself finds it.
    await h.services.prisma.iscsiLun.create({ data: { name: unique('squatter'), sizeGb: 1, backendId: f.backend.id, iqn: targetIqn(prefix, clash), purpose: 'install_source', status: 'ready' } });
    const res = await bulk(bodyFor(f));
    expect(res.status).toBe(202);
    expect(res.body.data.items.map((i: { status: string; error: string | null }) => [i.status, i.error])).toEqual([
      ['pending', null],
      ['failed', 'conflict'],
      ['pending', null],
    ]);
    expect(res.body.data.items[1].detail).toMatch(/iqn already exists/);
    for (const i of [0, 2]) expect(await h.services.prisma.operation.count({ where: { id: res.body.data.items[i].operation_id, lunId: res.body.data.items[i].lun_id } })).toBe(1);
    expect(await h.services.prisma.iscsiLun.count({ where: { name: clash } })).toBe(0);
  });

  it('commits each accepted LUN with its create operation and the batch, and enqueues every operation', async () => {
    const f = await fleet(3);
    const data = (await bulk(bodyFor(f))).body.data;
    const stored = await h.services.prisma.lunBatch.findUniqueOrThrow({ where: { id: data.id }, include: { items: { orderBy: { position: 'asc' } } } });
    expect(stored.items.map((i) => [i.position, i.nodeId, i.lunId, i.operationId, i.errorCode])).toEqual(data.items.map((i: { index: number; node_id: string; lun_id: string; operation_id: string }) => [i.index, i.node_id, i.lun_id, i.operation_id, null]));
    for (const item of stored.items) {
      const op = await h.services.prisma.operation.findUniqueOrThrow({ where: { id: item.operationId! } });
      expect(op).toMatchObject({ kind: 'create', lunId: item.lunId, backendId: f.backend.id, lunGeneration: 1 });
      // The outbox marker: the job reached the queue (the sweeper would have sent it otherwise).
      expect(op.enqueuedAt).not.toBeNull();
      const job = await h.services.queues.forBackend(f.backend.id).getJob(op.id);
      expect(job?.id).toBe(op.id);
    }
  });

  it('shows progress by status from the create operations, with totals', async () => {
    const f = await fleet(4);
    const data = (await bulk(bodyFor(f))).body.data;
    const [a, b, c] = data.items;
    await h.services.repos.operations.update(a.operation_id, { status: 'succeeded' });
    await h.services.repos.operations.update(b.operation_id, { status: 'running' });
    await h.services.repos.operations.update(c.operation_id, { status: 'failed', error: 'the copy failed: no space left' });
    const res = await h.as('viewer').get(`/api/v1/storage/luns/bulk/${data.id}`);
    expect(res.status).toBe(200);
    expect(res.body.data).toMatchObject({ id: data.id, total: 4, totals: { pending: 1, running: 1, ready: 1, failed: 1 } });
    expect(res.body.data.items.map((i: { status: string; error: string | null; detail: string | null; lun_id: string }) => [i.lun_id, i.status, i.error, i.detail])).toEqual([
      [a.lun_id, 'ready', null, null],
      [b.lun_id, 'running', null, null],
      [c.lun_id, 'failed', 'operation_failed', 'the copy failed: no space left'],
      [data.items[3].lun_id, 'pending', null, null],
    ]);
    expect((await h.as('viewer').get(`/api/v1/storage/luns/bulk/${randomUUID()}`)).status).toBe(404);
  });

  it('answers a retry with the same Idempotency-Key with the batch it made, and refuses the key for another request', async () => {
    const f = await fleet(2);
    const key = unique('retry');
    const first = await bulk(bodyFor(f), key);
    expect(first.status).toBe(202);
    const luns = await lunCount();
    const again = await bulk(bodyFor(f), key);
    expect([again.status, again.headers['idempotent-replayed']]).toEqual([202, 'true']);
    expect(again.body.data).toMatchObject({ id: first.body.data.id, total: 2, totals: { pending: 2, failed: 0 } });
    expect(again.body.data.items.map((i: { lun_id: string }) => i.lun_id)).toEqual(first.body.data.items.map((i: { lun_id: string }) => i.lun_id));
    expect(await lunCount()).toBe(luns);

    const other = await bulk(bodyFor(f, { name_pattern: '{hostname}-b2' }), key);
    expect([other.status, fieldsOf(other)]).toEqual([409, ['Idempotency-Key']]);

    // Without the key a retry is a new batch whose items meet the first one's LUNs.
    const keyless = await bulk(bodyFor(f));
    expect(keyless.body.data.items.map((i: { error: string }) => i.error)).toEqual(['conflict', 'conflict']);
    expect(await lunCount()).toBe(luns);
  });

  it('takes the limit of 500 nodes in one request: every clone committed with its operation and enqueued', async () => {
    const f = await fleet(0, 10_000);
    const tag = unique('fleet');
    const macs = Array.from({ length: 500 }, (_, i) => `02:c${Math.floor(Math.random() * 10)}:${tag.slice(-4, -2)}:${tag.slice(-2)}:${((i >> 8) & 0xff).toString(16).padStart(2, '0')}:${(i & 0xff).toString(16).padStart(2, '0')}`);
    await h.services.prisma.node.createMany({ data: macs.map((mac, i) => ({ macAddress: mac, hostname: `${tag}-n${i}`, initiatorIqn: `iqn.2026-11.io.bootlun.test:${tag}-${i}` })) });
    const nodes = await h.services.prisma.node.findMany({ where: { hostname: { startsWith: `${tag}-n` } }, orderBy: { macAddress: 'asc' } });
    const started = Date.now();
    const res = await bulk(bodyFor({ ...f, nodes: nodes.map((n) => ({ id: n.id, hostname: n.hostname! })) }, { name_pattern: '{hostname}-{index}' }));
    const seconds = (Date.now() - started) / 1000;
    expect(res.status).toBe(202);
    expect(res.body.data).toMatchObject({ total: 500, totals: { pending: 500, failed: 0 } });
    expect(await h.services.prisma.operation.count({ where: { id: { in: res.body.data.items.map((i: { operation_id: string }) => i.operation_id) }, enqueuedAt: { not: null } } })).toBe(500);
    // A generous bound on a loaded 2-core machine; about a second when idle.
    expect(seconds).toBeLessThan(30);
  }, 60_000);

  it('keeps a template while its clones exist (409); un-marking it is the way to delete it anyway', async () => {
    const f = await fleet(1);
    const item = (await bulk(bodyFor(f))).body.data.items[0];
    await h.services.repos.luns.writeBack(item.lun_id, 1, { status: 'active' });
    const refused = await h.as('operator').delete(`/api/v1/storage/luns/${f.template.id}`);
    expect([refused.status, refused.body.error, fieldsOf(refused)]).toEqual([409, 'conflict', ['template']]);
    expect(refused.body.detail).toMatch(/template with 1 clone/);
    expect((await h.as('operator').patch(`/api/v1/storage/luns/${f.template.id}`, { template: false })).status).toBe(200);
    expect((await h.as('operator').delete(`/api/v1/storage/luns/${f.template.id}`)).status).toBe(202);
  });
});
