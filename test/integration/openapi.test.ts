import { errorResponse } from '@bootlun/contracts';
import type { Express } from 'express';
import request from 'supertest';
import type { z } from 'zod';
import { ROUTE_DOCS, type RouteDoc } from '../../apps/api/src/openapi/route-docs';
import { backendBody, startApiHarness, unique, type ApiHarness } from '../support/api-harness';

let h: ApiHarness;
beforeAll(async () => (h = await startApiHarness()));
afterAll(() => h.close());

interface Layer {
  route?: { path: string; methods: Record<string, boolean> };
  handle: { stack?: Layer[] };
  rawPath?: string;
}

/** Every method+path the app really serves under /api/v1, read from Express's router stack. */
function servedRoutes(app: Express): string[] {
  const out: string[] = [];
  const walk = (stack: Layer[], prefix: string) => {
    for (const layer of stack) {
      if (layer.route) {
        for (const method of Object.keys(layer.route.methods)) out.push(`${method} ${prefix}${layer.route.path === '/' ? '' : layer.route.path}`);
      } else if (layer.handle.stack) {
        walk(layer.handle.stack, prefix + (typeof layer.rawPath === 'string' && layer.rawPath !== '/' ? layer.rawPath : ''));
      }
    }
  };
  walk((app as unknown as { router: { stack: Layer[] } }).router.stack, '');
  return out.filter((r) => r.split(' ')[1]!.startsWith('/api/v1/') && !r.endsWith('/openapi.json')).map((r) => r.replace(' /api/v1', ' '));
}

const docKey = (d: RouteDoc) => `${d.method} ${d.path}`;

