import request from 'supertest';
import { backendBody, startApiHarness, type ApiHarness } from '../support/api-harness';

let h: ApiHarness;
beforeAll(async () => (h = await startApiHarness()));
afterAll(() => h.close());

describe('bad input and unknown things never yield a 500', () => {
  it('invalid JSON → 400 invalid_json', async () => {
    const res = await request(h.app).post('/api/v1/nodes').set('Authorization', `Bearer ${h.keys.operator}`).set('Content-Type', 'application/json').send('{"mac_address":');
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ success: false, error: 'invalid_json', detail: expect.any(String) });
  });

  it('oversize body → 413', async () => {
    const res = await h.as('operator').post('/api/v1/nodes', { mac_address: '02:00:00:00:00:09', hostname: 'x'.repeat(100_000) });
    expect(res.status).toBe(413);
    expect(res.body.error).toBe('payload_too_large');
  });

  it('a body that is not an object → 400', async () => {
    const res = await request(h.app).post('/api/v1/nodes').set('Authorization', `Bearer ${h.keys.operator}`).set('Content-Type', 'application/json').send('[1,2]');
    expect(res.status).toBe(400);
  });

  it('malformed and unknown ids → 404 (a segment that cannot be an id names nothing)', async () => {
    const bad = await h.as('viewer').get('/api/v1/storage/luns/123');
    expect(bad.status).toBe(404);
    expect(bad.body).toEqual({ success: false, error: 'not_found', detail: 'LUN 123 does not exist' });
    const unknown = await h.as('viewer').get('/api/v1/storage/luns/00000000-0000-4000-8000-000000000000');
    expect(unknown.status).toBe(404);
    expect(unknown.body.detail).toMatch(/does not exist/);
    expect((await h.as('operator').delete('/api/v1/storage/luns/00000000-0000-4000-8000-000000000000')).status).toBe(404);
  });

  it('unknown routes → 404 with a JSON body', async () => {
    const res = await request(h.app).get('/nowhere');
    expect(res.status).toBe(404);
    expect(res.body.success).toBe(false);
  });

  it('answers 503 when the database is unreachable', async () => {
    const down = await startApiHarness({ DATABASE_URL: 'postgresql://postgres@127.0.0.1:1/nothing' }, { mintKeys: false });
    try {
      const res = await request(down.app).get('/api/v1/storage/luns').set('Authorization', `Bearer ${h.keys.viewer}`);
      expect(res.status).toBe(503);
      expect(res.body).toEqual({ success: false, error: 'unavailable', detail: expect.stringMatching(/database is unreachable/) });
      expect((await request(down.app).get('/readyz')).status).toBe(503);
    } finally {
      await down.close();
    }
  });

  it('accepts changes while the queue is down and says so; the operation stays in the outbox', async () => {
    const off = await startApiHarness({ QUEUE_BACKEND: 'redis', REDIS_URL: 'redis://127.0.0.1:1' });
    try {
      const backend = (await off.as('admin').post('/api/v1/storage/backends', backendBody({ name: `q-down-${Date.now()}` }))).body.data;
      const res = await off.as('operator').post('/api/v1/storage/luns', { name: `qd${Date.now()}`, size_gb: 1, backend_id: backend.id });
      expect(res.status).toBe(202);
      expect(res.body.message).toMatch(/queue is unreachable/);
      const op = await off.services.repos.operations.get(res.body.data.operation_id);
      expect(op).toMatchObject({ status: 'queued', enqueuedAt: null });
      const ready = await request(off.app).get('/readyz');
      expect(ready.status).toBe(503);
      expect(ready.body.detail).toMatch(/queue/);
    } finally {
      await off.close();
    }
  });
});
