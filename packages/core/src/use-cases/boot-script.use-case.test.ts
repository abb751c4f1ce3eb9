import type { BackendConfig } from '@bootlun/contracts';
import type { Backend, BootNode, LunView, SealedSecret } from '../domain/model';
import { ValidationError } from '../errors';
import type { LunFilter, Repositories } from '../ports';
import { advertisedPortal, bootScriptFor, type BootScriptDeps } from './boot-script.use-case';

/** A SecretBox stand-in: "sealing" is reversible and visibly not plaintext. */
const seal = (secret: string): SealedSecret => ({ sealed: Buffer.from(secret).toString('base64'), keyId: 'test' });
const open = (s: SealedSecret) => Buffer.from(s.sealed, 'base64').toString();

const config: BackendConfig = { driver: 'tgt', portal_ip: '192.0.2.10', portal_port: 3260, iqn_prefix: 'iqn.2026-11.io.bootlun', backingstore_type: 'file', backingstore_path: '/srv/luns', tgt_control_port: 0 };
const backend: Backend = { id: 'b1', name: 'store-1', type: 'iscsi', status: 'online', config, lastHeartbeatAt: null, stats: { capacity: null, reportedAt: null, lunCount: 0, provisionedBytes: 0, templateCount: 0 }, createdAt: new Date(), updatedAt: new Date() };

const node = (n: number, hostname: string | null = `node-${n}`): BootNode => ({
  id: `n${n}`,
  macAddress: `52:54:00:00:00:0${n}`,
  hostname,
  initiatorIqn: `iqn.2010-04.org.ipxe:52540000000${n}`,
  ipAddress: null,
  createdAt: new Date(),
  updatedAt: new Date(),
});

let lunSeq = 0;
function lun(nodeId: string | null, patch: Partial<LunView> = {}): LunView {
  lunSeq += 1;
  return {
    id: `l${lunSeq}`,
    name: `boot-${lunSeq}`,
    sizeGb: 1,
    backendId: backend.id,
    backendName: backend.name,
    iqn: `iqn.2026-11.io.bootlun:boot-${lunSeq}`,
    lunNumber: 1,
    purpose: 'boot_from_san',
    template: false,
    sourceLunId: null,
    sourceSnapshotId: null,
    status: 'active',
    errorMessage: null,
    assignedNodeId: nodeId,
    assignedNodeName: null,
    chapEnabled: false,
    chapUsername: null,
    chapSecret: null,
    mutualChapEnabled: false,
    targetChapUsername: null,
    targetChapSecret: null,
    generation: 1,
    drift: null,
    createdAt: new Date(2026, 0, lunSeq),
    updatedAt: new Date(),
    ...patch,
  };
}
const withChap = (n: number, secret: string, mutual?: string): Partial<LunView> => ({
  chapEnabled: true,
  chapUsername: `bl00000000000${n}`,
  chapSecret: seal(secret),
  ...(mutual ? { mutualChapEnabled: true, targetChapUsername: `bt00000000000${n}`, targetChapSecret: seal(mutual) } : {}),
});

function setup(nodes: BootNode[], luns: LunView[], backends: Backend[] = [backend]) {
  const events: Array<[string, Record<string, unknown>]> = [];
  const macs: string[] = [];
  const repos = {
    nodes: {
      getByMac: async (mac: string) => {
        macs.push(mac);
        return nodes.find((n) => n.macAddress === mac) ?? null;
      },
    },
    luns: {
      list: async (f: LunFilter) => {
        const items = luns.filter((l) => (!f.assignedNodeId || l.assignedNodeId === f.assignedNodeId) && (!f.purpose || l.purpose === f.purpose) && (!f.status || l.status === f.status));
        return { items, total: items.length };
      },
    },
    backends: { getRef: async (id: string) => backends.find((b) => b.id === id) ?? null },
  } as unknown as Repositories;
  const deps: BootScriptDeps = { repos, secrets: { seal, open }, audit: { record: (event, fields) => events.push([event, fields]) } };
  return { deps, events, macs };
}

