import { randomUUID } from 'node:crypto';
import { redactUrl, targetIqn, type CreateLunBody, type ImportLunBody, type OperationKind, type UpdateLunBody } from '@bootlun/contracts';
import type { CoreDeps } from '../deps';
import { chapUsernameFor, generateChapSecret } from '../domain/chap';
import { assertBackendCanClone } from '../domain/clone-capability';
import { lunRules } from '../domain/lun-rules';
import { snapshotRules } from '../domain/snapshot-rules';
import type { BackendRef, LunView, Operation } from '../domain/model';
import { describeNoRoom, describePlacement, placeLun } from '../domain/placement';
import { ConflictError, NoCapacityError, NotFoundError, ValidationError } from '../errors';
import type { LunDocuments, LunFilter, LunPatch, NewLun, NewOperation, PageRequest } from '../ports';
import { openChapSecret, sealChapSecret } from './sealed-secrets.use-cases';

export interface LunChangeResult {
  lun: LunView;
  operation: Operation | null;
  /** 'deferred' when the queue was unreachable: the change is durable and the sweeper will dispatch it. */
  dispatch: 'enqueued' | 'deferred' | 'none';
  /** A create that named no backend: a sentence saying where the LUN was placed and why. */
  placement?: string;
}

async function loadLun(deps: CoreDeps, id: string): Promise<LunView> {
  const lun = await deps.repos.luns.get(id);
  if (!lun) throw new NotFoundError('LUN', id);
  return lun;
}

function newOperation(deps: CoreDeps, kind: OperationKind, backendId: string, params: NewOperation['params'] = {}): NewOperation {
  return { kind, backendId, params, maxAttempts: deps.retry[kind].attempts };
}

async function dispatch(deps: CoreDeps, lun: LunView, operation: Operation | null): Promise<LunChangeResult> {
  if (!operation) return { lun, operation, dispatch: 'none' };
  return { lun, operation, dispatch: await deps.dispatcher.dispatch(operation) };
}

/** Fresh CHAP credentials for a LUN (a new secret each time CHAP is switched on), sealed for this LUN's row. */
type ChapFields = Pick<LunView, 'chapEnabled' | 'chapUsername' | 'chapSecret' | 'mutualChapEnabled' | 'targetChapUsername' | 'targetChapSecret'>;

function chapCredentials(deps: CoreDeps, lunId: string, chap: boolean, mutual: boolean): ChapFields {
  return {
    chapEnabled: chap,
    chapUsername: chap ? chapUsernameFor(lunId, 'initiator') : null,
    chapSecret: chap ? sealChapSecret(deps.secrets, lunId, 'chap', generateChapSecret()) : null,
    mutualChapEnabled: chap && mutual,
    targetChapUsername: chap && mutual ? chapUsernameFor(lunId, 'target') : null,
    targetChapSecret: chap && mutual ? sealChapSecret(deps.secrets, lunId, 'target_chap', generateChapSecret()) : null,
  };
}

/** GET /storage/luns/{id}: the LUN's LunResponse JSON, as the database rendered it. */
export async function getLunDocument(deps: CoreDeps, id: string): Promise<string> {
  const doc = await deps.repos.luns.getDocument(id);
  if (doc === null) throw new NotFoundError('LUN', id);
  return doc;
}

/** GET /storage/luns: a page of LunResponse JSON and the filter's total. */
export function listLunDocuments(deps: CoreDeps, filter: LunFilter, page: PageRequest): Promise<LunDocuments> {
  return deps.repos.luns.listDocuments(filter, page);
}

/** The LUN row and create operation of `input` on `backend` (a bulk clone builds its LUNs here too). */
export function newLunOn(
  deps: CoreDeps,
  backend: BackendRef,
  input: CreateLunBody & { size_gb: number },
  source: { lunId: string; generation: number; snapshotId: string | null } | null = null,
): { lun: NewLun; op: NewOperation } {
  // A request that does not say gets the backend's default (config.chap_enabled, off unless set).
  const chap = input.chap_enabled ?? backend.config.chap_enabled ?? false;
  if (input.mutual_chap_enabled && !chap) throw new ValidationError('mutual CHAP requires CHAP', [{ field: 'mutual_chap_enabled', message: 'requires chap_enabled' }]);
  const id = randomUUID();
  const lun: NewLun = {
    id,
    name: input.name,
    sizeGb: input.size_gb,
    backendId: backend.id,
    iqn: targetIqn(backend.config.iqn_prefix, input.name),
    purpose: input.purpose,
    template: input.template,
    sourceLunId: source?.lunId ?? null,
    sourceSnapshotId: source?.snapshotId ?? null,
    // A snapshot never changes, so only a clone of the LUN itself waits for its source to hold still.
    ...(source && source.snapshotId === null ? { sourceGeneration: source.generation } : {}),
    ...chapCredentials(deps, id, chap, input.mutual_chap_enabled),
  };
  return { lun, op: newOperation(deps, 'create', backend.id) };
}

