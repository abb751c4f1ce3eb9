import { lunIdOfBacking } from '@bootlun/core';
import { backingFor } from './backing';

const ID = '7c9e6679-7425-40de-944b-e07fc1f90ae7';

describe('backingFor', () => {
  it('names backing stores so the core reads the LUN id back from them', () => {
    expect(lunIdOfBacking(backingFor('file', '/srv/luns', ID))).toBe(ID);
    expect(lunIdOfBacking(backingFor('block', 'vg0', ID))).toBe(ID);
  });
});