describe('bootScriptFor: MAC handling', () => {
  it.each(['52:54:00:00:00:01', '52-54-00-00-00-01', '5254.0000.0001', '525400000001', '52:54:00:00:00:01'.toUpperCase(), ' 52-54-00-00-00-01 '])('normalizes %j before the lookup', async (mac) => {
    const { deps, macs } = setup([node(1)], [lun('n1')]);
    const result = await bootScriptFor(deps, { mac });
    expect(macs).toEqual(['52:54:00:00:00:01']);
    expect(result.kind).toBe('sanboot');
  });

  it.each(['', 'nonsense', '52:54:00:00:00', '52:54:00:00:00:01:02', '52:54:00:00:00:0g', '52:54:00:00:00:01${x}'])('rejects %j as a validation error without a lookup', async (mac) => {
    const { deps, macs } = setup([node(1)], []);
    await expect(bootScriptFor(deps, { mac })).rejects.toThrow(ValidationError);
    expect(macs).toEqual([]);
  });

  it('answers an unknown MAC with the fall-through script a registered node without a LUN gets', async () => {
    const { deps, events } = setup([node(1), node(9, 'secret-host')], []);
    const unknown = await bootScriptFor(deps, { mac: '52:54:00:00:00:08' });
    expect(unknown).toMatchObject({ kind: 'fall_through', mac: '52:54:00:00:00:08', node: null });
    const known = await bootScriptFor(deps, { mac: '52:54:00:00:00:09' });
    expect(known).toMatchObject({ kind: 'fall_through', mac: '52:54:00:00:00:09', node: { id: 'n9' } });
    // Same bytes apart from the MAC the requester sent itself.
    expect(known.script.replace('52:54:00:00:00:09', 'MAC')).toBe(unknown.script.replace('52:54:00:00:00:08', 'MAC'));
    expect(known.script).not.toContain('secret-host');
    expect(events).toEqual([]);
  });
});

