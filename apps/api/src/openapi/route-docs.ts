import {
  apiKeyCreatedResponse,
  apiKeyResponse,
  assignLunBody,
  bulkCreateLunsBody,
  backendResponse,
  createApiKeyBody,
  createBackendBody,
  createLunBody,
  createNodeBody,
  createSnapshotBody,
  envelope,
  importLunBody,
  listEnvelope,
  listLunsQuery,
  listOperationsQuery,
  listSnapshotsQuery,
  lunBatchCreatedResponse,
  lunBatchResponse,
  lunChangeResponse,
  lunCredentialsResponse,
  lunResponse,
  nodeResponse,
  operationResponse,
  paginationQuery,
  reconcileQuery,
  rollbackLunBody,
  snapshotChangeResponse,
  snapshotResponse,
  updateBackendBody,
  updateLunBody,
  updateNodeBody,
} from '@bootlun/contracts';
import { z } from 'zod';

export type Role = 'public' | 'viewer' | 'operator' | 'admin';

/** One documented route: the same zod schemas the route validates with and answers in. */
export interface RouteDoc {
  method: 'get' | 'post' | 'patch' | 'delete';
  /** Express-style path under /api/v1 (":id" parameters). */
  path: string;
  summary: string;
  /** More than the summary can say (a rule the route applies); shown above the role note. */
  description?: string;
  tag: string;
  role: Role;
  body?: z.ZodType;
  query?: z.ZodType;
  /** Success status and the full response body schema. */
  success: [status: number, schema: z.ZodType];
  /** Other statuses this route answers with the error envelope. */
  errors: number[];
  /** Non-JSON success bodies (the iPXE script). */
  contentType?: string;
}

const one = envelope;
const many = listEnvelope;
const RW = [400, 401, 403, 404, 409, 503];

const CLONES = [
  'With `source: {lun_id}` the LUN is a clone: a writable copy of that LUN, on its backend (placement is skipped; a `backend_id`/`target_id` naming another backend is 400).',
  '`size_gb` defaults to the source\'s size and may be larger, never smaller (400). The source must be ready (409 otherwise), not receiving an image (409), and not assigned to a node unless it is a template (409: a copy of a disk in use is not consistent).',
  'The worker copies the source\'s backing file before the target is made: a reflink where the filesystem supports it (XFS, btrfs), otherwise a sparse full copy; the backend\'s `capabilities.clone` says which.',
  'A file clone is independent at once: writes to it never show in its source or in sibling clones, and the source may be deleted while clones exist (only a clone still being copied holds a delete back, 409), except a template: it is kept while any clone of it exists (409; PATCH `template: false` to delete it anyway).',
  'With `source: {snapshot_id}` the clone holds that snapshot\'s data (the snapshot must be ready, 409 otherwise; an unknown one is 400); its size defaults to the snapshot\'s, its `source_snapshot_id` names the snapshot and `source_lun_id` the snapshot\'s LUN, which may be assigned and in use meanwhile.',
  'Block (LVM) backends with a `thin_pool` clone by thin snapshot (instant, copy-on-write); thick block backends cannot clone (409). The clone\'s `source_lun_id` names its source.',
].join(' ');

const PLACEMENT = [
  'With `backend_id` (or `target_id`) the LUN goes on that backend, as PureBoot sends it.',
  'With neither, the API places it: among backends that are online (a heartbeat within BACKEND_OFFLINE_AFTER_MS), of type iscsi, and have a capacity report from their worker,',
  'each has room = min(total × r − provisioned, free × r), where total and free are the last report, provisioned is the sum of the sizes of all its LUNs (any status; a LUN being deleted still holds its space)',
  'and r is its `config.overcommit_ratio` (default 1). Among the backends where it fits (room ≥ size), the LUN goes to the one with the most capacity not yet provisioned (total × r − provisioned),',
  'which every placement lowers, so creates spread (measured free space does not shrink as sparse LUNs are created); ties go to the backend with fewer LUNs, then by name.',
  'Placements are serialized, so concurrent ones never share the same room. The reply is the usual LUN, on the chosen backend, and the message says where it went.',
  'When it fits nowhere (or there are no backends) the answer is 409 `no_capacity`, whose detail gives the size asked for and, per backend, room, free, total, provisioned and ratio, or why it was left out (offline, in error, no capacity report).',
].join(' ');