describe('OpenAPI document', () => {
  it('documents every served route and serves every documented one', () => {
    const served = new Set(servedRoutes(h.app));
    const documented = new Set(ROUTE_DOCS.map(docKey));
    expect([...served].filter((r) => !documented.has(r))).toEqual([]);
    expect([...documented].filter((r) => !served.has(r))).toEqual([]);
  });

  it('is valid OpenAPI 3.1 with every path and a docs page', async () => {
    const res = await request(h.app).get('/api/v1/openapi.json');
    expect(res.status).toBe(200);
    expect(res.body.openapi).toBe('3.1.0');
    for (const doc of ROUTE_DOCS) {
      const path = `/api/v1${doc.path.replace(/:(\w+)/g, '{$1}')}`;
      expect(res.body.paths[path]?.[doc.method]).toBeDefined();
    }
    const page = await request(h.app).get('/docs');
    expect(page.status).toBe(200);
    expect(page.text).toContain('swagger-ui');
    expect((await request(h.app).get('/docs/assets/swagger-ui-bundle.js')).status).toBe(200);
  });

  it('answers every documented route with the documented schema', async () => {
    const seen = new Set<string>();
    const check = async (doc: RouteDoc, res: request.Response) => {
      seen.add(docKey(doc));
      const schema: z.ZodType = res.status === doc.success[0] ? doc.success[1] : errorResponse;
      if (res.status !== doc.success[0]) expect(doc.errors).toContain(res.status);
      const parsed = schema.safeParse(res.body);
      if (!parsed.success) throw new Error(`${docKey(doc)} → ${res.status}: ${JSON.stringify(parsed.error.issues)} in ${JSON.stringify(res.body)}`);
    };
    const call = async (method: RouteDoc['method'], path: string, params: Record<string, string> = {}, body?: object, role: 'admin' | 'operator' | 'viewer' = 'admin') => {
      const doc = ROUTE_DOCS.find((d) => d.method === method && d.path === path)!;
      const url = '/api/v1' + path.replace(/:(\w+)/g, (_, k: string) => params[k]!);
      const agent = h.as(role);
      const res = method === 'get' ? await agent.get(url) : method === 'delete' ? await agent.delete(url) : await agent[method](url, body);
      await check(doc, res);
      return res.body;
    };

    const backend = (await call('post', '/storage/backends', {}, backendBody())).data;
    await call('get', '/storage/backends');
    await call('get', '/storage/backends/:id', { id: backend.id });
    await call('patch', '/storage/backends/:id', { id: backend.id }, { name: `${backend.name}-r` });
    await call('post', '/storage/backends/:id/reconcile', { id: backend.id });
    const node = (await call('post', '/nodes', {}, { mac_address: '02:aa:00:00:00:01'.replace('01', Math.floor(Math.random() * 99).toString().padStart(2, '0')) })).data;
    await call('get', '/nodes');
    await call('get', '/nodes/:id', { id: node.id });
    await call('patch', '/nodes/:id', { id: node.id }, { hostname: 'documented' });
    const lun = (await call('post', '/storage/luns', {}, { name: unique('doc'), size_gb: 1, target_id: backend.id, chap_enabled: true })).data;
    await call('get', '/storage/luns');
    await call('get', '/storage/luns/:id', { id: lun.id });
    await call('get', '/storage/luns/:id/credentials', { id: lun.id });
    await h.services.repos.luns.writeBack(lun.id, lun.generation, { status: 'ready' });
    await call('patch', '/storage/luns/:id', { id: lun.id }, { name: unique('doc') });
    await call('post', '/storage/luns/:id/assign', { id: lun.id }, { node_id: node.id });
    await call('post', '/storage/luns/:id/unassign', { id: lun.id });
    await call('post', '/storage/luns/:id/import', { id: lun.id }, { url: 'https://images.example/a.raw' });
    await call('get', '/operations');
    await call('get', '/operations/failed');
    await call('get', '/operations/:id', { id: lun.operation_id });
    await call('post', '/operations/:id/cancel', { id: lun.operation_id });
    await call('post', '/operations/:id/retry', { id: lun.operation_id });
    const key = (await call('post', '/api-keys', {}, { name: unique('doc'), role: 'viewer' })).data;
    await call('get', '/api-keys');
    await call('delete', '/api-keys/:id', { id: key.id });
    const template = (await call('post', '/storage/luns', {}, { name: unique('doc'), size_gb: 1, target_id: backend.id, template: true })).data;
    await h.services.repos.luns.writeBack(template.id, template.generation, { status: 'ready' });
    const batch = (await call('post', '/storage/luns/bulk', {}, { source: { lun_id: template.id }, node_ids: [node.id], name_pattern: `${unique('doc')}-{index}` })).data;
    await call('get', '/storage/luns/bulk/:id', { id: batch.id });
    const other = (await call('post', '/storage/luns', {}, { name: unique('doc'), size_gb: 1, target_id: backend.id })).data;
    await h.services.repos.luns.writeBack(other.id, other.generation, { status: 'ready' });
    const snapshot = (await call('post', '/storage/luns/:id/snapshots', { id: other.id }, { name: 'before-upgrade' })).data;
    await call('get', '/storage/luns/:id/snapshots', { id: other.id });
    await call('get', '/storage/luns/:id/snapshots/:snapshotId', { id: other.id, snapshotId: snapshot.id });
    await h.services.repos.snapshots.update(snapshot.id, { status: 'ready' });
    await call('post', '/storage/luns/:id/rollback', { id: other.id }, { snapshot_id: snapshot.id });
    await call('delete', '/storage/luns/:id/snapshots/:snapshotId', { id: other.id, snapshotId: snapshot.id });
    await call('delete', '/storage/luns/:id', { id: other.id });
    await call('delete', '/nodes/:id', { id: node.id });
    await call('delete', '/storage/backends/:id', { id: backend.id });
    for (const doc of ROUTE_DOCS.filter((d) => d.role === 'public')) seen.add(docKey(doc)); // covered by their own suites
    expect(ROUTE_DOCS.map(docKey).filter((k) => !seen.has(k))).toEqual([]);
  });
});
