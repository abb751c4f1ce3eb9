import request from 'supertest';
import { backendBody, startApiHarness, unique, type ApiHarness } from '../support/api-harness';

let h: ApiHarness;
let backend: { id: string; name: string };
beforeAll(async () => {
  h = await startApiHarness({ BOOT_RATE_LIMIT_PER_MINUTE: '1000' });
  backend = (await h.as('admin').post('/api/v1/storage/backends', backendBody({}, { portal_ip: '192.0.2.10' }))).body.data;
});
afterAll(() => h.close());

const randomMac = () => `02:${Array.from({ length: 5 }, () => Math.floor(Math.random() * 256).toString(16).padStart(2, '0')).join(':')}`;
const newNode = async (body: Record<string, unknown> = {}) => (await h.as('operator').post('/api/v1/nodes', { mac_address: randomMac(), ...body })).body.data;

/** A boot LUN as the worker leaves it: created, assigned to `nodeId`, active, LUN number set. */
async function activeLun(nodeId: string | null, body: Record<string, unknown> = {}) {
  const lun = (await h.as('operator').post('/api/v1/storage/luns', { name: unique('boot'), size_gb: 1, target_id: backend.id, purpose: 'boot_from_san', chap_enabled: true, ...body })).body.data;
  let row = (await h.services.repos.luns.get(lun.id))!;
  await h.services.repos.luns.writeBack(lun.id, row.generation, { status: 'ready', lunNumber: 1 });
  if (nodeId) {
    expect((await h.as('operator').post(`/api/v1/storage/luns/${lun.id}/assign`, { node_id: nodeId })).status).toBe(202);
    row = (await h.services.repos.luns.get(lun.id))!;
    await h.services.repos.luns.writeBack(lun.id, row.generation, { status: 'active' });
  }
  const creds = lun.chap_enabled ? (await h.as('admin').get(`/api/v1/storage/luns/${lun.id}/credentials`)).body.data : null;
  return { ...lun, creds } as { id: string; name: string; iqn: string; creds: { chap_username: string; chap_secret: string; target_chap_username: string | null; target_chap_secret: string | null } | null };
}

