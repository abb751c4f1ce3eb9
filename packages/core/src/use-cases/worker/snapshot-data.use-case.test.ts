import type { Lun, LunSnapshot, Operation } from '../../domain/model';
import { PermanentTargetError, type LunPatch, type OperationPatch, type Repositories, type SnapshotPatch, type SnapshotStore, type StepContext } from '../../ports';
import { cloneSourceBacking } from './clone-backing.use-case';
import { recordSnapshotFailure, removeSnapshot, rollBackToSnapshot, takeSnapshot } from './snapshot-data.use-case';
import type { WorkerDeps } from './worker-deps';

const GIB = 1024 ** 3;
const lun = { id: 'lun-1', name: 'web-1', iqn: 'iqn.2026-11.io.bootlun:web-1', sizeGb: 2, assignedNodeId: null, generation: 7 } as Lun;
const snapshot: LunSnapshot = { id: 'snap-1', lunId: 'lun-1', name: 'before', sizeGb: 1, status: 'ready', method: null, errorMessage: null, createdAt: new Date(), updatedAt: new Date() };
const opOf = (kind: Operation['kind'], params: Operation['params'] = { snapshotId: 'snap-1' }) => ({ id: 'op-1', kind, lunGeneration: 7, params }) as unknown as Operation;

function setup(options: { sessions?: string[]; snapshot?: LunSnapshot | null; failRestore?: Error; detaches?: boolean } = {}) {
  const calls: string[] = [];
  const lunWrites: LunPatch[] = [];
  const snapshotWrites: SnapshotPatch[] = [];
  const opWrites: OperationPatch[] = [];
  const store: SnapshotStore = {
    create: async (ref, backing) => (calls.push(`create ${ref.snapshotId} from ${JSON.stringify(backing)}`), { method: 'copy', bytes: GIB }),
    restore: async (ref, backing, size, hooks) => {
      calls.push(`restore ${ref.snapshotId} into ${JSON.stringify(backing)} size ${size}`);
      // A thin store detaches the LUN once its new volume is staged, then swaps.
      if (options.detaches) await hooks.detach();
      if (options.failRestore) throw options.failRestore;
      return { method: 'copy', bytes: GIB };
    },
    cloneInto: async () => Promise.reject(new Error('not used')),
    remove: async (ref) => void calls.push(`remove ${ref.lunId}/${ref.snapshotId}`),
    removeAll: async () => undefined,
  };
  const found = options.snapshot === undefined ? snapshot : options.snapshot;
  const repos = {
    snapshots: {
      get: async () => found,
      update: async (_id: string, patch: SnapshotPatch) => void snapshotWrites.push(patch),
      remove: async (id: string) => void calls.push(`row removed ${id}`),
    },
    luns: { writeBack: async (_id: string, generation: number, patch: LunPatch) => (expect(generation).toBe(7), lunWrites.push(patch), true) },
    operations: { update: async (_id: string, patch: OperationPatch) => (opWrites.push(patch), {}) },
    hostObjects: { claim: async () => undefined, release: async () => undefined },
    nodes: { get: async () => null },
  } as unknown as Repositories;
  const deps = {
    repos,
    snapshots: store,
    backend: { config: { backingstore_type: 'file' } },
    driver: {
      liveSessions: async (iqn: string) => (calls.push(`sessions ${iqn}`), options.sessions ?? []),
      removeTarget: async (iqn: string) => void calls.push(`remove target ${iqn}`),
      removeBacking: async (backing: unknown) => void calls.push(`remove backing ${JSON.stringify(backing)}`),
      converge: async (desired: { iqn: string; createBacking: boolean }) => (calls.push(`converge ${desired.iqn} createBacking=${desired.createBacking}`), { lunNumber: 0 }),
    },
    requestPersist: () => void calls.push('persist'),
    backingFor: (id: string) => ({ kind: 'file', path: `/srv/luns/bootlun-${id}.img` }),
    log: () => undefined,
  } as unknown as WorkerDeps;
  const ctx: StepContext = { step: async () => undefined, checkpoint: async () => undefined };
  return { deps, ctx, calls, lunWrites, snapshotWrites, opWrites };
}

