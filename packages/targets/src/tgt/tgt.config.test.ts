import { NOBODY_ADDRESS, parseTgtConfigSecrets, renderTgtConfig, type TgtConfigTarget } from './tgt.config';

const assigned: TgtConfigTarget = {
  iqn: 'iqn.2024-05.org.bootlun:lun-b',
  backingStore: '/srv/luns/bootlun-2.img',
  initiators: ['iqn.2024-05.org.example:node-b'],
  incoming: { username: 'bl2', secret: 'Secret1Secret1' },
  outgoing: { username: 'bt2', secret: 'Mutual2Mutual2' },
};
const unassigned: TgtConfigTarget = {
  iqn: 'iqn.2024-05.org.bootlun:lun-a',
  backingStore: '/srv/luns/bootlun-1.img',
  initiators: [],
  incoming: null,
  outgoing: null,
};

describe('renderTgtConfig', () => {
  it('writes one block per target in the form tgt-admin reads, sorted by IQN', () => {
    expect(renderTgtConfig([assigned, unassigned])).toBe(
      [
        '# Written by bootlun (tgt driver, persist()). Do not edit: rewritten on every change.',
        '# Loaded by the tgt service (tgt-admin -e) when tgtd starts. Contains CHAP secrets: mode 0600.',
        '',
        '<target iqn.2024-05.org.bootlun:lun-a>',
        '    driver iscsi',
        '    bs-type rdwr',
        '    backing-store /srv/luns/bootlun-1.img',
        `    initiator-address ${NOBODY_ADDRESS}`,
        '</target>',
        '',
        '<target iqn.2024-05.org.bootlun:lun-b>',
        '    driver iscsi',
        '    bs-type rdwr',
        '    backing-store /srv/luns/bootlun-2.img',
        `    initiator-address ${NOBODY_ADDRESS}`,
        '    initiator-name iqn.2024-05.org.example:node-b',
        '    incominguser bl2 Secret1Secret1',
        '    outgoinguser bt2 Mutual2Mutual2',
        '</target>',
        '',
      ].join('\n'),
    );
  });

  it('gives every target an inert address line (without one tgt-admin binds ALL: anyone)', () => {
    const text = renderTgtConfig([assigned, unassigned]);
    expect(text.match(/initiator-address 0\.0\.0\.0\/32/g)).toHaveLength(2);
    expect(text).not.toMatch(/ALL/);
  });

  it('writes only the header when there are no targets', () => {
    expect(renderTgtConfig([]).split('\n').filter((l) => l && !l.startsWith('#'))).toEqual([]);
  });
});

describe('parseTgtConfigSecrets', () => {
  it('reads back the secrets it wrote', () => {
    expect(parseTgtConfigSecrets(renderTgtConfig([assigned, unassigned]))).toEqual(
      new Map([
        ['bl2', 'Secret1Secret1'],
        ['bt2', 'Mutual2Mutual2'],
      ]),
    );
  });

  it('reads nothing from an empty or foreign file', () => {
    expect(parseTgtConfigSecrets('').size).toBe(0);
    expect(parseTgtConfigSecrets('# incominguser x y\ndefault-driver iscsi\n').size).toBe(0);
  });
});