const IMPORT = [
  'The worker on the LUN\'s storage host streams the image into the backing file or volume (never held in memory), hashing it as it goes.',
  'raw images are written from byte 0; on a file backing the rest of the LUN reads as zeros afterwards, on a block (LVM) backing the tail keeps its previous content.',
  'qcow2 images are downloaded to a temporary file beside the backing files (0600, removed afterwards) and converted with `qemu-img convert`; the storage host needs qemu-img (Debian: qemu-utils), images with a backing file are refused.',
  'An image larger than the LUN (Content-Length, bytes received, or the qcow2 virtual size) fails without retry naming both sizes, as does an HTTP 4xx, a `sha256` that differs, or a missing qemu-img; connection errors and HTTP 5xx are retried, each attempt rewriting from byte 0.',
  'The LUN stays `ready` throughout; assign is refused (409) until the import is over; a failed or cancelled import leaves the LUN ready with an `error_message` saying whether its content was touched.',
  'The operation (`POST /operations/{id}/cancel` cancels it) shows progress; its `result` has the sizes and the SHA-256 received.',
  'The URL may carry `user:password@` or a signed query string: they are kept for the worker only; replies, progress, errors and logs show the URL without them.',
  '409 when the LUN is assigned, not ready, or has an operation in flight.',
].join(' ');

const BULK = [
  'One clone of a template per node: each LUN is a clone of `source.lun_id` (which must be a ready template: 409 otherwise) on the template\'s backend, named from `name_pattern`, assigned to its node and, unless `chap_enabled: false`, with CHAP credentials of its own; one create operation each.',
  '`name_pattern` takes `{hostname}`, `{node_id}` and `{index}` (1-based position in `node_ids`) and needs at least one of them.',
  'The whole request is 400 naming the field, with nothing created, when it is malformed: more than 500 nodes, a node id repeated or unknown, a pattern without placeholders, a name that comes out invalid or twice, or a node without a hostname under `{hostname}`.',
  'Otherwise each item stands alone, in request order: one is refused with the code a single create would answer while the rest go ahead: `conflict` when the node already boots from a LUN (purpose boot_from_san) or the name is taken, `no_capacity` when the backend has no room left for it by the placement rule (room = min(total × r − provisioned, free × r), each earlier clone of the batch counted as provisioned).',
  'Every item and every accepted LUN with its operation are committed together before anything is enqueued; operations the queue misses are enqueued by the outbox sweeper.',
  'Poll `GET /storage/luns/bulk/{id}` for progress. With an `Idempotency-Key` header (≤ 200 printable ASCII characters) a retried request returns the batch the first one made (header `Idempotent-Replayed: true`, items without `lun`) and creates nothing; the same key with a different body is 409. Without the key a retry is a new batch whose items meet the first one\'s LUNs (conflict: name taken, node already boots from a LUN).',
].join(' ');

const SNAPSHOTS = [
  'A snapshot is a point-in-time copy of the LUN\'s data on its storage host, kept until it is deleted; the LUN keeps serving meanwhile.',
  'On file backends the worker makes a reflink copy of the backing file where the filesystem supports it (XFS, btrfs: instant, and one instant of the disk even while a node writes), otherwise a sparse full copy (time grows with the data; a copy of a disk being written is not one instant of it, so snapshot an assigned LUN on such a backend with its node shut down).',
  'The backend\'s `capabilities.snapshot` says which. Snapshot data lives under `<backingstore_path>/.snapshots/<lun id>/`, apart from the LUN backing files, so reconcile and the orphan sweep never take it for one.',
  'On LVM backends with a `thin_pool` a snapshot is a thin snapshot LV of the LUN\'s LV in the pool (`bootlun-snap-<lun id>-<snapshot id>`: instant, one instant of the disk even while a node writes); reconcile and the orphan sweep never take it for a LUN. Thick LVM backends answer 409 `not_supported`: snapshots need a thin pool.',
  'The reply is the snapshot (status creating) and its `operation_id`; the snapshot turns ready (with `method`) or error (with `error_message`) when the worker is done.',
  '`name` defaults to snap-<UTC time>; a name the LUN\'s snapshots already use is 409 naming `name`. 409 while the LUN is not ready or active, or while an import or rollback is rewriting it.',
  'Deleting the LUN deletes its snapshots with it (data first, then the rows).',
].join(' ');

