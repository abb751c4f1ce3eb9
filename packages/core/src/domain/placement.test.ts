import type { BackendConfig } from '@bootlun/contracts';
import type { Backend, BackendCapacity } from './model';
import { describeNoRoom, describePlacement, formatGiB, placeLun, type PlacementContext } from './placement';

const GiB = 1024 ** 3;
const now = new Date('2026-12-01T12:00:00Z');
const context: PlacementContext = { now, offlineAfterMs: 20_000 };

interface Shape {
  totalGb?: number;
  freeGb?: number;
  provisionedGb?: number;
  luns?: number;
  ratio?: number;
  status?: Backend['status'];
  type?: string;
  /** Milliseconds since the last heartbeat; null: never. */
  heartbeatAgoMs?: number | null;
  /** No capacity report from the worker. */
  unreported?: boolean;
}

function backend(name: string, s: Shape = {}): Backend {
  const capacity: BackendCapacity | null = s.unreported
    ? null
    : { source: 'filesystem', location: `/srv/${name}`, totalBytes: (s.totalGb ?? 100) * GiB, usedBytes: ((s.totalGb ?? 100) - (s.freeGb ?? 100)) * GiB, freeBytes: (s.freeGb ?? 100) * GiB };
  const config: BackendConfig = {
    driver: 'tgt',
    portal_ip: '10.0.0.5',
    portal_port: 3260,
    iqn_prefix: `iqn.2026-11.io.bootlun.${name}`,
    backingstore_type: 'file',
    backingstore_path: `/srv/${name}`,
    tgt_control_port: 0,
    ...(s.ratio !== undefined ? { overcommit_ratio: s.ratio } : {}),
  };
  const heartbeatAgo = s.heartbeatAgoMs === undefined ? 1_000 : s.heartbeatAgoMs;
  return {
    id: `id-${name}`,
    name,
    type: s.type ?? 'iscsi',
    status: s.status ?? 'online',
    config,
    lastHeartbeatAt: heartbeatAgo === null ? null : new Date(now.getTime() - heartbeatAgo),
    stats: { capacity, reportedAt: capacity ? now : null, lunCount: s.luns ?? 0, provisionedBytes: (s.provisionedGb ?? 0) * GiB, templateCount: 0 },
    createdAt: now,
    updatedAt: now,
  };
}

const chosenName = (backends: Backend[], sizeGb: number) => placeLun(backends, sizeGb, context).chosen?.backend.name ?? null;

