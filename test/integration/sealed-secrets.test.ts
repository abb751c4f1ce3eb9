import { spawn } from 'node:child_process';
import { createCipheriv, randomBytes } from 'node:crypto';
import path from 'node:path';
import { bindUnboundSecrets, desiredTargetFor, SealedSecretError, type Lun, type WorkerDeps } from '@bootlun/core';
import { migrateDeploy, type ScratchDatabase } from '@bootlun/db';
import { Client } from 'pg';
import request from 'supertest';
import { backendBody, startApiHarness, unique, type ApiHarness } from '../support/api-harness';
import { createEmptyDatabase, dropTestDatabase } from '../support/test-db';

/**
 * On a database of this file's own: the key check counts every sealed secret in the
 * database, so rows sealed by other suites (each with its own test key) must not be there.
 */
let db: ScratchDatabase;
let h: ApiHarness;
const sealingKey = randomBytes(32).toString('base64');
let backendId: string;

async function sql<T extends object = Record<string, unknown>>(text: string, values: unknown[] = []): Promise<T[]> {
  const client = new Client({ connectionString: db.url });
  await client.connect();
  try {
    return (await client.query<T>(text, values)).rows;
  } finally {
    await client.end();
  }
}

/** A value in the format written before secrets were bound to their LUN: the key id alone as associated data. */
function legacySeal(keyId: string, base64Key: string, plaintext: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', Buffer.from(base64Key, 'base64'), iv);
  cipher.setAAD(Buffer.from(keyId));
  const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return Buffer.concat([iv, cipher.getAuthTag(), ciphertext]).toString('base64');
}

async function createChapLun(mutual = false): Promise<{ id: string; name: string }> {
  const res = await h.as('operator').post('/api/v1/storage/luns', { name: unique('sealed'), size_gb: 1, backend_id: backendId, chap_enabled: true, mutual_chap_enabled: mutual });
  expect(res.status).toBe(202);
  return res.body.data;
}

const credentials = (id: string) => h.as('admin').get(`/api/v1/storage/luns/${id}/credentials`);

beforeAll(async () => {
  db = await createEmptyDatabase();
  await migrateDeploy(db.url);
  h = await startApiHarness({ DATABASE_URL: db.url, CHAP_SEALING_KEY: sealingKey, CHAP_SEALING_KEY_ID: 'k1' });
  backendId = (await h.as('admin').post('/api/v1/storage/backends', backendBody())).body.data.id;
});
afterAll(async () => {
  await h?.close();
  if (db) await dropTestDatabase(db.name);
});
// Each test sets up the sealed rows it reasons about.
beforeEach(() => sql('DELETE FROM iscsi_luns'));

describe('sealed CHAP secrets are bound to their LUN', () => {
  it('a sealed value copied from LUN A to LUN B does not open on B (credentials, worker); A still opens; audited after the outcome', async () => {
    const a = await createChapLun(true);
    const b = await createChapLun(true);
    const secretA = (await credentials(a.id)).body.data.chap_secret as string;
    await sql(
      `UPDATE iscsi_luns AS b SET chap_secret_sealed = a.chap_secret_sealed, chap_secret_key_id = a.chap_secret_key_id
         FROM iscsi_luns AS a WHERE a.id = $1 AND b.id = $2`,
      [a.id, b.id],
    );

    const events: Array<[string, Record<string, unknown>]> = [];
    const audit = h.core.audit;
    h.core.audit = { record: (event, fields) => events.push([event, fields]) };
    try {
      const res = await credentials(b.id);
      expect(res.status).toBe(500);
      expect(res.body.detail).toMatch(new RegExp(`CHAP secret of LUN ${b.name} \\(${b.id}\\) cannot be opened: it was sealed for another LUN or column`));
      expect(JSON.stringify(res.body)).not.toContain(secretA);
      expect((await credentials(a.id)).body.data.chap_secret).toBe(secretA);
    } finally {
      h.core.audit = audit;
    }
    // One event per attempt, written once the outcome is known: no "revealed" for B.
    expect(events).toEqual([
      ['lun.credentials.revealed', expect.objectContaining({ lunId: b.id, outcome: 'failed', reason: expect.stringMatching(/cannot be opened/) })],
      ['lun.credentials.revealed', expect.objectContaining({ lunId: a.id, outcome: 'revealed' })],
    ]);
    expect(JSON.stringify(events)).not.toContain(secretA);

    // The worker opens with the LUN id too: B's target is never built with A's secret.
    const lunB = (await h.services.repos.luns.get(b.id)) as Lun;
    const worker = { repos: h.services.repos, secrets: h.services.secrets, backingFor: () => ({ kind: 'file', path: '/srv/x/bootlun-x.img' }) } as unknown as WorkerDeps;
    await expect(desiredTargetFor(worker, lunB, { createBacking: false })).rejects.toThrow(SealedSecretError);
  });

  it('the initiator and target secrets of one LUN cannot be swapped either', async () => {
    const a = await createChapLun(true);
    await sql(
      `UPDATE iscsi_luns SET chap_secret_sealed = target_chap_secret_sealed, target_chap_secret_sealed = chap_secret_sealed WHERE id = $1`,
      [a.id],
    );
    const res = await credentials(a.id);
    expect(res.status).toBe(500);
    expect(res.body.detail).toMatch(/cannot be opened/);
  });

  it('an old-format row still opens, and the start-up step binds it once even with two replicas at it', async () => {
    const a = await createChapLun();
    const other = await createChapLun();
    const legacy = legacySeal('k1', sealingKey, 'Old2345678abcde');
    await sql(`UPDATE iscsi_luns SET chap_secret_sealed = $1, chap_secret_key_id = 'k1' WHERE id = $2`, [legacy, a.id]);
    expect((await credentials(a.id)).body.data.chap_secret).toBe('Old2345678abcde');

    const second = await startApiHarness({ DATABASE_URL: db.url, CHAP_SEALING_KEY: sealingKey, CHAP_SEALING_KEY_ID: 'k1' }, { mintKeys: false });
    try {
      const [one, two] = await Promise.all([
        bindUnboundSecrets({ repos: h.services.repos, secrets: h.services.secrets }),
        bindUnboundSecrets({ repos: second.services.repos, secrets: second.services.secrets }),
      ]);
      expect(one.bound + two.bound).toBe(1);
      expect(one.unopenable + two.unopenable).toBe(0);
    } finally {
      await second.close();
    }
    const [row] = await sql<{ chap_secret_sealed: string; chap_secret_key_id: string }>('SELECT chap_secret_sealed, chap_secret_key_id FROM iscsi_luns WHERE id = $1', [a.id]);
    expect(row!.chap_secret_sealed).not.toBe(legacy);
    expect(row!.chap_secret_sealed.startsWith('v2:')).toBe(true);
    expect(row!.chap_secret_key_id).toBe('k1');
    expect((await credentials(a.id)).body.data.chap_secret).toBe('Old2345678abcde');
    expect(await bindUnboundSecrets({ repos: h.services.repos, secrets: h.services.secrets })).toEqual({ bound: 0, unopenable: 0 });

    // Once bound, the migrated value is tied to its LUN like a new one.
    await sql(`UPDATE iscsi_luns AS o SET chap_secret_sealed = a.chap_secret_sealed FROM iscsi_luns AS a WHERE a.id = $1 AND o.id = $2`, [a.id, other.id]);
    expect((await credentials(other.id)).status).toBe(500);
  });
});