const SNAPSHOT_DELETE = [
  'The worker removes the snapshot\'s data, then the snapshot (202 with the snapshot, status deleting, and its operation).',
  'LUNs cloned from the snapshot do not hold it back: on file backends a clone is an independent copy from the moment its create finished (its `source_snapshot_id` then names a snapshot that is gone).',
  '409 while a clone is still being copied from it, while a rollback to it is in flight, or while it is still being created or deleted.',
].join(' ');

const ROLLBACK = [
  'Rewrites the LUN\'s data with the snapshot\'s, in place: the very backing file the target has open is rewritten (a reflink over it, or emptied and refilled with the snapshot\'s non-zero blocks), so initiators that log in afterwards read the snapshot\'s data. The LUN keeps its size (past the snapshot\'s size it reads zeros), its status, target, ACL and CHAP.',
  'On a thin pool the worker stages a writable thin snapshot of the snapshot while the LUN serves, then removes the LUN\'s target and backstore for a moment, puts the staged volume in place of the LUN\'s and exports it again (same IQN, ACL and CHAP); a retried rollback resumes where the last attempt stopped.',
  'While the LUN is assigned to a node the answer is 409 `lun_in_use` unless `force: true`. The worker checks again before writing: unless forced, a LUN assigned since the request, or an initiator logged in to the target (a live session the target daemon reports: tgt\'s I_T nexus, LIO\'s session on the initiator\'s ACL), fails the operation and nothing is changed.',
  'With force the disk changes under a running node, whose own caches then disagree with it: use it with the node powered off or about to reboot.',
  '400 naming `snapshot_id` when it is not one of this LUN\'s snapshots; 409 while the snapshot is not ready or the LUN has an operation in flight. Assign is refused (409) until the rollback is over.',
  'A rollback that fails after it began writing says so in the LUN\'s `error_message`; roll back again to finish it.',
].join(' ');