/**
 * Creates the LUN on the backend the request names (PureBoot always names one: the hot
 * path, with no placement and no lock), or, when it names none, where placement puts it.
 */
export async function createLun(deps: CoreDeps, input: CreateLunBody): Promise<LunChangeResult> {
  if (input.source) return 'snapshot_id' in input.source ? createSnapshotClone(deps, input, input.source.snapshot_id) : createClone(deps, input, input.source.lun_id);
  if (input.size_gb === undefined) throw new ValidationError('size_gb is required', [{ field: 'size_gb', message: 'is required (unless the LUN is a clone: source)' }]);
  const sized = { ...input, size_gb: input.size_gb };
  if (sized.backend_id === undefined) return createPlacedLun(deps, sized);
  const backend = await deps.repos.backends.getRef(sized.backend_id);
  if (!backend) throw new ValidationError(`storage backend ${sized.backend_id} does not exist`, [{ field: 'backend_id', message: 'unknown storage backend' }]);

  const made = newLunOn(deps, backend, sized);
  const { lun, operation } = await deps.repos.luns.createWithOperation(made.lun, made.op);
  // A new LUN is on the backend just read and assigned to no node: its view needs no read back.
  return dispatch(deps, { ...lun, backendName: backend.name, assignedNodeName: null }, operation);
}

/**
 * A clone: a new LUN on its source's backend whose backing store the worker fills with a
 * copy of the source's (a reflink where the filesystem can, else a sparse copy) before the
 * target is made. The source must be ready with no import in flight, and, unless it is a
 * template (never assigned, so never written), not assigned: a copy of a disk in use is not
 * consistent. Placement does not apply: the data is on that backend.
 */
async function createClone(deps: CoreDeps, input: CreateLunBody, sourceId: string): Promise<LunChangeResult> {
  const source = await deps.repos.luns.get(sourceId);
  if (!source) throw new ValidationError(`LUN ${sourceId} does not exist`, [{ field: 'source.lun_id', message: 'unknown LUN' }]);
  lunRules.canClone(source, await deps.repos.operations.listInFlight(source.id));
  return insertClone(deps, input, source, { sizeGb: source.sizeGb, snapshotId: null, field: 'source.lun_id' });
}

/**
 * A clone of a snapshot: the same as a clone of a LUN, with the snapshot's data. The
 * snapshot never changes, so its LUN may be assigned and in use meanwhile; only the
 * snapshot must be complete. Its size is the LUN's when the snapshot was taken.
 */
async function createSnapshotClone(deps: CoreDeps, input: CreateLunBody, snapshotId: string): Promise<LunChangeResult> {
  const snapshot = await deps.repos.snapshots.get(snapshotId);
  const source = snapshot ? await deps.repos.luns.get(snapshot.lunId) : null;
  if (!snapshot || !source) throw new ValidationError(`snapshot ${snapshotId} does not exist`, [{ field: 'source.snapshot_id', message: 'unknown snapshot' }]);
  snapshotRules.canCloneSnapshot(snapshot, source);
  return insertClone(deps, input, source, { sizeGb: snapshot.sizeGb, snapshotId: snapshot.id, field: 'source.snapshot_id' });
}

async function insertClone(
  deps: CoreDeps,
  input: CreateLunBody,
  source: LunView,
  from: { sizeGb: number; snapshotId: string | null; field: string },
): Promise<LunChangeResult> {
  if (input.backend_id !== undefined && input.backend_id !== source.backendId) {
    throw new ValidationError(`a clone lives on its source's storage backend (${source.backendName}, ${source.backendId})`, [
      { field: 'backend_id', message: `must be the source LUN's backend ${source.backendId}, or left out` },
    ]);
  }
  const sizeGb = input.size_gb ?? from.sizeGb;
  if (sizeGb < from.sizeGb) {
    throw new ValidationError(`a clone cannot be smaller than its source (${from.sizeGb} GB)`, [{ field: 'size_gb', message: `must be at least the source's ${from.sizeGb}` }]);
  }
  const backend = await deps.repos.backends.getRef(source.backendId);
  if (!backend) throw new NotFoundError('storage backend', source.backendId);
  assertBackendCanClone(backend, from.field);
  const made = newLunOn(deps, backend, { ...input, size_gb: sizeGb }, { lunId: source.id, generation: source.generation, snapshotId: from.snapshotId });
  const { lun, operation } = await deps.repos.luns.createWithOperation(made.lun, made.op);
  return dispatch(deps, { ...lun, backendName: backend.name, assignedNodeName: null }, operation);
}

