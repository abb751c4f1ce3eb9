import { PermanentTargetError, type DesiredTarget } from '@bootlun/core';
import { assertTgtCompatible, isValidTargetIqn } from './tgt.validate';

const DIR = '/srv/luns';
const ok: DesiredTarget = {
  iqn: 'iqn.2024-05.org.bootlun:lun-a',
  sizeBytes: 1024 ** 3,
  backing: { kind: 'file', path: '/srv/luns/bootlun-0b7e.img' },
  createBacking: true,
  initiators: ['iqn.2024-05.org.example:node-a'],
  chap: { username: 'bl0b7e', secret: 'AbCdEf234567hjkm' },
  mutualChap: { username: 'bt0b7e', secret: 'ZyXwVu98765432pq' },
};

function failure(change: Partial<DesiredTarget>): string {
  try {
    assertTgtCompatible({ ...ok, ...change }, DIR);
  } catch (err) {
    expect(err).toBeInstanceOf(PermanentTargetError);
    return (err as Error).message;
  }
  throw new Error('expected a PermanentTargetError');
}

describe('assertTgtCompatible', () => {
  it('accepts what the project produces', () => {
    expect(() => assertTgtCompatible(ok, DIR)).not.toThrow();
    expect(() => assertTgtCompatible({ ...ok, chap: null, mutualChap: null, initiators: [] }, DIR)).not.toThrow();
  });

  it('refuses a backing directory the API would refuse (the shared backingstore_path rule)', () => {
    for (const dir of ['/etc', '/', '/srv/luns/', '/srv/a b', '/srv/$(id)', '/srv/luns\n', '/srv/x\u0000']) {
      const file = `${dir.replace(/\/$/, '')}/bootlun-0b7e.img`;
      expect(() => assertTgtCompatible({ ...ok, backing: { kind: 'file', path: file } }, dir)).toThrow(PermanentTargetError);
      expect(() => assertTgtCompatible({ ...ok, backing: { kind: 'file', path: file } }, dir)).toThrow(/backingstore_path/);
    }
  });

  it('refuses values tgtd or tgt-admin would split or run through the shell', () => {
    expect(failure({ iqn: 'iqn.2024-05.org.bootlun:a,b' })).toMatch(/target IQN/);
    expect(failure({ initiators: ['iqn.2024-05.org.example:a b'] })).toMatch(/initiator name/);
    expect(failure({ chap: { username: 'bl 1', secret: 'AbCdEf234567hjkm' } })).toMatch(/CHAP user name/);
    expect(failure({ backing: { kind: 'file', path: '/srv/luns/bootlun-a,b.img' } })).toMatch(/backing path/);
  });

  it('refuses a bad secret without repeating it', () => {
    const message = failure({ chap: { username: 'bl1', secret: 'has space $(x)' } });
    expect(message).toMatch(/secret of bl1/);
    expect(message).not.toContain('$(x)');
    expect(failure({ chap: { username: 'bl1', secret: 'short' } })).toMatch(/secret/);
  });

  it('refuses block backings, files outside the backing directory and foreign names', () => {
    expect(failure({ backing: { kind: 'block', volumeGroup: 'vg0', volumeName: 'bootlun-1' } })).toMatch(/file backing stores only/);
    expect(failure({ backing: { kind: 'file', path: '/etc/bootlun-1.img' } })).toMatch(/not a bootlun-\* file directly in/);
    expect(failure({ backing: { kind: 'file', path: '/srv/luns/other.img' } })).toMatch(/not a bootlun-\* file/);
  });

  it('refuses one user name for both directions, and mutual CHAP alone', () => {
    expect(failure({ mutualChap: { username: 'bl0b7e', secret: 'ZyXwVu98765432pq' } })).toMatch(/same user name/);
    expect(failure({ chap: null })).toMatch(/mutual CHAP without CHAP/);
  });
});

describe('isValidTargetIqn', () => {
  it('accepts lower-case iqn names and refuses upper case', () => {
    expect(isValidTargetIqn('iqn.2024-05.org.bootlun:lun-a')).toBe(true);
    expect(isValidTargetIqn('iqn.2024-05.org.bootlun:LUN')).toBe(false);
  });
});
