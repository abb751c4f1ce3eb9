import { startApiHarness, type ApiHarness } from '../support/api-harness';

let h: ApiHarness;
beforeAll(async () => (h = await startApiHarness()));
afterAll(() => h.close());

const randomMac = () => Array.from({ length: 6 }, (_, i) => (i === 0 ? 2 : Math.floor(Math.random() * 256)).toString(16).padStart(2, '0')).join(':');

describe('nodes', () => {
  it('normalizes the MAC and derives the initiator IQN from it', async () => {
    const mac = randomMac();
    const res = await h.as('operator').post('/api/v1/nodes', { mac_address: mac.toUpperCase().replace(/:/g, '-'), hostname: 'node-a' });
    expect(res.status).toBe(201);
    expect(res.body.data).toMatchObject({ mac_address: mac, hostname: 'node-a', initiator_iqn: `iqn.2010-04.org.ipxe:${mac.replace(/:/g, '')}` });
  });

  it('keeps MACs unique whatever their spelling', async () => {
    const mac = randomMac();
    expect((await h.as('operator').post('/api/v1/nodes', { mac_address: mac })).status).toBe(201);
    const res = await h.as('operator').post('/api/v1/nodes', { mac_address: mac.replace(/:/g, '').toUpperCase() });
    expect(res.status).toBe(409);
    expect(res.body.fields).toEqual([{ field: 'mac_address', message: 'already taken' }]);
  });

  it('accepts an explicit initiator IQN and validates it', async () => {
    const ok = await h.as('operator').post('/api/v1/nodes', { mac_address: randomMac(), initiator_iqn: 'iqn.2024-01.com.example:Host-7' });
    expect(ok.body.data.initiator_iqn).toBe('iqn.2024-01.com.example:host-7');
    const bad = await h.as('operator').post('/api/v1/nodes', { mac_address: randomMac(), initiator_iqn: 'not an iqn' });
    expect(bad.status).toBe(400);
    expect(bad.body.fields[0].field).toBe('initiator_iqn');
  });

  it('rejects bad MACs and hostnames naming the field', async () => {
    const res = await h.as('operator').post('/api/v1/nodes', { mac_address: 'zz:zz', hostname: 'bad host' });
    expect(res.status).toBe(400);
    expect(res.body.fields.map((f: { field: string }) => f.field).sort()).toEqual(['hostname', 'mac_address']);
  });

  it('lists with limit=1000 as the assign dialog asks, updates and deletes', async () => {
    const node = (await h.as('operator').post('/api/v1/nodes', { mac_address: randomMac() })).body.data;
    const list = await h.as('viewer').get('/api/v1/nodes?limit=1000');
    expect(list.status).toBe(200);
    expect(list.body.total).toBeGreaterThanOrEqual(1);
    expect(list.body.data.some((n: { id: string }) => n.id === node.id)).toBe(true);
    expect((await h.as('viewer').get('/api/v1/nodes?limit=1001')).status).toBe(400);

    const newMac = randomMac();
    const updated = await h.as('operator').patch(`/api/v1/nodes/${node.id}`, { mac_address: newMac, hostname: 'renamed' });
    expect(updated.body.data).toMatchObject({ mac_address: newMac, hostname: 'renamed', initiator_iqn: `iqn.2010-04.org.ipxe:${newMac.replace(/:/g, '')}` });
    expect((await h.as('operator').delete(`/api/v1/nodes/${node.id}`)).status).toBe(200);
    expect((await h.as('viewer').get(`/api/v1/nodes/${node.id}`)).status).toBe(404);
  });
});
