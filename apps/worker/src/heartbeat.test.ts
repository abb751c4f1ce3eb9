import type { BackendCapacity, BackendRepository } from '@bootlun/core';
import pino from 'pino';
import { waitFor } from '../../../test/support/wait-for';
import { Heartbeat } from './heartbeat';

const CAPACITY: BackendCapacity = { source: 'volume_group', location: 'bootlun', totalBytes: 8585740288, usedBytes: 2 ** 30, freeBytes: 8585740288 - 2 ** 30 };

/** The two repository calls the heartbeat makes, recorded in order. */
function fakeBackends() {
  const calls: Array<{ kind: 'beat'; status: string } | { kind: 'capacity'; capacity: BackendCapacity; at: Date }> = [];
  const repo = {
    recordHeartbeat: async (_id: string, status: string) => void calls.push({ kind: 'beat', status }),
    recordCapacity: async (_id: string, capacity: BackendCapacity, at: Date) => void calls.push({ kind: 'capacity', capacity, at }),
  } as unknown as BackendRepository;
  return { repo, calls, beats: () => calls.filter((c) => c.kind === 'beat').length, reports: () => calls.filter((c) => c.kind === 'capacity') };
}

const quiet = pino({ level: 'silent' });

describe('Heartbeat', () => {
  let heartbeat: Heartbeat | undefined;
  afterEach(() => heartbeat?.stop());

  it('reports the capacity with the first beat, then no more often than its interval', async () => {
    const backends = fakeBackends();
    let reads = 0;
    heartbeat = new Heartbeat(backends.repo, 'b1', 10, quiet, { readCapacity: async () => (reads++, CAPACITY), capacityIntervalMs: 60_000 });
    heartbeat.start();
    await waitFor('a report and ten beats', async () => (backends.reports().length === 1 && backends.beats() >= 10 ? true : undefined), 5_000, 5);
    expect(reads).toBe(1);
    expect(backends.reports()[0]).toMatchObject({ capacity: CAPACITY });
  });

  it('measures again once the interval has passed', async () => {
    const backends = fakeBackends();
    heartbeat = new Heartbeat(backends.repo, 'b1', 5, quiet, { readCapacity: async () => CAPACITY, capacityIntervalMs: 30 });
    heartbeat.start();
    await waitFor('three reports', async () => (backends.reports().length >= 3 ? true : undefined), 5_000, 5);
    const [first, second] = backends.reports() as Array<{ at: Date }>;
    expect(second!.at.getTime() - first!.at.getTime()).toBeGreaterThanOrEqual(25);
  });

  it('keeps beating while a measurement hangs (a remote host busy with another command)', async () => {
    const backends = fakeBackends();
    let release!: (c: BackendCapacity) => void;
    let reads = 0;
    heartbeat = new Heartbeat(backends.repo, 'b1', 5, quiet, { readCapacity: () => (reads++, new Promise((r) => (release = r))), capacityIntervalMs: 0 });
    heartbeat.start();
    await waitFor('beats during the measurement', async () => (backends.beats() >= 10 ? true : undefined), 5_000, 5);
    expect(reads).toBe(1); // never a second measurement while one is in flight
    expect(backends.reports()).toEqual([]);
    release(CAPACITY);
    await waitFor('the report', async () => (backends.reports().length >= 1 ? true : undefined), 5_000, 5);
  });

  it('keeps beating when a measurement fails, and logs it', async () => {
    const backends = fakeBackends();
    const warnings: string[] = [];
    const logger = pino({ level: 'warn' }, { write: (line: string) => void warnings.push(JSON.parse(line).msg) });
    heartbeat = new Heartbeat(backends.repo, 'b1', 5, logger, { readCapacity: async () => Promise.reject(new Error('vgs exited 5')), capacityIntervalMs: 0 });
    heartbeat.start();
    await waitFor('beats after failures', async () => (backends.beats() >= 5 && warnings.length >= 2 ? true : undefined), 5_000, 5);
    expect(backends.reports()).toEqual([]);
    expect(warnings).toContain('reading the storage capacity failed');
  });

  it('says offline after a beat still being written when it stops, never before it', async () => {
    const written: string[] = [];
    let release!: () => void;
    const repo = {
      recordHeartbeat: (_id: string, status: string) => (status === 'online' ? new Promise<void>((r) => (release = () => (written.push(status), r()))) : (written.push(status), Promise.resolve())),
      recordCapacity: async () => undefined,
    } as unknown as BackendRepository;
    heartbeat = new Heartbeat(repo, 'b1', 60_000, quiet);
    heartbeat.start(); // the first beat's write is in flight
    const stopped = heartbeat.stop();
    await new Promise((r) => setImmediate(r));
    expect(written).toEqual([]);
    release();
    await stopped;
    expect(written).toEqual(['online', 'offline']);
  });

  it('stores nothing measured after stop, and says offline last', async () => {
    const backends = fakeBackends();
    let release: ((c: BackendCapacity) => void) | undefined;
    heartbeat = new Heartbeat(backends.repo, 'b1', 1_000, quiet, { readCapacity: () => new Promise((r) => (release = r)) });
    heartbeat.start();
    await waitFor('the first beat and a measurement', async () => (backends.beats() === 1 && release ? release : undefined), 5_000, 5);
    await heartbeat.stop();
    release!(CAPACITY);
    await new Promise((r) => setImmediate(r));
    expect(backends.reports()).toEqual([]);
    expect(backends.calls.at(-1)).toEqual({ kind: 'beat', status: 'offline' });
  });
});
