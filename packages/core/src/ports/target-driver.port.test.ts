import { backingPath, lunIdOfBacking } from './target-driver.port';

const ID = '7c9e6679-7425-40de-944b-e07fc1f90ae7';

describe('lunIdOfBacking', () => {
  it('reads the LUN id back from the names we give backing stores', () => {
    expect(lunIdOfBacking({ kind: 'file', path: `/srv/luns/bootlun-${ID}.img` })).toBe(ID);
    expect(lunIdOfBacking({ kind: 'block', volumeGroup: 'vg0', volumeName: `bootlun-${ID}` })).toBe(ID);
  });
  it.each([
    { kind: 'file' as const, path: '/srv/luns/bootlun-other.img' },
    { kind: 'file' as const, path: `/srv/luns/bootlun-${ID}` },
    { kind: 'block' as const, volumeGroup: 'vg0', volumeName: `bootlun-${ID}.img` },
    { kind: 'block' as const, volumeGroup: 'vg0', volumeName: 'root' },
  ])('is null for a name that is not ours: %j', (backing) => expect(lunIdOfBacking(backing)).toBeNull());
});

describe('backingPath', () => {
  it('is the file itself, or the volume device under /dev', () => {
    expect(backingPath({ kind: 'file', path: '/srv/luns/x.img' })).toBe('/srv/luns/x.img');
    expect(backingPath({ kind: 'block', volumeGroup: 'vg0', volumeName: `bootlun-${ID}` })).toBe(`/dev/vg0/bootlun-${ID}`);
  });
});