describe('bootScriptFor: scripts', () => {
  it('sanboots the active boot LUN with the node IQN, no CHAP lines and no audit event when CHAP is off', async () => {
    const l = lun('n1');
    const { deps, events } = setup([node(1)], [l]);
    const result = await bootScriptFor(deps, { mac: '52:54:00:00:00:01' });
    expect(result).toMatchObject({ kind: 'sanboot', node: { id: 'n1' }, lun: { id: l.id } });
    expect(result.script).toMatch(/^#!ipxe\n/);
    expect(result.script).toContain('set initiator-iqn iqn.2010-04.org.ipxe:525400000001\n');
    expect(result.script).toContain(`sanboot iscsi:192.0.2.10::3260:1:${l.iqn} || goto`);
    expect(result.script).not.toMatch(/username|password/);
    expect(events).toEqual([]);
  });

  it('uses the LUN number from the LUN row (LIO: 0)', async () => {
    const l = lun('n1', { lunNumber: 0 });
    const { deps } = setup([node(1)], [l]);
    expect((await bootScriptFor(deps, { mac: '525400000001' })).script).toContain(`iscsi:192.0.2.10::3260:0:${l.iqn}`);
  });

  it('uses an IPv6 portal in brackets and the backend port', async () => {
    const v6 = { ...backend, id: 'b6', config: { ...config, portal_ip: 'fd00::10', portal_port: 3261 } };
    const l = lun('n1', { backendId: 'b6' });
    const { deps } = setup([node(1)], [l], [v6]);
    expect((await bootScriptFor(deps, { mac: '525400000001' })).script).toContain(`iscsi:[fd00::10]::3261:1:${l.iqn}`);
  });

  it('advertises advertised_portal_ip/advertised_portal_port instead of where the portal listens', async () => {
    const natted = { ...backend, id: 'bn', config: { ...config, advertised_portal_ip: '203.0.113.7', advertised_portal_port: 13260 } };
    const l = lun('n1', { backendId: 'bn' });
    const { deps } = setup([node(1)], [l], [natted]);
    const { script } = await bootScriptFor(deps, { mac: '525400000001' });
    expect(script).toContain(`sanboot iscsi:203.0.113.7::13260:1:${l.iqn} || goto`);
    expect(script).not.toContain('192.0.2.10');
  });

  it('falls back to portal_ip/portal_port for whichever advertised field is unset', () => {
    expect(advertisedPortal(config)).toEqual({ portalIp: '192.0.2.10', portalPort: 3260 });
    expect(advertisedPortal({ ...config, advertised_portal_ip: 'fd00::7' })).toEqual({ portalIp: 'fd00::7', portalPort: 3260 });
    expect(advertisedPortal({ ...config, advertised_portal_port: 13260 })).toEqual({ portalIp: '192.0.2.10', portalPort: 13260 });
  });

  it('adds username/password for CHAP and audits the reveal without the secret', async () => {
    const l = lun('n1', withChap(1, 'Abcdefgh2345jkLm'));
    const { deps, events } = setup([node(1)], [l]);
    const { script } = await bootScriptFor(deps, { mac: '52:54:00:00:00:01', source: '192.0.2.99' });
    expect(script).toContain('set username bl000000000001\nset password Abcdefgh2345jkLm\n');
    expect(script).not.toMatch(/reverse/);
    expect(events).toEqual([
      ['boot.script.secret_served', { nodeId: 'n1', mac: '52:54:00:00:00:01', lunId: l.id, lunName: l.name, chapUsername: 'bl000000000001', mutualChapUsername: null, source: '192.0.2.99' }],
    ]);
    expect(JSON.stringify(events)).not.toContain('Abcdefgh2345jkLm');
  });

  it('adds reverse-username/reverse-password for mutual CHAP', async () => {
    const l = lun('n1', withChap(1, 'Abcdefgh2345jkLm', 'Zyxwvuts9876rqPn'));
    const { deps, events } = setup([node(1)], [l]);
    const { script } = await bootScriptFor(deps, { mac: '52:54:00:00:00:01' });
    expect(script).toContain('set username bl000000000001\nset password Abcdefgh2345jkLm\nset reverse-username bt000000000001\nset reverse-password Zyxwvuts9876rqPn\n');
    expect(events[0]![1]).toMatchObject({ mutualChapUsername: 'bt000000000001' });
    expect(JSON.stringify(events)).not.toMatch(/Abcdefgh2345jkLm|Zyxwvuts9876rqPn/);
  });

  it('picks the active LUN when the node also has boot LUNs in other states', async () => {
    const broken = lun('n1', { status: 'error' });
    const good = lun('n1');
    const { deps } = setup([node(1)], [broken, good]);
    const result = await bootScriptFor(deps, { mac: '525400000001' });
    expect(result.kind === 'sanboot' && result.lun.id).toBe(good.id);
  });

  it('gives only the requesting node its own LUN and secret, never another node\'s', async () => {
    const a = lun('n1', withChap(1, 'AAAAaaaa2222bbbb'));
    const b = lun('n2', withChap(2, 'BBBBcccc3333dddd', 'MMMMnnnn4444pppp'));
    const { deps } = setup([node(1), node(2)], [a, b]);
    const sa = (await bootScriptFor(deps, { mac: '52:54:00:00:00:01' })).script;
    const sb = (await bootScriptFor(deps, { mac: '52:54:00:00:00:02' })).script;
    expect(sa).toContain('AAAAaaaa2222bbbb');
    expect(sa).not.toMatch(/BBBBcccc3333dddd|MMMMnnnn4444pppp|bl000000000002|525400000002/);
    expect(sa).not.toContain(b.iqn);
    expect(sb).toContain('BBBBcccc3333dddd');
    expect(sb).not.toMatch(/AAAAaaaa2222bbbb|bl000000000001/);
    expect(sb).not.toContain(a.iqn);
  });

  describe('falls through (exits) when the node has nothing to boot; the reason goes to the caller, not the script', () => {
    const expectFallThrough = async (luns: LunView[], reason: RegExp, backends?: Backend[]) => {
      const { deps, events } = setup([node(1)], luns, backends);
      const result = await bootScriptFor(deps, { mac: '52:54:00:00:00:01' });
      expect(result.kind).toBe('fall_through');
      expect(result.script).toBe('#!ipxe\necho bootlun: no SAN boot for 52:54:00:00:00:01, falling through to the next boot device\nexit\n');
      expect(result.kind === 'fall_through' && result.reason).toMatch(reason);
      expect(events).toEqual([]);
    };

    it('no LUN at all', () => expectFallThrough([], /has no boot_from_san LUN assigned/));
    it('only a LUN of another purpose', () => expectFallThrough([lun('n1', { purpose: 'install_source', ...withChap(1, 'Abcdefgh2345jkLm') })], /has no boot_from_san LUN assigned/));
    it('a LUN that is not active yet', () => expectFallThrough([lun('n1', { status: 'ready', name: 'boot-x', ...withChap(1, 'Abcdefgh2345jkLm') })], /no active boot_from_san LUN yet \(LUN boot-x is ready\)/));
    it('an active LUN without a LUN number', () => expectFallThrough([lun('n1', { lunNumber: null, name: 'boot-y' })], /LUN boot-y whose LUN number/));
    it('an active LUN on a vanished backend', () => expectFallThrough([lun('n1', { name: 'boot-z' })], /LUN boot-z on a storage backend that no longer exists/, []));
    it('another node\'s LUN is not this node\'s', () => expectFallThrough([lun('n2', withChap(2, 'Abcdefgh2345jkLm'))], /has no boot_from_san LUN assigned/));
  });

  it('labels a node without a hostname by its MAC in the reason', async () => {
    const { deps } = setup([node(1, null)], []);
    const result = await bootScriptFor(deps, { mac: '52:54:00:00:00:01' });
    expect(result.kind === 'fall_through' && result.reason).toBe('node 52:54:00:00:00:01 has no boot_from_san LUN assigned');
  });

  it('refuses to serve a secret that could inject iPXE commands', async () => {
    const { deps, events } = setup([node(1)], [lun('n1', withChap(1, 'Abcdefgh2345${x}'))]);
    await expect(bootScriptFor(deps, { mac: '52:54:00:00:00:01' })).rejects.toThrow(/CHAP secret contains characters/);
    expect(events).toEqual([]);
  });
});