/**
 * A create that names no backend: the repository hands over every backend under the
 * placement lock, placeLun chooses, and the LUN is inserted before the lock is released.
 * Nothing fits: NoCapacityError with every backend's numbers, and nothing is written.
 */
async function createPlacedLun(deps: CoreDeps, input: CreateLunBody & { size_gb: number }): Promise<LunChangeResult> {
  const { lun, operation, decision } = await deps.repos.luns.createPlaced((backends) => {
    const placement = placeLun(backends, input.size_gb, { now: new Date(), offlineAfterMs: deps.settings.backendOfflineAfterMs });
    if (!placement.chosen) throw new NoCapacityError(describeNoRoom(placement), [{ field: 'size_gb', message: 'fits on no storage backend' }]);
    const backend = placement.chosen.backend;
    return { ...newLunOn(deps, backend, input), decision: { backendName: backend.name, text: describePlacement(placement) } };
  });
  const result = await dispatch(deps, { ...lun, backendName: decision.backendName, assignedNodeName: null }, operation);
  return { ...result, placement: decision.text };
}

export async function updateLun(deps: CoreDeps, id: string, input: UpdateLunBody): Promise<LunChangeResult> {
  const lun = await loadLun(deps, id);
  if (input.backend_id && input.backend_id !== lun.backendId) {
    throw new ConflictError('a LUN cannot move to another storage backend; create a new LUN there and copy the data', [
      { field: 'backend_id', message: 'cannot be changed' },
    ]);
  }
  const patch: LunPatch = {};
  let params: NewOperation['params'] = {};
  if (input.purpose !== undefined && input.purpose !== lun.purpose) patch.purpose = input.purpose;
  if (input.template !== undefined && input.template !== lun.template) {
    if (input.template) lunRules.canMakeTemplate(lun);
    patch.template = input.template;
  }
  if (input.size_gb !== undefined && input.size_gb !== lun.sizeGb) {
    if (input.size_gb < lun.sizeGb) {
      throw new ConflictError(`size_gb cannot shrink (from ${lun.sizeGb} to ${input.size_gb}): data would be lost`, [{ field: 'size_gb', message: 'cannot shrink' }]);
    }
    patch.sizeGb = input.size_gb;
  }
  if (input.name !== undefined && input.name !== lun.name) {
    const backend = await deps.repos.backends.getRef(lun.backendId);
    patch.name = input.name;
    patch.iqn = targetIqn(backend!.config.iqn_prefix, input.name);
    params = { staleIqns: [lun.iqn] };
  }
  const wantChap = input.chap_enabled ?? lun.chapEnabled;
  const wantMutual = wantChap && (input.mutual_chap_enabled ?? lun.mutualChapEnabled);
  if (wantChap !== lun.chapEnabled || wantMutual !== lun.mutualChapEnabled) {
    Object.assign(patch, chapCredentials(deps, lun.id, wantChap, wantMutual));
  }

  const touchesTarget = patch.iqn !== undefined || patch.sizeGb !== undefined || patch.chapEnabled !== undefined;
  if (Object.keys(patch).length === 0) return { lun, operation: null, dispatch: 'none' };
  if (touchesTarget) lunRules.canChangeTarget(lun);
  const kind: OperationKind = patch.sizeGb !== undefined && patch.iqn === undefined && patch.chapEnabled === undefined ? 'resize' : 'update';
  const changed = await deps.repos.luns.change(lun.id, lun.generation, patch, touchesTarget ? newOperation(deps, kind, lun.backendId, params) : null);
  return dispatch(deps, changed.lun, changed.operation);
}

/**
 * File clones are independent copies from the moment they are made, so a LUN with clones
 * may be deleted, except while a clone is still being copied from it, and except a
 * template: the image a fleet was cloned from is kept while any of its clones exists.
 * The LUN's snapshots go with it: the worker removes their data with the LUN's, and their
 * rows go with the LUN's row (a clone being copied from one of them holds the delete back,
 * like a clone of the LUN itself: its source_lun_id names this LUN).
 */