export const ROUTE_DOCS: RouteDoc[] = [
  { method: 'get', path: '/storage/backends', summary: 'List storage backends', tag: 'storage backends', role: 'viewer', query: paginationQuery, success: [200, many(backendResponse)], errors: [400, 401, 503] },
  { method: 'get', path: '/storage/backends/:id', summary: 'Get a storage backend', tag: 'storage backends', role: 'viewer', success: [200, one(backendResponse)], errors: [400, 401, 404, 503] },
  { method: 'post', path: '/storage/backends', summary: 'Create a storage backend', tag: 'storage backends', role: 'admin', body: createBackendBody, success: [201, one(backendResponse)], errors: RW },
  { method: 'patch', path: '/storage/backends/:id', summary: 'Update a storage backend', tag: 'storage backends', role: 'admin', body: updateBackendBody, success: [200, one(backendResponse)], errors: RW },
  { method: 'delete', path: '/storage/backends/:id', summary: 'Delete a storage backend without LUNs', tag: 'storage backends', role: 'admin', success: [200, one(backendResponse)], errors: RW },
  { method: 'post', path: '/storage/backends/:id/reconcile', summary: 'Compare database and live targets now; repair drift (dry_run=true: report only)', tag: 'storage backends', role: 'operator', query: reconcileQuery, success: [202, one(operationResponse)], errors: RW },

  { method: 'get', path: '/storage/luns', summary: 'List LUNs', tag: 'LUNs', role: 'viewer', query: listLunsQuery, success: [200, many(lunResponse)], errors: [400, 401, 503] },
  { method: 'post', path: '/storage/luns/bulk', summary: 'Clone a template once per node, each clone assigned to its node with its own CHAP (202; items refused one by one)', description: BULK, tag: 'LUNs', role: 'operator', body: bulkCreateLunsBody, success: [202, one(lunBatchCreatedResponse)], errors: RW },
  { method: 'get', path: '/storage/luns/bulk/:id', summary: 'A bulk create\'s progress: totals by status (pending, running, ready, failed) and each item\'s LUN, operation, status and error', tag: 'LUNs', role: 'viewer', success: [200, one(lunBatchResponse)], errors: [400, 401, 404, 503] },
  { method: 'get', path: '/storage/luns/:id', summary: 'Get a LUN', tag: 'LUNs', role: 'viewer', success: [200, one(lunResponse)], errors: [400, 401, 404, 503] },
  { method: 'get', path: '/storage/luns/:id/credentials', summary: 'Reveal CHAP credentials (audited)', tag: 'LUNs', role: 'admin', success: [200, one(lunCredentialsResponse)], errors: RW },
  { method: 'post', path: '/storage/luns', summary: 'Create a LUN (202, status creating); without a backend the API places it; with a source it is a clone', description: `${PLACEMENT}\n\n${CLONES}`, tag: 'LUNs', role: 'operator', body: createLunBody, success: [202, one(lunChangeResponse)], errors: RW },
  { method: 'patch', path: '/storage/luns/:id', summary: 'Rename, grow, toggle CHAP, change purpose, mark or unmark as template (template: true is 409 while assigned)', tag: 'LUNs', role: 'operator', body: updateLunBody, success: [202, one(lunChangeResponse)], errors: RW },
  { method: 'delete', path: '/storage/luns/:id', summary: 'Delete a LUN (202, status deleting) and its snapshots with it; allowed while it has clones (file clones are independent) unless it is a template (409: un-mark it first), 409 while a clone is still being copied from it or from one of its snapshots', tag: 'LUNs', role: 'operator', success: [202, one(lunChangeResponse)], errors: RW },
  { method: 'post', path: '/storage/luns/:id/assign', summary: 'Assign a ready LUN to a node (409 for a template, or while an image is being imported)', tag: 'LUNs', role: 'operator', body: assignLunBody, success: [202, one(lunChangeResponse)], errors: RW },
  { method: 'post', path: '/storage/luns/:id/unassign', summary: 'Unassign a LUN', tag: 'LUNs', role: 'operator', success: [202, one(lunChangeResponse)], errors: RW },
  { method: 'get', path: '/storage/luns/:id/snapshots', summary: 'List a LUN\'s snapshots, oldest first', tag: 'snapshots', role: 'viewer', query: listSnapshotsQuery, success: [200, many(snapshotResponse)], errors: [400, 401, 404, 503] },
  { method: 'get', path: '/storage/luns/:id/snapshots/:snapshotId', summary: 'Get a snapshot of a LUN', tag: 'snapshots', role: 'viewer', success: [200, one(snapshotResponse)], errors: [400, 401, 404, 503] },
  { method: 'post', path: '/storage/luns/:id/snapshots', summary: 'Take a snapshot of a LUN (202; the operation copies the data)', description: SNAPSHOTS, tag: 'snapshots', role: 'operator', body: createSnapshotBody, success: [202, one(snapshotChangeResponse)], errors: RW },
  { method: 'delete', path: '/storage/luns/:id/snapshots/:snapshotId', summary: 'Delete a snapshot (202); clones made from it are independent and stay', description: SNAPSHOT_DELETE, tag: 'snapshots', role: 'operator', success: [202, one(snapshotChangeResponse)], errors: RW },
  { method: 'post', path: '/storage/luns/:id/rollback', summary: 'Roll a LUN back to one of its snapshots (202; 409 lun_in_use while assigned, unless force)', description: ROLLBACK, tag: 'snapshots', role: 'operator', body: rollbackLunBody, success: [202, one(lunChangeResponse)], errors: RW },
  {
    method: 'post',
    path: '/storage/luns/:id/import',
    summary: 'Write a disk image from an http(s) URL into a ready, unassigned LUN (202; the operation shows progress)',
    description: IMPORT,
    tag: 'LUNs',
    role: 'operator',
    body: importLunBody,
    success: [202, one(lunChangeResponse)],
    errors: RW,
  },

  { method: 'get', path: '/nodes', summary: 'List nodes', tag: 'nodes', role: 'viewer', query: paginationQuery, success: [200, many(nodeResponse)], errors: [400, 401, 503] },
  { method: 'get', path: '/nodes/:id', summary: 'Get a node', tag: 'nodes', role: 'viewer', success: [200, one(nodeResponse)], errors: [400, 401, 404, 503] },
  { method: 'post', path: '/nodes', summary: 'Register a node', tag: 'nodes', role: 'operator', body: createNodeBody, success: [201, one(nodeResponse)], errors: RW },
  { method: 'patch', path: '/nodes/:id', summary: 'Update a node', tag: 'nodes', role: 'operator', body: updateNodeBody, success: [200, one(nodeResponse)], errors: RW },
  { method: 'delete', path: '/nodes/:id', summary: 'Delete a node without assigned LUNs', tag: 'nodes', role: 'operator', success: [200, one(nodeResponse)], errors: RW },

  { method: 'get', path: '/operations', summary: 'List operations', tag: 'operations', role: 'viewer', query: listOperationsQuery, success: [200, many(operationResponse)], errors: [400, 401, 503] },
  { method: 'get', path: '/operations/failed', summary: 'Dead-letter view: failed operations', tag: 'operations', role: 'viewer', query: listOperationsQuery.omit({ status: true }), success: [200, many(operationResponse)], errors: [400, 401, 503] },
  { method: 'get', path: '/operations/:id', summary: 'Get an operation (progress, attempts, error)', tag: 'operations', role: 'viewer', success: [200, one(operationResponse)], errors: [400, 401, 404, 503] },
  { method: 'post', path: '/operations/:id/cancel', summary: 'Cancel a queued or running create, reconcile or image import', tag: 'operations', role: 'operator', success: [200, one(operationResponse)], errors: RW },
  { method: 'post', path: '/operations/:id/retry', summary: 'Retry a failed operation', tag: 'operations', role: 'operator', success: [202, one(operationResponse)], errors: RW },

  // An unknown MAC is answered 200 with the same fall-through script as a node with nothing to boot, so neither route says 404 for it.
  { method: 'get', path: '/boot/ipxe', summary: "The node's iPXE boot script (by ?mac=); unknown MACs fall through like nodes without a LUN", tag: 'boot', role: 'public', query: z.object({ mac: z.string().describe('MAC in any common spelling') }), success: [200, z.string()], errors: [400, 403, 429], contentType: 'text/plain' },
  { method: 'get', path: '/boot/:file', summary: "The node's iPXE boot script as /boot/<mac>.ipxe (for chaining); 404 for names not ending in .ipxe", tag: 'boot', role: 'public', success: [200, z.string()], errors: [400, 403, 404, 429], contentType: 'text/plain' },

  { method: 'get', path: '/api-keys', summary: 'List API keys', tag: 'API keys', role: 'admin', query: paginationQuery, success: [200, many(apiKeyResponse)], errors: [400, 401, 403, 503] },
  { method: 'post', path: '/api-keys', summary: 'Create an API key (token shown once)', tag: 'API keys', role: 'admin', body: createApiKeyBody, success: [201, one(apiKeyCreatedResponse)], errors: RW },
  { method: 'delete', path: '/api-keys/:id', summary: 'Revoke an API key', tag: 'API keys', role: 'admin', success: [200, one(apiKeyResponse)], errors: RW },
];
