import { execFileSync } from 'node:child_process';
import { Prisma } from '@bootlun/db';
import { unique } from '../support/api-harness';
import { startStack, waitForLun, type Stack } from '../support/stack';
import { waitFor } from '../support/wait-for';

/**
 * A real worker process on a real tgtd measures its host, and the API shows it in
 * PureBoot's shape: total_bytes is the size of the backing directory's filesystem as `df`
 * sees it, file_count the backend's LUNs.
 */
let s: Stack;
beforeAll(async () => (s = await startStack()), 60_000);
afterAll(() => s?.close());

const GiB = 1024 ** 3;
type Stats = { total_bytes: number | null; used_bytes: number; free_bytes: number | null; file_count: number; template_count: number; lun_count: number; provisioned_bytes: number; source: string | null; reported_at: string | null };

/** `df` on the backing directory, independent of the worker: size, used, available bytes. */
function df(dir: string): { size: number; used: number; avail: number } {
  const row = execFileSync('df', ['-B1', '--output=size,used,avail', '--', dir], { encoding: 'utf8' }).trim().split('\n').at(-1)!;
  const [size, used, avail] = row.trim().split(/\s+/).map(Number);
  return { size: size!, used: used!, avail: avail! };
}

const backendStats = async (): Promise<Stats> => (await s.h.as('viewer').get(`/api/v1/storage/backends/${s.backend.id}`)).body.data.stats;
const listedStats = async (): Promise<Stats> => ((await s.h.as('viewer').get('/api/v1/storage/backends?limit=1000')).body.data as Array<{ id: string; stats: Stats }>).find((b) => b.id === s.backend.id)!.stats;
const reportAfter = (since: number) => waitFor('the worker\'s capacity report', async () => {
  const stats = await backendStats();
  return stats.reported_at && new Date(stats.reported_at).getTime() >= since ? stats : undefined;
}, 20_000);

/** The measured numbers are the backing directory's filesystem's: size exactly, used and free plausibly (other processes write to it too). */
function expectFilesystemOfBackingDir(stats: Stats): void {
  const fs = df(s.backingDir);
  expect(stats).toMatchObject({ source: 'filesystem', total_bytes: fs.size, template_count: 0 });
  expect(stats.used_bytes).toBeGreaterThan(0);
  expect(stats.free_bytes).toBeGreaterThan(0);
  expect(stats.used_bytes + stats.free_bytes!).toBeLessThanOrEqual(fs.size);
  // Within a few hundred MiB of what df says now: the same filesystem, measured moments apart.
  expect(Math.abs(stats.free_bytes! - fs.avail)).toBeLessThan(512 * 1024 ** 2);
}

describe('backend stats from a worker on a real tgt host', () => {
  it('reports the backing directory\'s filesystem soon after the worker starts', async () => {
    const stats = await reportAfter(0);
    expectFilesystemOfBackingDir(stats);
    expect(stats).toMatchObject({ file_count: 0, lun_count: 0, provisioned_bytes: 0 });
  });

  it('counts the LUNs it made as files, with their provisioned size, in get and list', async () => {
    const post = (sizeGb: number) => s.h.as('operator').post('/api/v1/storage/luns', { name: unique('stats'), size_gb: sizeGb, target_id: s.backend.id, purpose: 'install_source' });
    const luns = [(await post(1)).body.data, (await post(2)).body.data];
    for (const lun of luns) expect(await waitForLun(s.h, lun.id, (l) => l.status !== 'creating')).toMatchObject({ status: 'ready' });
    for (const read of [backendStats, listedStats]) {
      const stats = await read();
      expect(stats).toMatchObject({ file_count: 2, lun_count: 2, provisioned_bytes: 3 * GiB });
      expectFilesystemOfBackingDir(stats);
    }
  });

  it('measures through the command runner (df) when the worker needs a command prefix', async () => {
    await s.worker.stop();
    // Forget the first worker's report, so what shows next is the new worker's own.
    await s.h.services.prisma.storageBackend.update({ where: { id: s.backend.id }, data: { stats: Prisma.DbNull, statsReportedAt: null } });
    expect(await backendStats()).toMatchObject({ total_bytes: null, used_bytes: 0, free_bytes: null, source: null, reported_at: null, file_count: 2 });
    const since = Date.now();
    await s.startWorker({ COMMAND_PREFIX: 'env', LOG_LEVEL: 'debug' });
    expectFilesystemOfBackingDir(await reportAfter(since - 1_000));
    expect(s.worker.output()).toMatch(/"argv":\["env","df","-B1"/);
  });
});
