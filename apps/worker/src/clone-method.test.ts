import { cloneMethodReader } from './clone-method';

const never = async (): Promise<'reflink'> => {
  throw new Error('no probe expected');
};

describe('cloneMethodReader', () => {
  it('a thin-pool backend clones by thin snapshot; a thick volume backend cannot', async () => {
    expect(await cloneMethodReader({ backingstore_type: 'block', backingstore_path: 'bootlun', thin_pool: 'pool0' }, true, never)()).toBe('thin');
    expect(await cloneMethodReader({ backingstore_type: 'block', backingstore_path: 'bootlun' }, true, never)()).toBe('none');
  });

  it('a file backend probes its directory once', async () => {
    let probes = 0;
    const read = cloneMethodReader({ backingstore_type: 'file', backingstore_path: '/srv/luns' }, true, async () => (probes++, 'copy'));
    expect([await read(), await read(), probes]).toEqual(['copy', 'copy', 1]);
  });
});
