import { ConflictError } from '../errors';
import { assertBackendCanClone } from './clone-capability';

const backend = (config: object) => ({ name: 'b1', config: { backingstore_path: 'x', ...config } }) as Parameters<typeof assertBackendCanClone>[0];

describe('assertBackendCanClone', () => {
  it('file backends and thin-pool block backends clone; thick volumes are a 409 naming the source field', () => {
    expect(() => assertBackendCanClone(backend({ backingstore_type: 'file' }), 'source.lun_id')).not.toThrow();
    expect(() => assertBackendCanClone(backend({ backingstore_type: 'block', thin_pool: 'pool0' }), 'source.lun_id')).not.toThrow();
    try {
      assertBackendCanClone(backend({ backingstore_type: 'block' }), 'source.snapshot_id');
      throw new Error('expected a refusal');
    } catch (err) {
      expect(err).toBeInstanceOf(ConflictError);
      expect((err as ConflictError).fields).toEqual([{ field: 'source.snapshot_id', message: 'its backend cannot clone' }]);
    }
  });
});
