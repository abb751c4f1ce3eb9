import { createLunBody } from './lun.schema';

const SOURCE = '8d3c6f0e-3f7e-4c55-9b7e-2d3c1f6a9b10';
const issues = (body: unknown) => {
  const result = createLunBody.safeParse(body);
  return result.success ? [] : result.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message }));
};

describe('createLunBody source', () => {
  it('takes a LUN to clone, with size_gb optional', () => {
    expect(createLunBody.parse({ name: 'c1', source: { lun_id: SOURCE } })).toMatchObject({ name: 'c1', source: { lun_id: SOURCE } });
    expect(createLunBody.parse({ name: 'c1', size_gb: 20, source: { lun_id: SOURCE } })).toMatchObject({ size_gb: 20 });
  });

  it('takes a snapshot to clone instead', () => {
    expect(createLunBody.parse({ name: 'c1', source: { snapshot_id: SOURCE } }).source).toEqual({ snapshot_id: SOURCE });
  });

  it('still needs size_gb without a source', () => {
    expect(issues({ name: 'c1' })).toEqual([{ path: 'size_gb', message: expect.stringMatching(/is required/) }]);
  });

  it('names the field of a bad source', () => {
    expect(issues({ name: 'c1', source: { lun_id: SOURCE, snapshot_id: SOURCE } })).toEqual([{ path: 'source.snapshot_id', message: expect.stringMatching(/not both/) }]);
    expect(issues({ name: 'c1', source: {} })).toEqual([{ path: 'source.lun_id', message: expect.stringMatching(/is required/) }]);
    expect(issues({ name: 'c1', source: { lun_id: 'nope' } }).map((i) => i.path)).toEqual(['source.lun_id']);
    expect(issues({ name: 'c1', source: { snapshot_id: 'nope' } }).map((i) => i.path)).toEqual(['source.snapshot_id']);
    expect(issues({ name: 'c1', source: { lun_id: SOURCE, extra: 1 } }).map((i) => i.path)).toEqual(['source']);
  });
});
