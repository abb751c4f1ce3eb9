import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { migrateDeploy } from '@bootlun/db';
import { backendBody, startApiHarness, unique, type ApiHarness } from './api-harness';
import { createEmptyDatabase, dropTestDatabase } from './test-db';
import { startTgtd, type Tgtd } from './tgtd';
import { waitFor } from './wait-for';
import { startWorker, type WorkerProcess } from './worker-process';

/** A whole storage stack for one test file: real tgtd, the API on the run's database and queue, one worker process. */
export interface Stack {
  h: ApiHarness;
  tgtd: Tgtd;
  backend: { id: string; name: string; config: Record<string, unknown> };
  dir: string;
  backingDir: string;
  /** Where a file backend keeps the LUN's data. */
  backingFile(lunId: string): string;
  workerEnv: Record<string, string>;
  worker: WorkerProcess;
  startWorker(extraEnv?: Record<string, string>): Promise<WorkerProcess>;
  close(): Promise<void>;
}

export interface StackOptions {
  workerEnv?: Record<string, string>;
  backingDir?: string;
  apiEnv?: Record<string, string>;
  sweepIntervalMs?: number;
  startWorker?: boolean;
  /**
   * A migrated database of the stack's own, dropped at close. For stacks whose queue lives
   * in a Redis of their own: the outbox sweeper claims every quiet operation of its database,
   * and on the run's shared one it would take other files' operations (whose jobs are in
   * another store) for lost, and they its.
   */
  ownDatabase?: boolean;
}

export async function startStack(options: StackOptions = {}): Promise<Stack> {
  const own = options.ownDatabase ? await createEmptyDatabase() : null;
  if (own) await migrateDeploy(own.url);
  const ownEnv: Record<string, string> = own ? { DATABASE_URL: own.url, DATABASE_DIRECT_URL: own.directUrl } : {};
  options = { ...options, apiEnv: { ...ownEnv, ...options.apiEnv } };
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bootlun-stack-'));
  const backingDir = options.backingDir ?? path.join(dir, 'luns');
  if (!options.backingDir) mkdirSync(backingDir);
  mkdirSync(path.join(dir, 'tgt-conf'));
  const tgtd = await startTgtd();
  const h = await startApiHarness(options.apiEnv, { sweepIntervalMs: options.sweepIntervalMs });
  const backend = (
    await h.as('admin').post(
      '/api/v1/storage/backends',
      backendBody({ name: unique('tgt') }, { portal_port: tgtd.portalPort, tgt_control_port: tgtd.controlPort, backingstore_path: backingDir, iqn_prefix: `iqn.2026-11.io.bootlun.${unique('e').replace('-', '')}` }),
    )
  ).body.data;
  // The scheduled reconcile runs when a backend's first worker starts and then every interval: an hour
  // keeps it from landing between a test's tampering and the reconcile the test asks for (a file on a
  // loaded machine can outlast the default 5 minutes). Tests that reconcile ask for it explicitly.
  const workerEnv: Record<string, string> = { ...(options.apiEnv ?? {}), STORAGE_BACKEND: backend.name, TGT_CONFIG_DIR: path.join(dir, 'tgt-conf'), DATA_DIR: path.join(dir, 'data'), RETRY_CREATE_BACKOFF_MS: '200', RETRY_UPDATE_BACKOFF_MS: '200', RECONCILE_INTERVAL_MS: '3600000', ...options.workerEnv };
  const stack: Stack = {
    h,
    tgtd,
    backend,
    dir,
    backingDir,
    backingFile: (lunId) => path.join(backingDir, `bootlun-${lunId}.img`),
    workerEnv,
    worker: undefined as unknown as WorkerProcess,
    startWorker: async (extraEnv = {}) => (stack.worker = await startWorker({ ...workerEnv, ...extraEnv })),
    close: async () => {
      await stack.worker?.stop();
      await stack.tgtd.stop();
      await h.close();
      rmSync(dir, { recursive: true, force: true });
      if (own) await dropTestDatabase(own.name);
    },
  };
  if (options.startWorker !== false) await stack.startWorker();
  return stack;
}

type Lun = { id: string; status: string; error_message: string | null; [k: string]: unknown };

/** Polls the LUN through the API until `accept` says yes; fails with its last state. */
export async function waitForLun(h: ApiHarness, id: string, accept: (lun: Lun) => boolean, timeoutMs = 30_000): Promise<Lun> {
  let last: unknown;
  try {
    return await waitFor(`LUN ${id}`, async () => {
      const res = await h.as('viewer').get(`/api/v1/storage/luns/${id}`);
      last = res.body.data ?? res.status;
      return res.status === 200 && accept(res.body.data) ? res.body.data : undefined;
    }, timeoutMs);
  } catch (err) {
    throw new Error(`${(err as Error).message}; last seen: ${JSON.stringify(last)}`, { cause: err });
  }
}

export async function waitForOperation(h: ApiHarness, id: string, statuses: string[], timeoutMs = 30_000) {
  return waitFor(`operation ${id} to be ${statuses.join('/')}`, async () => {
    const res = await h.as('viewer').get(`/api/v1/operations/${id}`);
    return statuses.includes(res.body.data?.status) ? res.body.data : undefined;
  }, timeoutMs);
}
