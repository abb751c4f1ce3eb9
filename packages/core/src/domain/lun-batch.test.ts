import type { Backend } from './model';
import { batchItemOutcome, batchTotals, planBatch, type BatchPlanInputs, type BatchRequestItem } from './lun-batch';

const GiB = 1024 ** 3;
const now = new Date('2026-12-01T12:00:00Z');
const context = { now, offlineAfterMs: 20_000 };

function backend(s: { totalGb: number; freeGb: number; provisionedGb: number; heartbeatAgoMs?: number }): Backend {
  return {
    id: 'b1',
    name: 'store-1',
    type: 'iscsi',
    status: 'online',
    config: { driver: 'tgt', portal_ip: '10.0.0.5', portal_port: 3260, iqn_prefix: 'iqn.2026-11.io.bootlun.s1', backingstore_type: 'file', backingstore_path: '/srv/s1', tgt_control_port: 0 },
    lastHeartbeatAt: new Date(now.getTime() - (s.heartbeatAgoMs ?? 1_000)),
    stats: {
      capacity: { source: 'filesystem', location: '/srv/s1', totalBytes: s.totalGb * GiB, usedBytes: (s.totalGb - s.freeGb) * GiB, freeBytes: s.freeGb * GiB },
      reportedAt: now,
      lunCount: 1,
      provisionedBytes: s.provisionedGb * GiB,
      templateCount: 1,
    },
    createdAt: now,
    updatedAt: now,
  };
}

const items: BatchRequestItem[] = ['a', 'b', 'c', 'd'].map((n, position) => ({ position, nodeId: `node-${n}`, nodeLabel: n, name: `${n}-boot` }));
const inputs = (over: Partial<BatchPlanInputs> = {}): BatchPlanInputs => ({ backends: [backend({ totalGb: 100, freeGb: 100, provisionedGb: 10 })], bootLuns: new Map(), takenNames: new Set(), ...over });
const plan = (i: BatchPlanInputs, sizeGb = 10, bootLun = true) => planBatch(items, { backendId: 'b1', sizeGb, bootLun }, i, context, (item) => item.name);
const summary = (planned: ReturnType<typeof plan>) => planned.map((p) => (p.create ? `${p.name}:ok` : `${p.name}:${p.refusal!.code}`));

describe('planBatch', () => {
  it('accepts every item that fits, in request order', () => {
    expect(summary(plan(inputs()))).toEqual(['a-boot:ok', 'b-boot:ok', 'c-boot:ok', 'd-boot:ok']);
  });

  it('counts each planned clone as provisioned: room for two of 40 GiB leaves the rest no_capacity with the numbers', () => {
    const planned = plan(inputs(), 40);
    expect(summary(planned)).toEqual(['a-boot:ok', 'b-boot:ok', 'c-boot:no_capacity', 'd-boot:no_capacity']);
    // 100 total − 10 provisioned − 80 planned = 10 GiB room.
    expect(planned[2]!.refusal!.detail).toMatch(/store-1: room 10 GiB .*provisioned 90 GiB.*clones stay on their source's backend/);
  });

  it("refuses a node that already boots from a LUN and a taken name, without spending the backend's room on them", () => {
    const planned = plan(inputs({ bootLuns: new Map([['node-a', { id: 'l1', name: 'old-boot' }]]), takenNames: new Set(['b-boot']) }), 45);
    expect(summary(planned)).toEqual(['a-boot:conflict', 'b-boot:conflict', 'c-boot:ok', 'd-boot:ok']);
    expect(planned[0]!.refusal!.detail).toMatch(/node a already boots from LUN old-boot \(l1\)/);
    expect(planned[1]!.refusal!.detail).toMatch(/a LUN named b-boot already exists/);
  });

  it('lets a node keep its boot LUN when the clones are not boot LUNs', () => {
    expect(summary(plan(inputs({ bootLuns: new Map([['node-a', { id: 'l1', name: 'old-boot' }]]) }), 10, false))[0]).toBe('a-boot:ok');
  });

  it('refuses every item while the backend is offline, saying so', () => {
    const planned = plan(inputs({ backends: [backend({ totalGb: 100, freeGb: 100, provisionedGb: 0, heartbeatAgoMs: 60_000 })] }));
    expect(summary(planned)).toEqual(['a-boot:no_capacity', 'b-boot:no_capacity', 'c-boot:no_capacity', 'd-boot:no_capacity']);
    expect(planned[0]!.refusal!.detail).toMatch(/store-1: offline/);
  });
});

describe('batch item outcome', () => {
  const op = (status: 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled', error: string | null = null) => ({ refusal: null, operationId: 'op1', operation: { status, error } });

  it('follows the create operation, and a refusal is failed with its code', () => {
    expect(batchItemOutcome(op('queued')).status).toBe('pending');
    expect(batchItemOutcome(op('running')).status).toBe('running');
    expect(batchItemOutcome(op('succeeded')).status).toBe('ready');
    expect(batchItemOutcome(op('failed', 'disk full'))).toEqual({ status: 'failed', error: 'operation_failed', detail: 'disk full' });
    expect(batchItemOutcome(op('cancelled'))).toMatchObject({ status: 'failed', error: 'cancelled' });
    expect(batchItemOutcome({ refusal: { code: 'no_capacity', detail: 'full' }, operationId: null, operation: null })).toEqual({ status: 'failed', error: 'no_capacity', detail: 'full' });
  });

  it('totals by status', () => {
    expect(batchTotals([{ status: 'ready' }, { status: 'failed' }, { status: 'ready' }, { status: 'pending' }])).toEqual({ pending: 1, running: 0, ready: 2, failed: 1 });
  });
});
