import { backingFor, lunIdOfBacking } from './backing';

const ID = '7c9e6679-7425-40de-944b-e07fc1f90ae7';

describe('lunIdOfBacking', () => {
  it('reads the LUN id back from the names we give backing stores', () => {
    expect(lunIdOfBacking(backingFor('file', '/srv/luns', ID))).toBe(ID);
    expect(lunIdOfBacking(backingFor('block', 'vg0', ID))).toBe(ID);
  });
  it.each([
    { kind: 'file' as const, path: '/srv/luns/bootlun-other.img' },
    { kind: 'file' as const, path: `/srv/luns/bootlun-${ID}` },
    { kind: 'block' as const, volumeGroup: 'vg0', volumeName: `bootlun-${ID}.img` },
    { kind: 'block' as const, volumeGroup: 'vg0', volumeName: 'root' },
  ])('is null for a name that is not ours: %j', (backing) => expect(lunIdOfBacking(backing)).toBeNull());
});
