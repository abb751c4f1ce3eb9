import type { LunFilter, LunPurpose, LunStatus, LunView, Page, PageRequest } from '@bootlun/core';
import { Prisma, type PrismaClient } from '../generated/client';

/**
 * The hot read of the API: LUNs with their backend's and assigned node's names, and for a
 * page also the total, in one statement. Prisma's `include` costs a query per relation
 * and a count a further one; this costs one round trip, served by the (…, created_at, id)
 * indexes for every filter (see test/integration/list-indexes.test.ts).
 *
 * Raw SQL has no types of its own, so the row type is tied to the select list: COLUMNS
 * must name exactly the fields of LunViewRow (the compiler checks both directions), and
 * test/integration/lun-view-query.test.ts checks the result against Prisma's typed reads.
 */
export interface LunViewRow {
  id: string;
  name: string;
  sizeGb: number;
  backendId: string;
  backendName: string;
  iqn: string;
  lunNumber: number | null;
  purpose: LunPurpose;
  template: boolean;
  sourceLunId: string | null;
  sourceSnapshotId: string | null;
  status: LunStatus;
  errorMessage: string | null;
  assignedNodeId: string | null;
  assignedNodeName: string | null;
  chapEnabled: boolean;
  chapUsername: string | null;
  chapSecretSealed: string | null;
  chapSecretKeyId: string | null;
  mutualChapEnabled: boolean;
  targetChapUsername: string | null;
  targetChapSealed: string | null;
  targetChapKeyId: string | null;
  generation: number;
  drift: string | null;
  createdAt: Date;
  updatedAt: Date;
}

const COLUMNS: { [K in keyof LunViewRow]: string } = {
  id: 'l.id',
  name: 'l.name',
  sizeGb: 'l.size_gb',
  backendId: 'l.backend_id',
  backendName: 'b.name',
  iqn: 'l.iqn',
  lunNumber: 'l.lun_number',
  purpose: 'l.purpose::text',
  template: 'l.template',
  sourceLunId: 'l.source_lun_id',
  sourceSnapshotId: 'l.source_snapshot_id',
  status: 'l.status::text',
  errorMessage: 'l.error_message',
  assignedNodeId: 'l.assigned_node_id',
  // As the UI shows a node: its hostname, else its MAC.
  assignedNodeName: 'COALESCE(n.hostname, n.mac_address)',
  chapEnabled: 'l.chap_enabled',
  chapUsername: 'l.chap_username',
  chapSecretSealed: 'l.chap_secret_sealed',
  chapSecretKeyId: 'l.chap_secret_key_id',
  mutualChapEnabled: 'l.mutual_chap_enabled',
  targetChapUsername: 'l.target_chap_username',
  targetChapSealed: 'l.target_chap_secret_sealed',
  targetChapKeyId: 'l.target_chap_secret_key_id',
  generation: 'l.generation',
  drift: 'l.drift',
  createdAt: 'l.created_at',
  updatedAt: 'l.updated_at',
};

const SELECT_LIST = Object.entries(COLUMNS)
  .map(([field, expr]) => `${expr} AS "${field}"`)
  .join(', ');
const FROM = 'FROM iscsi_luns l JOIN storage_backends b ON b.id = l.backend_id LEFT JOIN nodes n ON n.id = l.assigned_node_id';
const SELECT = Prisma.raw(`SELECT ${SELECT_LIST} ${FROM}`);

/** The list order; every filter has an index ending in these columns. */
const ORDER = Prisma.raw('ORDER BY l.created_at, l.id');

/** Row → domain object, field by field (no spreads: this runs for every row of every page). */
export function toLunViewFromRow(r: LunViewRow): LunView {
  return {
    id: r.id,
    name: r.name,
    sizeGb: r.sizeGb,
    backendId: r.backendId,
    iqn: r.iqn,
    lunNumber: r.lunNumber,
    purpose: r.purpose,
    template: r.template,
    sourceLunId: r.sourceLunId,
    sourceSnapshotId: r.sourceSnapshotId,
    status: r.status,
    errorMessage: r.errorMessage,
    assignedNodeId: r.assignedNodeId,
    chapEnabled: r.chapEnabled,
    chapUsername: r.chapUsername,
    chapSecret: r.chapSecretSealed && r.chapSecretKeyId ? { sealed: r.chapSecretSealed, keyId: r.chapSecretKeyId } : null,
    mutualChapEnabled: r.mutualChapEnabled,
    targetChapUsername: r.targetChapUsername,
    targetChapSecret: r.targetChapSealed && r.targetChapKeyId ? { sealed: r.targetChapSealed, keyId: r.targetChapKeyId } : null,
    generation: r.generation,
    drift: r.drift,
    createdAt: r.createdAt,
    updatedAt: r.updatedAt,
    backendName: r.backendName,
    assignedNodeName: r.assignedNodeName,
  };
}

/** `WHERE …` for a filter, on the table aliased `l` (the same text serves the page and its count). */
export function lunFilterSql(filter: LunFilter): Prisma.Sql {
  const conditions: Prisma.Sql[] = [];
  if (filter.backendId !== undefined) conditions.push(Prisma.sql`l.backend_id = ${filter.backendId}::uuid`);
  if (filter.status !== undefined) conditions.push(Prisma.sql`l.status = ${filter.status}::"LunStatus"`);
  if (filter.purpose !== undefined) conditions.push(Prisma.sql`l.purpose = ${filter.purpose}::"LunPurpose"`);
  if (filter.assignedNodeId !== undefined) conditions.push(Prisma.sql`l.assigned_node_id = ${filter.assignedNodeId}::uuid`);
  return conditions.length === 0 ? Prisma.empty : Prisma.sql`WHERE ${Prisma.join(conditions, ' AND ')}`;
}

/**
 * A page and the filter's total in one statement: the count is an uncorrelated subquery,
 * computed once. Only a page past the end (no row to carry the total) needs a second query.
 */
export function lunPageSql(filter: LunFilter, page: PageRequest): Prisma.Sql {
  const where = lunFilterSql(filter);
  return Prisma.sql`SELECT ${Prisma.raw(SELECT_LIST)}, (SELECT count(*)::int FROM iscsi_luns l ${where}) AS "total" ${Prisma.raw(FROM)} ${where} ${ORDER} LIMIT ${page.limit} OFFSET ${page.offset}`;
}

export async function queryLunPage(db: PrismaClient, filter: LunFilter, page: PageRequest): Promise<Page<LunView>> {
  const rows = await db.$queryRaw<Array<LunViewRow & { total: number }>>(lunPageSql(filter, page));
  if (rows.length > 0) return { items: rows.map(toLunViewFromRow), total: rows[0]!.total };
  if (page.offset === 0) return { items: [], total: 0 };
  const [{ total }] = await db.$queryRaw<[{ total: number }]>`SELECT count(*)::int AS "total" FROM iscsi_luns l ${lunFilterSql(filter)}`;
  return { items: [], total };
}

export async function queryLunById(db: PrismaClient, id: string): Promise<LunView | null> {
  const rows = await db.$queryRaw<LunViewRow[]>`${SELECT} WHERE l.id = ${id}::uuid`;
  return rows.length > 0 ? toLunViewFromRow(rows[0]!) : null;
}

/** The first LUN of a filter in list order (e.g. a node's boot LUN). */
export async function queryFirstLun(db: PrismaClient, filter: LunFilter): Promise<LunView | null> {
  const rows = await db.$queryRaw<LunViewRow[]>`${SELECT} ${lunFilterSql(filter)} ${ORDER} LIMIT 1`;
  return rows.length > 0 ? toLunViewFromRow(rows[0]!) : null;
}
