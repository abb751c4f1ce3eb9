import { loadConfigOrExit } from '@bootlun/config';
import type { WorkerDeps } from '@bootlun/core';
import { parseCommandTransport, SpawnRunner, VmAgentRunner, type CommandRunner } from '@bootlun/exec';
import { BACKOFF_TYPE, JOB_NAMES, queueNameFor, ReconcileSchedule } from '@bootlun/jobs';
import { createLogger, createServices, DEFAULT_POOL_MAX, prepareSealedSecrets } from '@bootlun/runtime';
import { backingFor, createTargetDriver, FileSnapshotStore, LocalBackingCloner, LocalImageImporter, LvmThinCloner, probeCloneMethod, ThinSnapshotStore } from '@bootlun/targets';
import { withFaults } from './faults';
import { Heartbeat } from './heartbeat';
import { createWorkerMetrics } from './metrics';
import { PersistCoalescer } from './persist-coalescer';
import { backoffStrategy, operationProcessor } from './processors/operation.processor';
import { cloneMethodReader } from './clone-method';
import { timedCloner } from './timed-cloner';

async function main(): Promise<void> {
  const env = loadConfigOrExit();
  const logger = createLogger(env, 'worker');
  if (!env.STORAGE_BACKEND) {
    process.stderr.write('invalid configuration: STORAGE_BACKEND is required (the id or name of the storage backend this host serves)\n');
    process.exit(1);
  }
  const services = createServices(env, logger, { failFastQueue: false, defaultPoolMax: DEFAULT_POOL_MAX.worker });
  await prepareSealedSecrets(services, env, logger);
  const backend = await services.repos.backends.findByRef(env.STORAGE_BACKEND);
  if (!backend) {
    process.stderr.write(`invalid configuration: STORAGE_BACKEND ${env.STORAGE_BACKEND} is not a known storage backend\n`);
    process.exit(1);
  }
  const log = logger.child({ backend: backend.name, backendId: backend.id });
  // COMMAND_TRANSPORT=vm-agent:<socket>: the worker stays outside the storage host and its
  // commands (argv + stdin, no shell) run through the host's command agent (issue 6, test/vm).
  const transport = parseCommandTransport(env.COMMAND_TRANSPORT);
  const local = transport.kind !== 'vm-agent';
  const runner: CommandRunner = local
    ? new SpawnRunner({ prefix: env.COMMAND_PREFIX?.split(' ').filter(Boolean), logger: log })
    : new VmAgentRunner(transport.socketPath, { logger: log });
  // On the storage host itself, as the target daemon's user: backing files can be read and written directly.
  const onHost = local && !env.COMMAND_PREFIX;
  const driver = withFaults(
    createTargetDriver(backend.config, runner, { backendName: backend.name, tgtConfigDir: env.TGT_CONFIG_DIR, localFiles: onHost, warn: (message) => log.warn(message) }),
    process.env,
  );
  const persist = new PersistCoalescer(() => driver.persist(), (err) => log.error({ err: err.message }, 'saving the target configuration failed'));

  // Images are streamed into the backing files and volumes directly, so only a worker on the
  // storage host itself (as the target daemon's user) can import them; elsewhere imports fail saying so.
  const images = onHost ? new LocalImageImporter({ runner, scratchDir: env.IMAGE_IMPORT_DIR }) : undefined;
  // Clones copy backing files the same way, only on the storage host; a thin-pool backend
  // clones by thin snapshot (LVM commands, so through any transport); thick volumes cannot.
  const thinPool = backend.config.backingstore_type === 'block' ? backend.config.thin_pool : undefined;
  const clones = thinPool
    ? new LvmThinCloner({ runner, thinPool })
    : onHost && backend.config.backingstore_type === 'file'
      ? new LocalBackingCloner()
      : undefined;
  const readCloneMethod = cloneMethodReader(backend.config, clones !== undefined, (dir) => probeCloneMethod(dir));
  // Probed once now, before any job: the probe's two scratch files never sit beside a job's work.
  await readCloneMethod();
  // Snapshots of a thin-pool backend are thin snapshot LVs (LVM commands, so through any transport);
  // of a file backend, copies of backing files (a reflink where the probe found one), on the storage host only;
  // thick volumes have none.
  const snapshots = thinPool
    ? new ThinSnapshotStore({ runner, volumeGroup: backend.config.backingstore_path, thinPool })
    : onHost && backend.config.backingstore_type === 'file'
      ? new FileSnapshotStore(backend.config.backingstore_path, { runner, cloneMethod: readCloneMethod })
      : undefined;

  const metrics = createWorkerMetrics(backend.name);

  const deps: WorkerDeps = {
    repos: services.repos,
    secrets: services.secrets,
    driver,
    images,
    clones: clones && timedCloner(clones, (method, seconds) => metrics.observeClone(method, seconds)),
    snapshots,
    backend,
    backingFor: (lunId) => backingFor(backend.config.backingstore_type, backend.config.backingstore_path, lunId),
    requestPersist: () => persist.request(),
    log: (level, msg, fields) => log[level](fields ?? {}, msg),
  };

  // Every catalog job name maps to an operation kind (typed in the catalog); runOperation handles every kind.
  log.info({ jobs: JOB_NAMES }, 'handlers ready');

  const metricsServer = env.WORKER_METRICS_PORT !== undefined ? await metrics.serve(env.WORKER_METRICS_PORT) : null;

  const queueName = queueNameFor(backend.id);
  const processOperation = operationProcessor(deps, log, services.retry, metrics);
  // No save starts while a job runs (see PersistCoalescer).
  const processHoldingSaves: typeof processOperation = async (job) => {
    persist.hold();
    try {
      return await processOperation(job);
    } finally {
      persist.release();
    }
  };
  const worker = services.queues.connection.worker(queueName, processHoldingSaves, {
    concurrency: 1, // targetcli is not safe to run concurrently on one host: serialize mutations
    lockDuration: env.WORKER_LOCK_MS,
    stalledInterval: env.WORKER_STALLED_INTERVAL_MS,
    maxStalledCount: 3, // a job whose worker died is retried; our steps are idempotent
    settings: { backoffStrategy: (attemptsMade, type, err) => (type === BACKOFF_TYPE ? backoffStrategy(attemptsMade, type, err) : 1_000) },
  });
  worker.on('error', (err) => log.warn({ err: err.message }, 'worker connection error'));

  const queue = services.queues.forBackend(backend.id);
  const schedule = new ReconcileSchedule(queue, backend.id, env.RECONCILE_INTERVAL_MS, log);
  await schedule.start(env.HEARTBEAT_INTERVAL_MS);
  // Startup reconcile (issue 5): a restarted target daemon (tgtd keeps nothing) serves none of the
  // ready/active LUNs until the next scheduled run; one reconcile now puts their targets back.
  // Queued, not called, so it waits its turn behind any job in flight (one mutation at a time).
  await queue.add('backend.reconcile', { operationId: null, lunId: null }, { removeOnComplete: true, removeOnFail: 100 });

  const heartbeat = new Heartbeat(services.repos.backends, backend.id, env.HEARTBEAT_INTERVAL_MS, log, {
    readCapacity: async () => {
      const [capacity, clone] = await Promise.all([driver.capacity(), readCloneMethod()]);
      return clone ? { ...capacity, clone } : capacity;
    },
  });
  heartbeat.start();
  log.info({ queue: queueName, driver: backend.config.driver, store: services.queues.connection.kind }, 'worker started');

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'worker stopping: finishing the current step');
    schedule.stop();
    await worker.close(); // waits for the running job; takes no new ones
    await persist.flush();
    await heartbeat.stop();
    metricsServer?.close();
    await services.close();
    log.info('worker stopped');
    process.exit(0);
  };
  process.once('SIGTERM', () => void stop('SIGTERM'));
  process.once('SIGINT', () => void stop('SIGINT'));
}

void main();
