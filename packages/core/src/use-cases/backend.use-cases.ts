import type { BackendConfig, CreateBackendBody, UpdateBackendBody } from '@bootlun/contracts';
import type { CoreDeps } from '../deps';
import { effectiveStatus, findBackendOverlaps } from '../domain/backend-rules';
import type { Backend, Operation } from '../domain/model';
import { ConflictError, NotFoundError } from '../errors';
import type { Page, PageRequest } from '../ports';

export { effectiveStatus };

function withLiveStatus(deps: CoreDeps, backend: Backend): Backend {
  return { ...backend, status: effectiveStatus(backend, deps.settings.backendOfflineAfterMs) };
}

export async function getBackend(deps: CoreDeps, id: string): Promise<Backend> {
  const backend = await deps.repos.backends.get(id);
  if (!backend) throw new NotFoundError('storage backend', id);
  return withLiveStatus(deps, backend);
}

export async function listBackends(deps: CoreDeps, page: PageRequest): Promise<Page<Backend>> {
  const result = await deps.repos.backends.list(page);
  return { ...result, items: result.items.map((b) => withLiveStatus(deps, b)) };
}

/** Refuses a config that would share target names or data locations with another backend. */
async function assertNoOverlap(deps: CoreDeps, config: BackendConfig, selfId: string | null): Promise<void> {
  const others = (await deps.repos.backends.listAll()).filter((b) => b.id !== selfId);
  const overlaps = findBackendOverlaps(config, others);
  if (overlaps.length === 0) return;
  const names = [...new Set(overlaps.map((o) => o.backend))].join(', ');
  throw new ConflictError(`this configuration overlaps storage backend ${names}: ${overlaps.map((o) => `${o.field.field} ${o.field.message}`).join('; ')}`, overlaps.map((o) => o.field));
}

export async function createBackend(deps: CoreDeps, input: CreateBackendBody): Promise<Backend> {
  await assertNoOverlap(deps, input.config, null);
  return withLiveStatus(deps, await deps.repos.backends.create(input));
}

export async function updateBackend(deps: CoreDeps, id: string, input: UpdateBackendBody): Promise<Backend> {
  const backend = await getBackend(deps, id);
  if (input.config) {
    const luns = await deps.repos.backends.countLuns(id);
    const moved = (['driver', 'iqn_prefix', 'backingstore_type', 'backingstore_path', 'thin_pool'] as const).filter((k) => input.config![k] !== backend.config[k]);
    if (luns > 0 && moved.length > 0) {
      throw new ConflictError(`storage backend ${backend.name} has ${luns} LUNs; ${moved.join(', ')} cannot change while LUNs live on it`, moved.map((k) => ({ field: `config.${k}`, message: 'cannot change while LUNs exist' })));
    }
    await assertNoOverlap(deps, input.config, id);
  }
  return withLiveStatus(deps, await deps.repos.backends.update(id, { name: input.name, config: input.config }));
}

export async function deleteBackend(deps: CoreDeps, id: string): Promise<Backend> {
  const backend = await getBackend(deps, id);
  const luns = await deps.repos.backends.countLuns(id);
  if (luns > 0) throw new ConflictError(`storage backend ${backend.name} still has ${luns} LUNs; delete them first`);
  await deps.repos.backends.delete(id);
  return backend;
}

/** Queues a comparison of the database with the live target configuration, repairing what is safe. */
export async function requestReconcile(deps: CoreDeps, id: string, options: { dryRun?: boolean } = {}): Promise<{ operation: Operation; dispatch: 'enqueued' | 'deferred' }> {
  const backend = await getBackend(deps, id);
  const operation = await deps.repos.operations.create({
    kind: 'reconcile',
    backendId: backend.id,
    params: options.dryRun ? { dryRun: true } : {},
    lunId: null,
    lunName: null,
    lunGeneration: null,
    maxAttempts: deps.retry.reconcile.attempts,
  });
  return { operation, dispatch: await deps.dispatcher.dispatch(operation) };
}
