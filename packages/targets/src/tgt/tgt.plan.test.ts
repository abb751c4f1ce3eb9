import type { DesiredTarget } from '@bootlun/core';
import type { TgtTarget } from './tgt.parse';
import { divergence, effectiveInitiators, nextTid, planAcl, toObservedTarget, type AclStep } from './tgt.plan';

const A = 'iqn.2024-05.org.example:node-a';
const B = 'iqn.2024-05.org.example:node-b';
const FILE = '/srv/luns/bootlun-1.img';
const GiB = 1024 ** 3;

type Acl = Pick<TgtTarget, 'aclAddresses' | 'aclInitiators'>;

function apply(acl: Acl, step: AclStep): Acl {
  const next = { aclAddresses: [...acl.aclAddresses], aclInitiators: [...acl.aclInitiators] };
  if (step.kind === 'bind-name') next.aclInitiators.push(step.initiator);
  if (step.kind === 'unbind-name') next.aclInitiators = next.aclInitiators.filter((n) => n !== step.initiator);
  if (step.kind === 'bind-address') next.aclAddresses.push(step.address);
  if (step.kind === 'unbind-address') next.aclAddresses = next.aclAddresses.filter((a) => a !== step.address);
  return next;
}

/** Every state the target passes through, first and last included. */
function walk(start: Acl, initiators: string[]): Acl[] {
  const states = [start];
  for (const step of planAcl(start, initiators)) states.push(apply(states[states.length - 1]!, step));
  return states;
}

const admitsAnyone = (acl: Acl) => effectiveInitiators(acl).includes('ALL');

describe('planAcl', () => {
  const cases: Array<[string, Acl, string[]]> = [
    ['new target → A', { aclAddresses: [], aclInitiators: [] }, [A]],
    ['A → nobody', { aclAddresses: [], aclInitiators: [A] }, []],
    ['A → B', { aclAddresses: [], aclInitiators: [A] }, [B]],
    ['A → A, B', { aclAddresses: [], aclInitiators: [A] }, [A, B]],
    ['wide open (ALL, drift) → A', { aclAddresses: ['ALL'], aclInitiators: [A] }, [A]],
    ['network ACL (drift) → A', { aclAddresses: ['192.168.10.0/24'], aclInitiators: [B] }, [A]],
    ['restored from the config file → A', { aclAddresses: ['0.0.0.0/32'], aclInitiators: [A] }, [A]],
  ];

  it.each(cases)('%s ends exactly as wanted: names only, no address entry', (_name, start, initiators) => {
    const end = walk(start, initiators).at(-1)!;
    expect(end.aclInitiators.sort()).toEqual([...initiators].sort());
    expect(end.aclAddresses).toEqual([]);
  });

  it.each(cases)('%s never admits anyone the start or the end would not', (_name, start, initiators) => {
    const allowed = new Set([...effectiveInitiators(start), ...initiators]);
    for (const state of walk(start, initiators).slice(1)) {
      expect(admitsAnyone(state)).toBe(false);
      for (const who of effectiveInitiators(state)) expect(allowed.has(who)).toBe(true);
    }
  });

  it('drops address entries first: with tgtd 1.0.85 ALL admits everyone whatever the names', () => {
    expect(planAcl({ aclAddresses: ['ALL'], aclInitiators: [] }, [A])).toEqual([
      { kind: 'unbind-address', address: 'ALL' },
      { kind: 'bind-name', initiator: A },
    ]);
  });

  it('adds the new name before removing the old one', () => {
    expect(planAcl({ aclAddresses: [], aclInitiators: [A] }, [B])).toEqual([
      { kind: 'bind-name', initiator: B },
      { kind: 'unbind-name', initiator: A },
    ]);
  });

  it('does nothing when the ACL is already right', () => {
    expect(planAcl({ aclAddresses: [], aclInitiators: [A] }, [A])).toEqual([]);
    expect(planAcl({ aclAddresses: [], aclInitiators: [] }, [])).toEqual([]);
  });
});

