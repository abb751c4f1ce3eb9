import { effectiveStatus } from './backend-rules';
import type { Backend } from './model';

const GIB = 1024 ** 3;

/** Why a backend cannot take a LUN at all, whatever its size. */
export type PlacementExclusion = 'offline' | 'in error' | 'not iscsi' | 'no capacity report';

/** How one backend was weighed for a LUN: the numbers behind the choice, or why it was left out. */
export interface PlacementCandidate {
  backend: Backend;
  /** Set when the backend was not weighed at all. */
  excluded: PlacementExclusion | null;
  /** What its worker last measured on the host; null without a report. */
  totalBytes: number | null;
  freeBytes: number | null;
  /** Sum of the sizes of its LUNs, whatever their status (a LUN being deleted holds its space until it is gone). */
  provisionedBytes: number;
  lunCount: number;
  overcommitRatio: number;
  /** min(total × ratio − provisioned, free × ratio); null when excluded. Negative when already overcommitted. */
  roomBytes: number | null;
  /** total × ratio − provisioned: what is not yet promised to a LUN, the ranking key; null when excluded. */
  unprovisionedBytes: number | null;
  fits: boolean;
}

export interface Placement {
  sizeBytes: number;
  /** Where the LUN goes; null when it fits nowhere. */
  chosen: PlacementCandidate | null;
  /** Every backend, by name. */
  candidates: PlacementCandidate[];
}

export interface PlacementContext {
  now: Date;
  /** A backend whose last heartbeat is older than this is offline (the same rule the backend replies show). */
  offlineAfterMs: number;
}

/** The backend's ratio; a stored value outside the schema's range (hand-edited) counts as none. */
function overcommitRatio(backend: Backend): number {
  const r = backend.config.overcommit_ratio;
  return typeof r === 'number' && Number.isFinite(r) && r >= 1 ? r : 1;
}

function weigh(backend: Backend, sizeBytes: number, context: PlacementContext): PlacementCandidate {
  const capacity = backend.stats.capacity;
  const base = {
    backend,
    totalBytes: capacity?.totalBytes ?? null,
    freeBytes: capacity?.freeBytes ?? null,
    provisionedBytes: backend.stats.provisionedBytes,
    lunCount: backend.stats.lunCount,
    overcommitRatio: overcommitRatio(backend),
  };
  const status = effectiveStatus(backend, context.offlineAfterMs, context.now);
  const excluded: PlacementExclusion | null =
    backend.type !== 'iscsi' ? 'not iscsi' : status === 'offline' ? 'offline' : status === 'error' ? 'in error' : !capacity ? 'no capacity report' : null;
  if (excluded || !capacity) return { ...base, excluded: excluded ?? 'no capacity report', roomBytes: null, unprovisionedBytes: null, fits: false };
  // The measured free space lags behind LUNs placed since the last report, and on sparse
  // storage it only shrinks as data is written: the provisioned sizes bound it too.
  const r = base.overcommitRatio;
  const unprovisionedBytes = Math.floor(capacity.totalBytes * r - base.provisionedBytes);
  const roomBytes = Math.min(unprovisionedBytes, Math.floor(capacity.freeBytes * r));
  return { ...base, excluded: null, roomBytes, unprovisionedBytes, fits: roomBytes >= sizeBytes };
}

/**
 * Most capacity not yet provisioned first, then fewer LUNs, then the name. Not "most room":
 * a sparse LUN does not shrink the measured free space, so where free space bounds the room
 * every create would go to the host whose last report happened to read a few bytes more.
 * What is provisioned moves with each placement, so the next one goes elsewhere (this is how
 * Cinder's capacity weigher ranks thin pools); free space still decides whether a LUN fits.
 */
function better(a: PlacementCandidate, b: PlacementCandidate): number {
  return b.unprovisionedBytes! - a.unprovisionedBytes! || a.lunCount - b.lunCount || (a.backend.name < b.backend.name ? -1 : a.backend.name > b.backend.name ? 1 : 0);
}

/**
 * Where a LUN of `sizeGb` goes when its request names no backend: among the online iSCSI
 * backends with a capacity report where it fits (room ≥ size, room = min(total × ratio −
 * provisioned, free × ratio), ratio the backend's overcommit_ratio, default 1), the one with
 * the most capacity not yet provisioned (total × ratio − provisioned; ties: fewer LUNs, then
 * name). A pure decision: the caller makes
 * it under a lock so that concurrent placements see each other's LUNs.
 */
export function placeLun(backends: readonly Backend[], sizeGb: number, context: PlacementContext): Placement {
  const sizeBytes = sizeGb * GIB;
  const candidates = [...backends].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)).map((b) => weigh(b, sizeBytes, context));
  const fitting = candidates.filter((c) => c.fits).sort(better);
  return { sizeBytes, chosen: fitting[0] ?? null, candidates };
}

/** Bytes as GiB for people: at most two decimals. */
export function formatGiB(bytes: number): string {
  return `${Math.round((bytes / GIB) * 100) / 100} GiB`;
}

function explain(c: PlacementCandidate): string {
  if (c.excluded === 'no capacity report') return `${c.backend.name}: no capacity report from its worker yet`;
  if (c.excluded) return `${c.backend.name}: ${c.excluded}`;
  return `${c.backend.name}: room ${formatGiB(c.roomBytes!)} (free ${formatGiB(c.freeBytes!)}, total ${formatGiB(c.totalBytes!)}, provisioned ${formatGiB(c.provisionedBytes)}, overcommit ratio ${c.overcommitRatio})`;
}

/** The sentence of a placement that found no room: the size asked for and every backend's numbers, or why it was left out. */
export function describeNoRoom(placement: Placement): string {
  const asked = `no storage backend has room for ${formatGiB(placement.sizeBytes)}`;
  if (placement.candidates.length === 0) return `${asked}: there are no storage backends; create one first`;
  return `${asked} (room = min(total × ratio − provisioned, free × ratio)); ${placement.candidates.map(explain).join('; ')}`;
}

/** The sentence of a successful placement: where, and what room is left there. */
export function describePlacement(placement: Placement): string {
  const c = placement.chosen;
  if (!c) return describeNoRoom(placement);
  return `placed on storage backend ${c.backend.name}, which has the most capacity not yet provisioned (${formatGiB(c.unprovisionedBytes! - placement.sizeBytes)} after this LUN; room ${formatGiB(c.roomBytes! - placement.sizeBytes)})`;
}
