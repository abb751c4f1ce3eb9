import { spawn } from 'node:child_process';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { migrateDeploy } from '@bootlun/db';
import request from 'supertest';
import { startApiProcess } from '../support/api-process';
import { backendBody, startApiHarness, unique, type ApiHarness } from '../support/api-harness';
import { createEmptyDatabase, dropTestDatabase } from '../support/test-db';

let h: ApiHarness;
beforeAll(async () => (h = await startApiHarness()));
afterAll(() => h.close());

const ROOT = path.resolve(__dirname, '../..');

/**
 * Runs the real API entry point until it exits on its own: its combined output and exit
 * code. An API that starts listening instead is stopped, and reported as `listening`.
 */
function runApiUntilExit(env: Record<string, string | undefined>): Promise<{ code: number | null; listening: boolean; output: string }> {
  return new Promise((resolve, reject) => {
    const merged: NodeJS.ProcessEnv = { ...process.env, PORT: '0', LOG_PRETTY: 'false', ...env };
    for (const [key, value] of Object.entries(merged)) if (value === undefined) delete merged[key];
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'apps/api/src/main.ts')], { cwd: ROOT, env: merged, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    let listening = false;
    const collect = (d: Buffer) => {
      output += d;
      if (!listening && output.includes('API listening')) {
        listening = true;
        child.kill('SIGKILL');
      }
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code, listening, output }));
  });
}

describe('production start', () => {
  it('refuses to start without BOOT_ALLOWED_NETWORKS, in one line naming it', async () => {
    const { code, listening, output } = await runApiUntilExit({ NODE_ENV: 'production', BOOT_ALLOWED_NETWORKS: undefined });
    expect(listening).toBe(false);
    expect(code).toBe(1);
    expect(output).toMatch(/^invalid configuration: BOOT_ALLOWED_NETWORKS must be set in production[^\n]*\n$/);
  });

  it('starts with "any" spelled out', async () => {
    // A database of its own: production also refuses sealed CHAP secrets it cannot open, and the
    // run's shared database holds whatever other files stored (this test is about the network setting).
    const db = await createEmptyDatabase();
    try {
      await migrateDeploy(db.url);
      const api = await startApiProcess({ NODE_ENV: 'production', BOOT_ALLOWED_NETWORKS: 'any', DATABASE_URL: db.url });
      try {
        expect((await fetch(`${api.baseUrl}/healthz`)).status).toBe(200);
      } finally {
        await api.stop();
      }
    } finally {
      await dropTestDatabase(db.name);
    }
  });
});

describe('secrets are never cached', () => {
  it('answers /credentials and a new API key with Cache-Control: no-store', async () => {
    const backend = (await h.as('admin').post('/api/v1/storage/backends', backendBody())).body.data;
    const lun = (await h.as('operator').post('/api/v1/storage/luns', { name: unique('sec'), size_gb: 1, target_id: backend.id, chap_enabled: true })).body.data;
    const creds = await h.as('admin').get(`/api/v1/storage/luns/${lun.id}/credentials`);
    expect(creds.status).toBe(200);
    expect(creds.body.data.chap_secret).toEqual(expect.any(String));
    expect(creds.headers['cache-control']).toBe('no-store');

    const key = await h.as('admin').post('/api/v1/api-keys', { name: unique('sec'), role: 'viewer' });
    expect(key.status).toBe(201);
    expect(key.headers['cache-control']).toBe('no-store');
  });
});

describe('the browser pages', () => {
  const expectPageHeaders = (res: request.Response) => {
    expect(res.status).toBe(200);
    expect(res.headers['x-frame-options']).toBe('DENY');
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    const csp = String(res.headers['content-security-policy']);
    expect(csp).toMatch(/(^|; )default-src 'none'(;|$)/);
    expect(csp).toMatch(/(^|; )script-src 'self'(;|$)/);
    expect(csp).toMatch(/(^|; )frame-ancestors 'none'(;|$)/);
    expect(csp).not.toMatch(/unsafe-inline|unsafe-eval|https?:|\*/);
  };

  it('/docs, its script and its assets carry a CSP, X-Frame-Options DENY and nosniff', async () => {
    for (const path of ['/docs', '/docs/init.js', '/docs/assets/swagger-ui-bundle.js']) expectPageHeaders(await request(h.app).get(path));
  });

  it('/admin/queues and its deep links carry the same headers', async () => {
    const basic = `Basic ${Buffer.from(`admin:${h.keys.admin}`).toString('base64')}`;
    for (const path of ['/admin/queues', '/admin/queues/queue/anything']) expectPageHeaders(await request(h.app).get(path).set('Authorization', basic));
  });
});

describe('errors that carry a 4xx status are that 4xx, never a 500', () => {
  it('a path that is not valid percent-encoding → 400 in the envelope', async () => {
    const res = await h.as('viewer').get('/api/v1/nodes/%E0%A4%A');
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ success: false, error: 'bad_request', detail: 'the request path is not valid percent-encoding' });
  });

  it('a body-parser failure without a code of its own (corrupt gzip) → 400 in the envelope', async () => {
    const corrupt = gzipSync(JSON.stringify({ mac_address: '02:00:00:00:00:01' })).subarray(0, 12);
    const res = await request(h.app).post('/api/v1/nodes').set('Authorization', `Bearer ${h.keys.operator}`).set('Content-Type', 'application/json').set('Content-Encoding', 'gzip').send(corrupt);
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ success: false, error: 'bad_request', detail: expect.any(String) });
  });
});

describe('a path segment that is not an id of its collection', () => {
  it.each([
    ['get', '/api/v1/nodes/stats'],
    ['get', '/api/v1/storage/luns/123'],
    ['get', '/api/v1/storage/backends/stats'],
    ['get', '/api/v1/operations/latest'],
    ['delete', '/api/v1/api-keys/mine'],
    ['post', '/api/v1/storage/luns/abc/assign'],
  ] as const)('%s %s → 404 not_found', async (method, url) => {
    const agent = h.as('admin');
    const res = method === 'post' ? await agent.post(url, { node_id: '00000000-0000-4000-8000-000000000000' }) : await agent[method](url);
    expect(res.status).toBe(404);
    expect(res.body).toEqual({ success: false, error: 'not_found', detail: expect.stringMatching(/does not exist$/) });
  });
});