export async function deleteLun(deps: CoreDeps, id: string): Promise<LunChangeResult> {
  const lun = await loadLun(deps, id);
  lunRules.canDelete(lun);
  // The golden image of a fleet stays while the fleet stands: un-marking it is the explicit step to delete it anyway.
  const clones = lun.template ? await deps.repos.luns.countClones(lun.id) : 0;
  if (clones > 0) {
    throw new ConflictError(`LUN ${lun.name} is a template with ${clones} clone(s); delete them first, or PATCH it with template: false to delete it anyway (file clones keep their data)`, [
      { field: 'template', message: 'a template with clones cannot be deleted' },
    ]);
  }
  const changed = await deps.repos.luns.change(lun.id, lun.generation, { status: 'deleting', errorMessage: null }, newOperation(deps, 'delete', lun.backendId), { refuseWhileCloning: 'of-the-lun-or-its-snapshots' });
  return dispatch(deps, changed.lun, changed.operation);
}

export async function assignLun(deps: CoreDeps, id: string, nodeId: string): Promise<LunChangeResult> {
  const lun = await loadLun(deps, id);
  const node = await deps.repos.nodes.get(nodeId);
  if (!node) throw new NotFoundError('node', nodeId);
  lunRules.canAssign(lun);
  // An image or a snapshot being written: no initiator may see the LUN until that is over.
  const rewriting = (await deps.repos.operations.listInFlight(lun.id)).find((op) => op.kind === 'import' || op.kind === 'rollback');
  if (rewriting?.kind === 'import') throw new ConflictError(`LUN ${lun.name} is receiving an image (operation ${rewriting.id}); wait for the import to finish or cancel it`);
  if (rewriting) throw new ConflictError(`LUN ${lun.name} is being rolled back to a snapshot (operation ${rewriting.id}); wait for the rollback to finish`);
  const changed = await deps.repos.luns.change(lun.id, lun.generation, { assignedNodeId: node.id }, newOperation(deps, 'assign', lun.backendId));
  return dispatch(deps, changed.lun, changed.operation);
}

export async function unassignLun(deps: CoreDeps, id: string): Promise<LunChangeResult> {
  const lun = await loadLun(deps, id);
  lunRules.canUnassign(lun);
  const changed = await deps.repos.luns.change(lun.id, lun.generation, { assignedNodeId: null }, newOperation(deps, 'unassign', lun.backendId));
  return dispatch(deps, changed.lun, changed.operation);
}

/**
 * Writes a disk image from a URL into a ready, unassigned LUN (the worker streams it into
 * the backing store). The URL, credentials included, goes only into the operation's
 * parameters; the reply and the logs see it through redactUrl. The LUN stays ready
 * meanwhile; assign is refused until the import is over.
 */
export async function importLunImage(deps: CoreDeps, id: string, input: ImportLunBody): Promise<LunChangeResult & { source: string }> {
  const lun = await loadLun(deps, id);
  lunRules.canImport(lun, await deps.repos.operations.listInFlight(lun.id));
  const image = { url: input.url, format: input.format, sha256: input.sha256 ?? null };
  const changed = await deps.repos.luns.change(lun.id, lun.generation, { errorMessage: null }, newOperation(deps, 'import', lun.backendId, { image }), { refuseWhileCloning: 'of-the-lun' });
  return { ...(await dispatch(deps, changed.lun, changed.operation)), source: redactUrl(input.url) };
}

export interface RevealedCredentials {
  chap_username: string;
  chap_secret: string;
  target_chap_username: string | null;
  target_chap_secret: string | null;
}

/**
 * Admin-only: the plaintext CHAP credentials for configuring an initiator by hand. Each
 * attempt is audited once the outcome is known, so the audit log never claims a reveal
 * that did not happen, and a secret that would not open is recorded too.
 */
export async function revealLunCredentials(deps: CoreDeps, id: string, actor: string): Promise<RevealedCredentials> {
  const lun = await loadLun(deps, id);
  if (!lun.chapEnabled || !lun.chapSecret || !lun.chapUsername) throw new ConflictError(`LUN ${lun.name} has CHAP disabled`);
  const event = { lunId: lun.id, lunName: lun.name, actor };
  let revealed: RevealedCredentials;
  try {
    revealed = {
      chap_username: lun.chapUsername,
      chap_secret: openChapSecret(deps.secrets, lun, 'chap', lun.chapSecret),
      target_chap_username: lun.targetChapUsername,
      target_chap_secret: lun.targetChapSecret ? openChapSecret(deps.secrets, lun, 'target_chap', lun.targetChapSecret) : null,
    };
  } catch (err) {
    deps.audit.record('lun.credentials.revealed', { ...event, outcome: 'failed', reason: (err as Error).message });
    throw err;
  }
  deps.audit.record('lun.credentials.revealed', { ...event, outcome: 'revealed' });
  return revealed;
}