describe('rollBackToSnapshot (worker use case)', () => {
  it('checks the live sessions, then restores in place at the LUN size and clears the LUN error', async () => {
    const s = setup();
    await rollBackToSnapshot(s.deps, opOf('rollback'), lun, s.ctx);
    expect(s.calls).toEqual([`sessions ${lun.iqn}`, `restore snap-1 into {"kind":"file","path":"/srv/luns/bootlun-lun-1.img"} size ${2 * GIB}`]);
    expect(s.lunWrites).toEqual([{ errorMessage: null }]);
    expect(s.opWrites).toEqual([expect.objectContaining({ status: 'succeeded', result: { snapshot_id: 'snap-1', method: 'copy', bytes: GIB, forced: false } })]);
  });

  it('refuses without force while an initiator is logged in, writing nothing', async () => {
    const s = setup({ sessions: ['iqn.2026-11.node:a'] });
    await expect(rollBackToSnapshot(s.deps, opOf('rollback'), lun, s.ctx)).rejects.toThrow(PermanentTargetError);
    await expect(rollBackToSnapshot(s.deps, opOf('rollback'), lun, s.ctx)).rejects.toThrow(/iqn.2026-11.node:a is logged in.*nothing was changed/);
    expect(s.calls.filter((c) => c.startsWith('restore'))).toEqual([]);
    expect(s.lunWrites).toEqual([]);
  });

  it('with force neither the sessions nor an assignment stop it', async () => {
    const s = setup({ sessions: ['iqn.2026-11.node:a'] });
    await rollBackToSnapshot(s.deps, opOf('rollback', { snapshotId: 'snap-1', force: true }), { ...lun, assignedNodeId: 'node-1' }, s.ctx);
    expect(s.calls).toEqual([expect.stringMatching(/^restore snap-1/)]);
    expect(s.opWrites[0]!.result).toMatchObject({ forced: true });
  });

  it('refuses an assigned LUN without force, and a snapshot that is gone or not ready', async () => {
    await expect(rollBackToSnapshot(setup().deps, opOf('rollback'), { ...lun, assignedNodeId: 'node-1' }, setup().ctx)).rejects.toThrow(/assigned to a node after the rollback was requested/);
    await expect(rollBackToSnapshot(setup({ snapshot: null }).deps, opOf('rollback'), lun, setup().ctx)).rejects.toThrow(/deleted before the rollback ran/);
    await expect(rollBackToSnapshot(setup({ snapshot: { ...snapshot, status: 'deleting' } }).deps, opOf('rollback'), lun, setup().ctx)).rejects.toThrow(/is deleting/);
  });

  it('a store that swaps volumes detaches the LUN (target, then backing store) and gets it exported again over the swapped-in data', async () => {
    const s = setup({ detaches: true });
    await rollBackToSnapshot(s.deps, opOf('rollback'), lun, s.ctx);
    expect(s.calls).toEqual([
      `sessions ${lun.iqn}`,
      expect.stringMatching(/^restore snap-1/),
      `remove target ${lun.iqn}`,
      'remove backing {"kind":"file","path":"/srv/luns/bootlun-lun-1.img"}',
      `converge ${lun.iqn} createBacking=false`,
      'persist',
    ]);
    expect(s.lunWrites).toEqual([{ errorMessage: null }]);
  });

  it('exports a detached LUN again when the swap fails, and still fails the attempt', async () => {
    const s = setup({ detaches: true, failRestore: new Error('lvrename: EIO') });
    await expect(rollBackToSnapshot(s.deps, opOf('rollback'), lun, s.ctx)).rejects.toThrow('EIO');
    expect(s.calls.slice(-2)).toEqual([`converge ${lun.iqn} createBacking=false`, 'persist']);
    expect(s.lunWrites).toEqual([{ errorMessage: expect.stringMatching(/may be partly restored.*EIO/) }]);
  });

  it('a store that restores in place is never detached or converged', async () => {
    const s = setup();
    await rollBackToSnapshot(s.deps, opOf('rollback'), lun, s.ctx);
    expect(s.calls.some((c) => c.startsWith('remove') || c.startsWith('converge'))).toBe(false);
  });

  it('says on the LUN that a restore that failed may have left its data partly restored', async () => {
    const s = setup({ failRestore: new Error('EIO') });
    await expect(rollBackToSnapshot(s.deps, opOf('rollback'), lun, s.ctx)).rejects.toThrow('EIO');
    expect(s.lunWrites).toEqual([{ errorMessage: expect.stringMatching(/^rollback to snapshot before failed; the LUN's data may be partly restored.*EIO/) }]);
  });
});

describe('takeSnapshot and removeSnapshot (worker use cases)', () => {
  it('copies the LUN backing store and marks the snapshot ready with its method', async () => {
    const s = setup({ snapshot: { ...snapshot, status: 'creating' } });
    await takeSnapshot(s.deps, opOf('snapshot_create'), lun, s.ctx);
    expect(s.calls).toEqual(['create snap-1 from {"kind":"file","path":"/srv/luns/bootlun-lun-1.img"}']);
    expect(s.snapshotWrites).toEqual([{ status: 'ready', method: 'copy', errorMessage: null }]);
    expect(s.opWrites[0]).toMatchObject({ status: 'succeeded', result: { snapshot_id: 'snap-1', method: 'copy', bytes: GIB } });
  });

  it('removes the data before the row, and a missing snapshot is nothing to do', async () => {
    const s = setup();
    await removeSnapshot(s.deps, opOf('snapshot_delete'), lun, s.ctx);
    expect(s.calls).toEqual(['remove lun-1/snap-1', 'row removed snap-1']);
    const gone = setup({ snapshot: null });
    await removeSnapshot(gone.deps, opOf('snapshot_delete'), lun, gone.ctx);
    expect(gone.calls).toEqual([]);
    expect(gone.opWrites[0]).toMatchObject({ status: 'succeeded', progressStep: 'snapshot already gone' });
  });

  it('fails clearly where no store exists (a volume backend without a thin pool)', async () => {
    const s = setup({ snapshot: { ...snapshot, status: 'creating' } });
    const deps = { ...s.deps, snapshots: undefined, backend: { config: { backingstore_type: 'block' } } } as unknown as WorkerDeps;
    await expect(takeSnapshot(deps, opOf('snapshot_create'), lun, s.ctx)).rejects.toThrow(/need a thin pool/);
  });

  it('a final failure marks the snapshot error, never the LUN', async () => {
    const s = setup();
    await recordSnapshotFailure(s.deps, opOf('snapshot_create'), 'ENOSPC');
    expect(s.snapshotWrites).toEqual([{ status: 'error', errorMessage: 'ENOSPC' }]);
    expect(s.lunWrites).toEqual([]);
  });
});

describe('cloneSourceBacking from a snapshot', () => {
  it("copies the snapshot (named by its LUN and id), not the LUN's current data", async () => {
    const s = setup();
    const asked: unknown[] = [];
    const deps = {
      ...s.deps,
      clones: { clone: async () => Promise.reject(new Error('the LUN itself must not be copied')) },
      snapshots: { cloneInto: async (...args: unknown[]) => (asked.push(args.slice(0, 3)), { method: 'copy', sourceBytes: GIB }) },
    } as unknown as WorkerDeps;
    const clone = { id: 'clone-1', sizeGb: 3, sourceLunId: 'lun-1', sourceSnapshotId: 'snap-1', lunNumber: null } as Lun;
    await cloneSourceBacking(deps, clone, s.ctx);
    expect(asked).toEqual([[{ lunId: 'lun-1', snapshotId: 'snap-1' }, { kind: 'file', path: '/srv/luns/bootlun-clone-1.img' }, 3 * GIB]]);
    // Once exported (a lun number), a later converge copies nothing again.
    await cloneSourceBacking(deps, { ...clone, lunNumber: 1 }, s.ctx);
    expect(asked).toHaveLength(1);
  });
});