describe('effectiveInitiators', () => {
  it('lists names and address entries (ALL = anyone)', () => {
    expect(effectiveInitiators({ aclAddresses: [], aclInitiators: [A] })).toEqual([A]);
    expect(effectiveInitiators({ aclAddresses: ['ALL'], aclInitiators: [A] })).toEqual([A, 'ALL']);
    expect(effectiveInitiators({ aclAddresses: ['10.0.0.0/8'], aclInitiators: [] })).toEqual(['10.0.0.0/8']);
  });

  it("leaves out the config file's inert placeholder address", () => {
    expect(effectiveInitiators({ aclAddresses: ['0.0.0.0/32'], aclInitiators: [] })).toEqual([]);
  });
});

function live(overrides: Partial<TgtTarget> = {}): TgtTarget {
  return {
    tid: 1,
    iqn: 'iqn.2024-05.org.bootlun:lun-a',
    state: 'ready',
    sessions: [],
    luns: [
      { lun: 0, type: 'controller', sizeMb: 0, backingStoreType: 'null', backingStorePath: null },
      { lun: 1, type: 'disk', sizeMb: 1074, backingStoreType: 'rdwr', backingStorePath: FILE },
    ],
    incomingUsers: ['bl1'],
    outgoingUser: null,
    aclAddresses: [],
    aclInitiators: [A],
    ...overrides,
  };
}

const desired: DesiredTarget = {
  iqn: 'iqn.2024-05.org.bootlun:lun-a',
  sizeBytes: GiB,
  backing: { kind: 'file', path: FILE },
  createBacking: true,
  initiators: [A],
  chap: { username: 'bl1', secret: 'Secret1Secret1' },
  mutualChap: null,
};

describe('divergence', () => {
  it('is empty for a converged target', () => {
    expect(divergence(live(), desired, GiB)).toEqual([]);
  });

  it('names every difference, without secrets', () => {
    const issues = divergence(
      live({ state: 'offline', incomingUsers: [], outgoingUser: 'bt9', aclAddresses: ['ALL'], luns: [live().luns[0]!, { ...live().luns[1]!, lun: 2 }] }),
      { ...desired, mutualChap: { username: 'bt1', secret: 'Mutual2Mutual2' } },
      GiB,
    );
    expect(issues).toEqual([
      'LUN 1 missing',
      'unexpected LUNs 2',
      'address ACL is [ALL], expected none',
      'incoming CHAP users are [], expected [bl1]',
      'outgoing CHAP user is bt9, expected bt1',
      'target state is offline',
    ]);
    expect(issues.join(' ')).not.toMatch(/Secret1|Mutual2/);
  });

  it('sees a LUN that still exports the size from before the file grew', () => {
    expect(divergence(live(), { ...desired, sizeBytes: 2 * GiB }, 2 * GiB)).toEqual(['LUN 1 shows 1074 MB, the file is 2147483648 bytes']);
  });
});

describe('toObservedTarget', () => {
  it('reports the LUN, its file size, the ACL and the CHAP users', () => {
    expect(toObservedTarget(live({ outgoingUser: 'bt1' }), GiB)).toEqual({
      iqn: 'iqn.2024-05.org.bootlun:lun-a',
      lunNumber: 1,
      backingPath: FILE,
      sizeBytes: GiB,
      initiators: [A],
      chapUsername: 'bl1',
      mutualChapUsername: 'bt1',
    });
  });

  it('reports an unknown size when the LUN predates the file size, and joins several incoming users', () => {
    const observed = toObservedTarget(live({ incomingUsers: ['bl1', 'bootlun-swap-1'] }), 2 * GiB);
    expect(observed.sizeBytes).toBeNull();
    expect(observed.chapUsername).toBe('bl1,bootlun-swap-1');
  });

  it('reports a target without LUN', () => {
    expect(toObservedTarget(live({ luns: [] }), undefined)).toMatchObject({ lunNumber: null, backingPath: null, sizeBytes: null });
  });
});

describe('nextTid', () => {
  it('takes one past the highest tid, like tgt-admin', () => {
    expect(nextTid([])).toBe(1);
    expect(nextTid([live({ tid: 3 }), live({ tid: 9 })])).toBe(10);
  });
});
