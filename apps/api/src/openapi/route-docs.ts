import {
  apiKeyCreatedResponse,
  apiKeyResponse,
  assignLunBody,
  backendResponse,
  createApiKeyBody,
  createBackendBody,
  createLunBody,
  createNodeBody,
  envelope,
  importLunBody,
  listEnvelope,
  listLunsQuery,
  listOperationsQuery,
  lunChangeResponse,
  lunCredentialsResponse,
  lunResponse,
  nodeResponse,
  operationResponse,
  paginationQuery,
  reconcileQuery,
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
  'A file clone is independent at once: writes to it never show in its source or in sibling clones, and the source may be deleted while clones exist (only a clone still being copied holds a delete back, 409).',
  'Block (LVM) backends cannot clone yet (409); `source.snapshot_id` is refused (400): snapshots are not available yet. The clone\'s `source_lun_id` names its source.',
].join(' ');

const PLACEMENT = [
  'With `backend_id` (or `target_id`) the LUN goes on that backend, as PureBoot sends it.',
  'With neither, the API places it: among backends that are online (a heartbeat within BACKEND_OFFLINE_AFTER_MS), of type iscsi, and have a capacity report from their worker,',
  'each has room = min(total × r − provisioned, free × r), where total and free are the last report, provisioned is the sum of the sizes of all its LUNs (any status; a LUN being deleted still holds its space)',
  'and r is its `config.overcommit_ratio` (default 1). The LUN goes where it fits (room ≥ size) with the most room left after it; ties go to the backend with fewer LUNs, then by name.',
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

export const ROUTE_DOCS: RouteDoc[] = [
  { method: 'get', path: '/storage/backends', summary: 'List storage backends', tag: 'storage backends', role: 'viewer', query: paginationQuery, success: [200, many(backendResponse)], errors: [400, 401, 503] },
  { method: 'get', path: '/storage/backends/:id', summary: 'Get a storage backend', tag: 'storage backends', role: 'viewer', success: [200, one(backendResponse)], errors: [400, 401, 404, 503] },
  { method: 'post', path: '/storage/backends', summary: 'Create a storage backend', tag: 'storage backends', role: 'admin', body: createBackendBody, success: [201, one(backendResponse)], errors: RW },
  { method: 'patch', path: '/storage/backends/:id', summary: 'Update a storage backend', tag: 'storage backends', role: 'admin', body: updateBackendBody, success: [200, one(backendResponse)], errors: RW },
  { method: 'delete', path: '/storage/backends/:id', summary: 'Delete a storage backend without LUNs', tag: 'storage backends', role: 'admin', success: [200, one(backendResponse)], errors: RW },
  { method: 'post', path: '/storage/backends/:id/reconcile', summary: 'Compare database and live targets now; repair drift (dry_run=true: report only)', tag: 'storage backends', role: 'operator', query: reconcileQuery, success: [202, one(operationResponse)], errors: RW },

  { method: 'get', path: '/storage/luns', summary: 'List LUNs', tag: 'LUNs', role: 'viewer', query: listLunsQuery, success: [200, many(lunResponse)], errors: [400, 401, 503] },
  { method: 'get', path: '/storage/luns/:id', summary: 'Get a LUN', tag: 'LUNs', role: 'viewer', success: [200, one(lunResponse)], errors: [400, 401, 404, 503] },
  { method: 'get', path: '/storage/luns/:id/credentials', summary: 'Reveal CHAP credentials (audited)', tag: 'LUNs', role: 'admin', success: [200, one(lunCredentialsResponse)], errors: RW },
  { method: 'post', path: '/storage/luns', summary: 'Create a LUN (202, status creating); without a backend the API places it; with a source it is a clone', description: `${PLACEMENT}\n\n${CLONES}`, tag: 'LUNs', role: 'operator', body: createLunBody, success: [202, one(lunChangeResponse)], errors: RW },
  { method: 'patch', path: '/storage/luns/:id', summary: 'Rename, grow, toggle CHAP, change purpose, mark or unmark as template (template: true is 409 while assigned)', tag: 'LUNs', role: 'operator', body: updateLunBody, success: [202, one(lunChangeResponse)], errors: RW },
  { method: 'delete', path: '/storage/luns/:id', summary: 'Delete a LUN (202, status deleting); allowed while it has clones (file clones are independent), 409 while a clone is still being copied from it', tag: 'LUNs', role: 'operator', success: [202, one(lunChangeResponse)], errors: RW },
  { method: 'post', path: '/storage/luns/:id/assign', summary: 'Assign a ready LUN to a node (409 for a template, or while an image is being imported)', tag: 'LUNs', role: 'operator', body: assignLunBody, success: [202, one(lunChangeResponse)], errors: RW },
  { method: 'post', path: '/storage/luns/:id/unassign', summary: 'Unassign a LUN', tag: 'LUNs', role: 'operator', success: [202, one(lunChangeResponse)], errors: RW },
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
