import request from 'supertest';
import { backendBody, startApiHarness, unique, type ApiHarness } from '../support/api-harness';

let h: ApiHarness;
beforeAll(async () => (h = await startApiHarness()));
afterAll(() => h.close());

describe('authentication and roles', () => {
  it('answers 401 with the envelope and a WWW-Authenticate header without a key', async () => {
    const res = await request(h.app).get('/api/v1/storage/luns');
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toBe('Bearer');
    expect(res.body).toEqual({ success: false, error: 'unauthorized', detail: expect.stringContaining('API key') });
  });

  it('answers 401 for malformed and unknown keys', async () => {
    for (const key of ['nonsense', `blk_AAAAAAAAAAAA_${'x'.repeat(43)}`, h.keys.admin.slice(0, -1) + (h.keys.admin.endsWith('a') ? 'b' : 'a')]) {
      const res = await request(h.app).get('/api/v1/nodes').set('Authorization', `Bearer ${key}`);
      expect(res.status).toBe(401);
    }
  });

  it('lets a viewer read but answers 403 naming the needed role for changes', async () => {
    expect((await h.as('viewer').get('/api/v1/nodes')).status).toBe(200);
    const res = await h.as('viewer').post('/api/v1/nodes', { mac_address: '02:00:00:00:00:01' });
    expect(res.status).toBe(403);
    expect(res.body.error).toBe('forbidden');
    expect(res.body.detail).toMatch(/operator role/);
  });

  it('keeps backends and API keys for admins', async () => {
    const res = await h.as('operator').post('/api/v1/storage/backends', backendBody());
    expect(res.status).toBe(403);
    expect((await h.as('operator').get('/api/v1/api-keys')).status).toBe(403);
    expect((await h.as('admin').post('/api/v1/storage/backends', backendBody())).status).toBe(201);
  });

  it('creates keys that work, shows the token once, and revokes them', async () => {
    const created = await h.as('admin').post('/api/v1/api-keys', { name: unique('ci'), role: 'viewer' });
    expect(created.status).toBe(201);
    const token = created.body.data.token as string;
    expect(token).toMatch(/^blk_/);
    const list = await h.as('admin').get('/api/v1/api-keys?limit=1000');
    expect(JSON.stringify(list.body)).not.toContain(token);
    expect(JSON.stringify(list.body)).not.toMatch(/secret_hash|secretHash/);
    expect((await request(h.app).get('/api/v1/nodes').set('Authorization', `Bearer ${token}`)).status).toBe(200);
    expect((await h.as('admin').delete(`/api/v1/api-keys/${created.body.data.id}`)).status).toBe(200);
    expect((await request(h.app).get('/api/v1/nodes').set('Authorization', `Bearer ${token}`)).status).toBe(401);
  });

  it('stores keys only hashed', async () => {
    const rows = await h.services.prisma.apiKey.findMany();
    const secretPart = h.keys.admin.split('_').slice(2).join('_');
    expect(JSON.stringify(rows)).not.toContain(secretPart);
  });
});