describe('sealing keys are checked at start and by /readyz', () => {
  const readyz = async (harness: ApiHarness) => request(harness.app).get('/readyz');

  it('is ready when every sealed secret opens', async () => {
    await createChapLun(true);
    const fresh = await startApiHarness({ DATABASE_URL: db.url, CHAP_SEALING_KEY: sealingKey, CHAP_SEALING_KEY_ID: 'k1' }, { mintKeys: false });
    try {
      const res = await readyz(fresh);
      expect(res.status).toBe(200);
      expect(res.body.data).toEqual({ status: 'ready', checks: { database: 'ok', migrations: 'ok', queue: 'ok', secrets: 'ok' } });
    } finally {
      await fresh.close();
    }
  });

  it('fails readiness naming a key id no configured key has, and production refuses to start with one line', async () => {
    const lun = await createChapLun();
    await sql(`UPDATE iscsi_luns SET chap_secret_key_id = 'k0' WHERE id = $1`, [lun.id]);
    const fresh = await startApiHarness({ DATABASE_URL: db.url, CHAP_SEALING_KEY: sealingKey, CHAP_SEALING_KEY_ID: 'k1' }, { mintKeys: false });
    try {
      const res = await readyz(fresh);
      expect(res.status).toBe(503);
      expect(res.body.checks).toMatchObject({ database: 'ok', secrets: 'failing' });
      expect(res.body.detail).toMatch(/no key is configured for key id k0 \(1 sealed secret\)/);
    } finally {
      await fresh.close();
    }

    const api = await runApiUntilExit({ DATABASE_URL: db.url, CHAP_SEALING_KEY: sealingKey, CHAP_SEALING_KEY_ID: 'k1' });
    expect(api.code).toBe(1);
    expect(api.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^invalid configuration: CHAP sealing keys: no key is configured for key id k0 \(1 sealed secret\)/)]);
  });

  it('detects a wrong key under the right key id (readiness, and the production start)', async () => {
    await createChapLun(true);
    const wrongKey = randomBytes(32).toString('base64');
    const wrong = await startApiHarness({ DATABASE_URL: db.url, CHAP_SEALING_KEY: wrongKey, CHAP_SEALING_KEY_ID: 'k1' }, { mintKeys: false });
    try {
      const res = await readyz(wrong);
      expect(res.status).toBe(503);
      expect(res.body.checks.secrets).toBe('failing');
      expect(res.body.detail).toMatch(/the key configured as k1 \(2 sealed secrets\) does not open its sealed secrets/);
      expect(res.body.detail).not.toContain(wrongKey);
    } finally {
      await wrong.close();
    }
    const api = await runApiUntilExit({ DATABASE_URL: db.url, CHAP_SEALING_KEY: wrongKey, CHAP_SEALING_KEY_ID: 'k1' });
    expect(api.code).toBe(1);
    expect(api.stderr).toMatch(/^invalid configuration: CHAP sealing keys: the key configured as k1/);
    expect(api.stderr).not.toContain(wrongKey);
  });
});

/** The real API entry point in production mode, expected to refuse to start. */
function runApiUntilExit(env: Record<string, string>): Promise<{ code: number | null; stderr: string }> {
  const root = path.resolve(__dirname, '../..');
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(root, 'apps/api/src/main.ts')], {
    cwd: root,
    env: { ...process.env, NODE_ENV: 'production', BOOT_ALLOWED_NETWORKS: '127.0.0.1/32', LOG_PRETTY: 'false', PORT: '0', ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  // A guard, not a wait: an API that does not refuse would otherwise outlive the test.
  const guard = setTimeout(() => child.kill('SIGKILL'), 30_000);
  return new Promise((resolve) =>
    child.on('exit', (code) => {
      clearTimeout(guard);
      resolve({ code, stderr });
    }),
  );
}
