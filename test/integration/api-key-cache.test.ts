import { createHash, randomBytes } from 'node:crypto';
import request from 'supertest';
import { startApiHarness, unique, type ApiHarness } from '../support/api-harness';
import { waitFor } from '../support/wait-for';

/**
 * Key lookups are cached in the API process (API_KEY_CACHE_MS). A revocation through this
 * process is refused at once; one made elsewhere (another replica, or by hand in the
 * database) within the cache time. A short cache time keeps this test quick.
 */
const CACHE_MS = 1_000;

let h: ApiHarness;
beforeAll(async () => (h = await startApiHarness({ API_KEY_CACHE_MS: String(CACHE_MS) })));
afterAll(() => h.close());

async function newKey(): Promise<{ id: string; token: string }> {
  const res = await h.as('admin').post('/api/v1/api-keys', { name: unique('cache'), role: 'viewer' });
  return { id: res.body.data.id, token: res.body.data.token };
}
async function asKey(token: string): Promise<number> {
  return (await request(h.app).get('/api/v1/nodes?limit=1').set('Authorization', `Bearer ${token}`)).status;
}

describe('API key lookup cache', () => {
  it('refuses a key revoked through the API at once', async () => {
    const key = await newKey();
    expect(await asKey(key.token)).toBe(200);
    expect((await h.as('admin').delete(`/api/v1/api-keys/${key.id}`)).status).toBe(200);
    expect(await asKey(key.token)).toBe(401);
  });

  it('refuses a key revoked by another replica within the cache time', async () => {
    const key = await newKey();
    expect(await asKey(key.token)).toBe(200); // now cached
    const revokedAt = Date.now();
    // Another replica's revocation: straight into the database, past this process's cache.
    await h.services.prisma.apiKey.update({ where: { id: key.id }, data: { revokedAt: new Date() } });
    await waitFor('the revoked key to be refused', async () => ((await asKey(key.token)) === 401 ? true : undefined), CACHE_MS + 4_000, 50);
    expect(Date.now() - revokedAt).toBeLessThan(CACHE_MS + 2_000);
    // And it stays refused.
    expect(await asKey(key.token)).toBe(401);
  });

  it('accepts a key made by another replica at once (misses are not kept)', async () => {
    const lookupId = randomBytes(6).toString('hex').toUpperCase();
    const secret = randomBytes(32).toString('base64url');
    const token = `blk_${lookupId}_${secret}`;
    expect(await asKey(token)).toBe(401);
    await h.services.prisma.apiKey.create({ data: { name: unique('elsewhere'), role: 'viewer', lookupId, secretHash: createHash('sha256').update(secret).digest('hex') } });
    expect(await asKey(token)).toBe(200);
  });
});