const boot = (path: string) => request(h.app).get(path);
const expectText = (res: request.Response, status: number) => {
  expect(res.status).toBe(status);
  expect(res.headers['content-type']).toBe('text/plain; charset=utf-8');
  expect(res.headers['cache-control']).toBe('no-store');
  expect(res.text).toMatch(/^#!ipxe\n/);
};

describe('GET /api/v1/boot (no API key)', () => {
  let a: { id: string; mac_address: string; initiator_iqn: string };
  let b: { id: string; mac_address: string; initiator_iqn: string };
  let lunA: Awaited<ReturnType<typeof activeLun>>;
  let lunB: Awaited<ReturnType<typeof activeLun>>;
  beforeAll(async () => {
    a = await newNode({ hostname: 'node-a' });
    b = await newNode();
    lunA = await activeLun(a.id);
    lunB = await activeLun(b.id, { mutual_chap_enabled: true });
  });

  it('serves each node its own sanboot script with its own CHAP secret, and nothing of the other node', async () => {
    const sa = await boot(`/api/v1/boot/ipxe?mac=${a.mac_address}`);
    const sb = await boot(`/api/v1/boot/${b.mac_address}.ipxe`);
    expectText(sa, 200);
    expectText(sb, 200);
    expect(sa.text).toContain(`set initiator-iqn ${a.initiator_iqn}\nset username ${lunA.creds!.chap_username}\nset password ${lunA.creds!.chap_secret}\n`);
    expect(sa.text).toContain(`sanboot iscsi:192.0.2.10::3260:1:${lunA.iqn} || goto`);
    expect(sa.text).not.toContain('reverse-');
    expect(sb.text).toContain(
      `set initiator-iqn ${b.initiator_iqn}\nset username ${lunB.creds!.chap_username}\nset password ${lunB.creds!.chap_secret}\nset reverse-username ${lunB.creds!.target_chap_username}\nset reverse-password ${lunB.creds!.target_chap_secret}\n`,
    );
    for (const other of [lunB.creds!.chap_secret, lunB.creds!.target_chap_secret!, lunB.creds!.chap_username, lunB.iqn, b.initiator_iqn]) expect(sa.text).not.toContain(other);
    for (const other of [lunA.creds!.chap_secret, lunA.creds!.chap_username, lunA.iqn, a.initiator_iqn]) expect(sb.text).not.toContain(other);
  });

  it('normalizes the MAC in both URL forms (colons, dashes, dots, upper case)', async () => {
    const hex = a.mac_address.replace(/:/g, '');
    const forms = [a.mac_address.toUpperCase(), a.mac_address.replace(/:/g, '-'), `${hex.slice(0, 4)}.${hex.slice(4, 8)}.${hex.slice(8)}`, hex];
    const expected = (await boot(`/api/v1/boot/ipxe?mac=${a.mac_address}`)).text;
    for (const form of forms) {
      expect((await boot(`/api/v1/boot/ipxe?mac=${encodeURIComponent(form)}`)).text).toBe(expected);
      expect((await boot(`/api/v1/boot/${form}.ipxe`)).text).toBe(expected);
    }
  });

  it('records an audit event per served secret, without the secret, with the socket address as source (X-Forwarded-For not believed)', async () => {
    const record = jest.spyOn(h.core.audit, 'record');
    try {
      await boot(`/api/v1/boot/ipxe?mac=${b.mac_address}`).set('X-Forwarded-For', '198.51.100.4');
      expect(record).toHaveBeenCalledWith('boot.script.secret_served', expect.objectContaining({ nodeId: b.id, lunId: lunB.id, chapUsername: lunB.creds!.chap_username, source: '127.0.0.1' }));
      expect(JSON.stringify(record.mock.calls)).not.toMatch(new RegExp(`${lunB.creds!.chap_secret}|${lunB.creds!.target_chap_secret}|198\\.51\\.100\\.4`));
    } finally {
      record.mockRestore();
    }
  });

  const fallThrough = (mac: string) => `#!ipxe\necho bootlun: no SAN boot for ${mac}, falling through to the next boot device\nexit\n`;

  it('a node without an active boot LUN gets a script that exits (falls through), naming neither host nor LUN', async () => {
    const bare = await newNode({ hostname: 'bare' });
    const res = await boot(`/api/v1/boot/ipxe?mac=${bare.mac_address}`);
    expectText(res, 200);
    expect(res.text).toBe(fallThrough(bare.mac_address));

    const pending = await newNode({ hostname: 'pending' });
    const lun = await activeLun(null, { chap_enabled: true });
    await h.as('operator').post(`/api/v1/storage/luns/${lun.id}/assign`, { node_id: pending.id });
    const waiting = await boot(`/api/v1/boot/${pending.mac_address}.ipxe`);
    expectText(waiting, 200);
    expect(waiting.text).toBe(fallThrough(pending.mac_address));
    expect(waiting.text).not.toContain(lun.creds!.chap_secret);
  });

  it('answers an unknown MAC exactly as a known MAC with nothing to boot, so the endpoint does not enumerate nodes', async () => {
    const known = await newNode({ hostname: 'enumerable' });
    const unknownMac = randomMac();
    const [forKnown, forUnknown] = await Promise.all([boot(`/api/v1/boot/${known.mac_address}.ipxe`), boot(`/api/v1/boot/${unknownMac}.ipxe`)]);
    expectText(forUnknown, 200);
    expect(forUnknown.status).toBe(forKnown.status);
    expect(forUnknown.headers['content-length']).toBe(forKnown.headers['content-length']);
    expect(forUnknown.text.replace(unknownMac, 'MAC')).toBe(forKnown.text.replace(known.mac_address, 'MAC'));
    expect(forKnown.text).not.toContain('enumerable');
  });

  it('serves a node with a known ip_address only to that address; others who know its MAC get the fall-through script', async () => {
    const pinnedElsewhere = await newNode({ ip_address: '10.20.30.40' });
    const pinnedHere = await newNode({ ip_address: '127.0.0.1' });
    expect(pinnedElsewhere.ip_address).toBe('10.20.30.40');
    const elsewhereLun = await activeLun(pinnedElsewhere.id);
    const hereLun = await activeLun(pinnedHere.id);

    const refused = await boot(`/api/v1/boot/${pinnedElsewhere.mac_address}.ipxe`);
    expectText(refused, 200);
    expect(refused.text).toContain('falling through');
    expect(refused.text).not.toContain(elsewhereLun.creds!.chap_secret);
    const served = await boot(`/api/v1/boot/${pinnedHere.mac_address}.ipxe`);
    expect(served.text).toContain(`set password ${hereLun.creds!.chap_secret}`);

    const unbound = await startApiHarness({ BOOT_BIND_NODE_ADDRESS: 'false' }, { mintKeys: false });
    try {
      expect((await request(unbound.app).get(`/api/v1/boot/${pinnedElsewhere.mac_address}.ipxe`)).text).toContain(`set password ${elsewhereLun.creds!.chap_secret}`);
    } finally {
      await unbound.close();
    }
    expect((await h.as('operator').post('/api/v1/nodes', { mac_address: randomMac(), ip_address: 'node-7' })).body.fields).toEqual([{ field: 'ip_address', message: 'must be an IPv4 or IPv6 address' }]);
  });

  it('answers 400 text for an invalid or missing MAC', async () => {
    for (const path of ['/api/v1/boot/ipxe?mac=zz:zz', '/api/v1/boot/ipxe', '/api/v1/boot/ipxe?mac=a&mac=b', '/api/v1/boot/not-a-mac.ipxe', `/api/v1/boot/ipxe?mac=${encodeURIComponent('${password}')}`]) {
      const res = await boot(path);
      expectText(res, 400);
      expect(res.text).toMatch(/echo bootlun: mac must be a MAC address/);
      expect(res.text).not.toContain('${');
    }
  });

  it('answers a path that is not valid percent-encoding with 400 text, not a 500', async () => {
    const res = await boot('/api/v1/boot/%E0%A4%A.ipxe');
    expectText(res, 400);
    expect(res.text).toBe('#!ipxe\necho bootlun: the request path is not valid percent-encoding\nexit 1\n');
  });

  it('keeps unknown paths under /boot in text (404, never the JSON API\'s 401) and the rest of the API authenticated', async () => {
    expectText(await boot('/api/v1/boot/other'), 404);
    expectText(await request(h.app).post('/api/v1/boot/ipxe?mac=02:00:00:00:00:01'), 404);
    expect((await request(h.app).get('/api/v1/nodes')).status).toBe(401);
    expect((await request(h.app).get(`/api/v1/storage/luns/${lunA.id}/credentials`)).status).toBe(401);
  });
});

describe('source networks and rate limit', () => {
  it('answers 403 text to sources outside BOOT_ALLOWED_NETWORKS (behind a trusted proxy)', async () => {
    const limited = await startApiHarness({ BOOT_ALLOWED_NETWORKS: '10.0.0.0/8, fd00::/8', TRUSTED_PROXIES: 'loopback' }, { mintKeys: false });
    try {
      const node = await newNode();
      const inside = await request(limited.app).get(`/api/v1/boot/${node.mac_address}.ipxe`).set('X-Forwarded-For', '10.9.8.7');
      expectText(inside, 200);
      const outside = await request(limited.app).get(`/api/v1/boot/${node.mac_address}.ipxe`).set('X-Forwarded-For', '192.0.2.1');
      expectText(outside, 403);
      expect(outside.text).toContain('this address may not fetch boot scripts');
      expectText(await request(limited.app).get(`/api/v1/boot/${node.mac_address}.ipxe`), 403); // 127.0.0.1 itself
    } finally {
      await limited.close();
    }
  });

  it('believes X-Forwarded-For from no one unless TRUSTED_PROXIES names them: a local process cannot claim an allowed network', async () => {
    const limited = await startApiHarness({ BOOT_ALLOWED_NETWORKS: '10.0.0.0/8' }, { mintKeys: false });
    const elsewhere = await startApiHarness({ BOOT_ALLOWED_NETWORKS: '10.0.0.0/8', TRUSTED_PROXIES: '192.0.2.1' }, { mintKeys: false });
    try {
      const node = await newNode();
      expectText(await request(limited.app).get(`/api/v1/boot/${node.mac_address}.ipxe`).set('X-Forwarded-For', '10.9.8.7'), 403);
      // A trusted proxy list that does not include this peer changes nothing either.
      expectText(await request(elsewhere.app).get(`/api/v1/boot/${node.mac_address}.ipxe`).set('X-Forwarded-For', '10.9.8.7'), 403);
    } finally {
      await limited.close();
      await elsewhere.close();
    }
  });

  it('rate limits by the socket address when no proxy is trusted: a forged X-Forwarded-For does not buy a fresh bucket', async () => {
    const limited = await startApiHarness({ BOOT_RATE_LIMIT_PER_MINUTE: '2' }, { mintKeys: false });
    try {
      const node = await newNode();
      const from = (ip: string) => request(limited.app).get(`/api/v1/boot/ipxe?mac=${node.mac_address}`).set('X-Forwarded-For', ip);
      expect((await from('192.0.2.60')).status).toBe(200);
      expect((await from('192.0.2.61')).status).toBe(200);
      expectText(await from('192.0.2.62'), 429);
    } finally {
      await limited.close();
    }
  });

  it('answers 429 text with Retry-After once a source exceeds BOOT_RATE_LIMIT_PER_MINUTE; other sources are unaffected', async () => {
    const limited = await startApiHarness({ BOOT_RATE_LIMIT_PER_MINUTE: '2', TRUSTED_PROXIES: 'loopback' }, { mintKeys: false });
    try {
      const node = await newNode();
      const from = (ip: string) => request(limited.app).get(`/api/v1/boot/ipxe?mac=${node.mac_address}`).set('X-Forwarded-For', ip);
      expect((await from('192.0.2.50')).status).toBe(200);
      expect((await from('192.0.2.50')).status).toBe(200);
      const third = await from('192.0.2.50');
      expectText(third, 429);
      expect(Number(third.headers['retry-after'])).toBeGreaterThanOrEqual(1);
      // One-minute windows: the source may come back when its window ends.
      expect(Number(third.headers['retry-after'])).toBeLessThanOrEqual(60);
      expect((await from('192.0.2.51')).status).toBe(200);
    } finally {
      await limited.close();
    }
  });
});
