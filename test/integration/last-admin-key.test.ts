import { createApiKey } from '@bootlun/core';
import { migrateDeploy, type ScratchDatabase } from '@bootlun/db';
import request from 'supertest';
import { startApiHarness, unique, type ApiHarness } from '../support/api-harness';
import { createEmptyDatabase, dropTestDatabase } from '../support/test-db';

/** On a database of this file's own, so the admin keys other suites mint do not count. */
let db: ScratchDatabase;
let h: ApiHarness;

beforeAll(async () => {
  db = await createEmptyDatabase();
  await migrateDeploy(db.url);
  h = await startApiHarness({ DATABASE_URL: db.url });
});
afterAll(async () => {
  await h?.close();
  if (db) await dropTestDatabase(db.name);
});

const revoke = (token: string, id: string) => request(h.app).delete(`/api/v1/api-keys/${id}`).set('Authorization', `Bearer ${token}`);
const activeAdmins = async () => (await h.services.prisma.apiKey.findMany({ where: { role: 'admin', revokedAt: null } })).map((k) => k.id);

describe('the last admin key', () => {
  it('cannot be revoked, by itself or through a race of two admins revoking each other', async () => {
    const [only] = await activeAdmins();
    const refused = await revoke(h.keys.admin, only!);
    expect(refused.status).toBe(409);
    expect(refused.body.detail).toMatch(/last active admin key/);
    expect(await activeAdmins()).toEqual([only]);

    const second = await createApiKey(h.services.repos.apiKeys, { name: unique('admin'), role: 'admin' });
    // Each admin revokes the other at the same moment: exactly one may win. The loser is
    // refused as the last admin, or (if the winner committed before it authenticated) as revoked.
    const [a, b] = await Promise.all([revoke(h.keys.admin, second.key.id), revoke(second.token, only!)]);
    expect([a.status, b.status].filter((s) => s === 200)).toHaveLength(1);
    const loser = [a, b].find((r) => r.status !== 200)!;
    expect([409, 401]).toContain(loser.status);
    expect(await activeAdmins()).toHaveLength(1);
  });

  it('still revokes an admin key while another stays active, and any non-admin key', async () => {
    const extra = await createApiKey(h.services.repos.apiKeys, { name: unique('admin'), role: 'admin' });
    const viewer = await createApiKey(h.services.repos.apiKeys, { name: unique('viewer'), role: 'viewer' });
    expect((await revoke(extra.token, viewer.key.id)).status).toBe(200);
    const others = (await activeAdmins()).filter((id) => id !== extra.key.id);
    expect(others).toHaveLength(1);
    expect((await revoke(extra.token, others[0]!)).status).toBe(200);
    expect((await revoke(extra.token, extra.key.id)).status).toBe(409);
    expect(await activeAdmins()).toEqual([extra.key.id]);
  });
});