describe('placeLun', () => {
  it('room is min(total × ratio − provisioned, free × ratio)', () => {
    const p = placeLun([backend('a', { totalGb: 100, freeGb: 80, provisionedGb: 30 }), backend('b', { totalGb: 100, freeGb: 50, provisionedGb: 10 })], 1, context);
    expect(p.candidates.map((c) => [c.backend.name, c.roomBytes! / GiB])).toEqual([
      ['a', 70], // total − provisioned binds
      ['b', 50], // free binds
    ]);
    expect(p.sizeBytes).toBe(GiB);
  });

  it('chooses the fitting backend with the most capacity not yet provisioned (total × ratio − provisioned)', () => {
    expect(chosenName([backend('a', { totalGb: 100, provisionedGb: 40 }), backend('b', { totalGb: 200, provisionedGb: 120 }), backend('c', { totalGb: 50, ratio: 2 })], 10)).toBe('c');
    // Free space decides whether it fits, not where it goes among those where it fits.
    expect(chosenName([backend('a', { totalGb: 100, freeGb: 20 }), backend('b', { totalGb: 90, freeGb: 90 })], 10)).toBe('a');
    expect(chosenName([backend('a', { totalGb: 100, freeGb: 5 }), backend('b', { totalGb: 90, freeGb: 90 })], 10)).toBe('b');
  });

  it('spreads sparse LUNs over hosts whose measured free space neither moves nor quite ties', () => {
    // Free space binds the room and stays as measured (sparse files use no blocks yet); a few bytes decide nothing.
    const free = { a: 80 + 1e-6, b: 80, c: 80 - 1e-6 };
    const provisioned: Record<string, number> = { a: 0, b: 0, c: 0 };
    const placed: string[] = [];
    for (let i = 0; i < 9; i++) {
      const name = chosenName((['a', 'b', 'c'] as const).map((n) => backend(n, { totalGb: 250, freeGb: free[n], provisionedGb: provisioned[n] })), 1)!;
      placed.push(name);
      provisioned[name]! += 1;
    }
    expect(placed).toEqual(['a', 'b', 'c', 'a', 'b', 'c', 'a', 'b', 'c']);
  });

  it('fits exactly at room = size, not one byte beyond', () => {
    expect(chosenName([backend('a', { totalGb: 10, freeGb: 10 })], 10)).toBe('a');
    expect(chosenName([backend('a', { totalGb: 10, freeGb: 10, provisionedGb: 1 })], 10)).toBeNull();
  });

  it('breaks ties by fewer LUNs, then by name', () => {
    expect(chosenName([backend('a', { luns: 3 }), backend('b', { luns: 2 }), backend('c', { luns: 2 })], 1)).toBe('b');
    expect(chosenName([backend('z'), backend('m'), backend('q')], 1)).toBe('m');
  });

  it('counts every LUN already provisioned (any status), so placements spread', () => {
    const placed: string[] = [];
    const provisioned: Record<string, number> = { a: 0, b: 0 };
    for (let i = 0; i < 6; i++) {
      const name = chosenName([backend('a', { totalGb: 20, freeGb: 20, provisionedGb: provisioned.a }), backend('b', { totalGb: 20, freeGb: 20, provisionedGb: provisioned.b })], 5)!;
      placed.push(name);
      provisioned[name] = (provisioned[name] ?? 0) + 5;
    }
    expect(placed).toEqual(['a', 'b', 'a', 'b', 'a', 'b']);
  });

  it('lets an overcommit ratio promise more than total, still bounded by free × ratio', () => {
    const thin = backend('thin', { totalGb: 100, freeGb: 90, provisionedGb: 150, ratio: 2 });
    const p = placeLun([thin], 40, context);
    expect(p.candidates[0]).toMatchObject({ overcommitRatio: 2, roomBytes: 50 * GiB, fits: true });
    expect(chosenName([thin], 51)).toBeNull();
    // Nearly full on disk: free × ratio binds though the provisioned sizes leave room.
    expect(placeLun([backend('thin', { totalGb: 100, freeGb: 10, provisionedGb: 20, ratio: 3 })], 1, context).candidates[0]!.roomBytes).toBe(30 * GiB);
    // Fractional ratios round the room down to whole bytes.
    expect(Number.isInteger(placeLun([backend('f', { totalGb: 7, freeGb: 7, ratio: 1.3 })], 1, context).candidates[0]!.roomBytes)).toBe(true);
  });

  it('takes a missing or out-of-range stored ratio as 1', () => {
    expect(placeLun([backend('a', { totalGb: 10, freeGb: 10 })], 1, context).candidates[0]!.overcommitRatio).toBe(1);
    expect(placeLun([backend('a', { totalGb: 10, freeGb: 10, ratio: 0.5 })], 1, context).candidates[0]!.overcommitRatio).toBe(1);
  });

  it('leaves out backends that are offline, stale, in error, not iSCSI or never reported capacity', () => {
    const p = placeLun(
      [
        backend('down', { status: 'offline', freeGb: 1000, totalGb: 1000 }),
        backend('stale', { heartbeatAgoMs: 20_001, freeGb: 1000, totalGb: 1000 }),
        backend('never', { heartbeatAgoMs: null, freeGb: 1000, totalGb: 1000 }),
        backend('broken', { status: 'error', freeGb: 1000, totalGb: 1000 }),
        backend('nfs', { type: 'nfs', freeGb: 1000, totalGb: 1000 }),
        backend('blind', { unreported: true }),
        backend('small', { totalGb: 10, freeGb: 10 }),
      ],
      5,
      context,
    );
    expect(Object.fromEntries(p.candidates.map((c) => [c.backend.name, c.excluded]))).toEqual({
      blind: 'no capacity report',
      broken: 'in error',
      down: 'offline',
      never: 'offline',
      nfs: 'not iscsi',
      small: null,
      stale: 'offline',
    });
    expect(p.candidates.filter((c) => c.excluded).every((c) => c.roomBytes === null && !c.fits)).toBe(true);
    expect(p.chosen?.backend.name).toBe('small');
  });

  it('a heartbeat exactly at the threshold is still online', () => {
    expect(chosenName([backend('edge', { heartbeatAgoMs: 20_000 })], 1)).toBe('edge');
  });

  it('an overcommitted backend has negative room and takes nothing', () => {
    const p = placeLun([backend('over', { totalGb: 100, freeGb: 50, provisionedGb: 120 })], 1, context);
    expect(p.candidates[0]).toMatchObject({ roomBytes: -20 * GiB, fits: false });
    expect(p.chosen).toBeNull();
  });
});

describe('placement sentences', () => {
  it('a LUN that fits nowhere names the size and every backend’s numbers or why it was left out', () => {
    const p = placeLun([backend('b-full', { totalGb: 100, freeGb: 40, provisionedGb: 70, luns: 7 }), backend('a-down', { status: 'offline' }), backend('c-new', { unreported: true }), backend('d-thin', { totalGb: 10, freeGb: 2.5, ratio: 2 })], 50, context);
    expect(p.chosen).toBeNull();
    expect(describeNoRoom(p)).toBe(
      'no storage backend has room for 50 GiB (room = min(total × ratio − provisioned, free × ratio)); ' +
        'a-down: offline; ' +
        'b-full: room 30 GiB (free 40 GiB, total 100 GiB, provisioned 70 GiB, overcommit ratio 1); ' +
        'c-new: no capacity report from its worker yet; ' +
        'd-thin: room 5 GiB (free 2.5 GiB, total 10 GiB, provisioned 0 GiB, overcommit ratio 2)',
    );
  });

  it('no backends at all says so', () => {
    const p = placeLun([], 1, context);
    expect(p).toEqual({ sizeBytes: GiB, chosen: null, candidates: [] });
    expect(describeNoRoom(p)).toBe('no storage backend has room for 1 GiB: there are no storage backends; create one first');
  });

  it('a placement says where and what is left', () => {
    expect(describePlacement(placeLun([backend('a', { totalGb: 100, provisionedGb: 50 }), backend('b', { totalGb: 100, freeGb: 60 })], 10, context))).toBe(
      'placed on storage backend b, which has the most capacity not yet provisioned (90 GiB after this LUN; room 50 GiB)',
    );
  });

  it('formats bytes as GiB with at most two decimals', () => {
    expect(formatGiB(0)).toBe('0 GiB');
    expect(formatGiB(1.5 * GiB)).toBe('1.5 GiB');
    expect(formatGiB(8585740288)).toBe('8 GiB');
    expect(formatGiB(GiB / 3)).toBe('0.33 GiB');
    expect(formatGiB(-2 * GiB)).toBe('-2 GiB');
  });
});
