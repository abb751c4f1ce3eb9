import { readFileSync } from 'node:fs';
import path from 'node:path';
import { isAddressAcl, parseAccounts, parsePortals, parseTargets, tgtShownMegabytes } from './tgt.parse';

/** Captured from tgtd 1.0.85 (see test/fixtures/tgt/README.md). */
const fixture = (name: string) => readFileSync(path.join(__dirname, '../../../../test/fixtures/tgt', name), 'utf8');

describe('parseTargets', () => {
  it('reads nothing from a tgtd without targets', () => {
    expect(parseTargets(fixture('show-targets-empty.txt'))).toEqual([]);
  });

  it('reads a converged target: LUN 1, CHAP both ways, ALL + one initiator', () => {
    const [target, ...rest] = parseTargets(fixture('show-targets-one-chap.txt'));
    expect(rest).toEqual([]);
    expect(target).toEqual({
      tid: 1,
      iqn: 'iqn.2024-05.org.bootlun.test:lun-a',
      state: 'ready',
      sessions: [],
      luns: [
        { lun: 0, type: 'controller', sizeMb: 0, backingStoreType: 'null', backingStorePath: null },
        { lun: 1, type: 'disk', sizeMb: 1074, backingStoreType: 'rdwr', backingStorePath: '/tmp/tgtprobe/a.img' },
      ],
      incomingUsers: ['bla1'],
      outgoingUser: 'bta1',
      aclAddresses: ['ALL'],
      aclInitiators: ['iqn.2024-05.org.example:node-a'],
    });
  });

  it('reads several targets with sessions, address ACLs, shared accounts, no LUN and an offline one', () => {
    const targets = parseTargets(fixture('show-targets-many.txt'));
    expect(targets.map((t) => [t.tid, t.iqn, t.state])).toEqual([
      [1, 'iqn.2024-05.org.bootlun.test:lun-a', 'ready'],
      [3, 'iqn.2024-05.org.bootlun.test:lun-b', 'ready'],
      [4, 'iqn.2024-05.org.bootlun.test:lun-c', 'ready'],
      [7, 'iqn.2003-01.org.other:foreign', 'ready'],
      [9, 'iqn.2024-05.org.bootlun.test:lun-d', 'offline'],
    ]);
    const [a, b, c, foreign, d] = targets;

    expect(a!.incomingUsers).toEqual(['bla1']);
    expect(b!.sessions).toEqual([{ nexus: 3, initiator: 'iqn.2024-05.org.example:perf' }]);
    expect(b!.aclAddresses).toEqual(['ALL']);
    expect(b!.aclInitiators).toEqual([]);
    expect(b!.incomingUsers).toEqual([]);
    expect(b!.outgoingUser).toBeNull();
    expect(b!.luns[1]).toMatchObject({ lun: 1, sizeMb: 10737, backingStorePath: '/tmp/tgtprobe/b.img' });

    expect(c!.aclAddresses).toEqual(['192.168.10.0/24']);
    expect(c!.aclInitiators).toEqual(['iqn.2024-05.org.example:node-c1', 'iqn.2024-05.org.example:node-c2']);
    expect(c!.incomingUsers.sort()).toEqual(['bla1', 'shared1']);
    expect(c!.luns[1]!.sizeMb).toBe(3);

    expect(foreign!.luns.map((l) => l.lun)).toEqual([0]);
    expect(foreign!.aclAddresses).toEqual([]);
    expect(d!.luns[1]).toMatchObject({ lun: 1, sizeMb: 105, backingStorePath: '/tmp/tgtprobe/d.img' });
  });
});

describe('parseAccounts', () => {
  it('lists account names, or none', () => {
    expect(parseAccounts(fixture('show-accounts-many.txt')).sort()).toEqual(['bla1', 'bta1', 'shared1']);
    expect(parseAccounts(fixture('show-accounts-empty.txt'))).toEqual([]);
  });
});

describe('parsePortals', () => {
  it('reads address and port of each portal', () => {
    expect(parsePortals(fixture('show-portals.txt'))).toEqual([
      { address: '127.0.0.1', port: 13261 },
      { address: '127.0.0.1', port: 13260 },
    ]);
    expect(parsePortals('Portal: :::3260,1\nPortal: 0.0.0.0:3260,1\n')).toEqual([
      { address: '::', port: 3260 },
      { address: '0.0.0.0', port: 3260 },
    ]);
  });
});

describe('isAddressAcl', () => {
  it.each([
    ['ALL', true],
    ['192.168.10.0/24', true],
    ['10.0.0.1', true],
    ['[fe80::1]/64', true],
    ['0.0.0.0/32', true],
    ['iqn.2024-05.org.example:node-a', false],
    ['eui.02004567a425678d', false],
  ])('%s → %s', (entry, expected) => {
    expect(isAddressAcl(entry)).toBe(expected);
  });
});

describe('tgtShownMegabytes', () => {
  it('reproduces the sizes tgtd printed for the captured files', () => {
    expect(tgtShownMegabytes(1024 ** 3)).toBe(1074); // a.img, 1 GiB
    expect(tgtShownMegabytes(10 * 1024 ** 3)).toBe(10737); // b.img
    expect(tgtShownMegabytes(3145729)).toBe(3); // c.img, 3 MiB + 1 byte
    expect(tgtShownMegabytes(100 * 1024 ** 2)).toBe(105); // d.img
    expect(tgtShownMegabytes(0)).toBe(0); // LUN 0, the controller
  });

  it('tells a 1 GiB LUN from the same LUN grown to 2 GiB', () => {
    expect(tgtShownMegabytes(2 * 1024 ** 3)).not.toBe(tgtShownMegabytes(1024 ** 3));
  });
});
