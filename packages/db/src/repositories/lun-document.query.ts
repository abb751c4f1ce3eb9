import type { LunResponse } from '@bootlun/contracts';
import type { LunDocuments, LunFilter, PageRequest } from '@bootlun/core';
import { Prisma, type PrismaClient } from '../generated/client';
import { lunFilterSql } from './lun-view.query';

/**
 * The API's two hottest reads, a page of LUNs and one LUN, rendered as JSON by Postgres:
 * one text value comes back instead of rows whose every value the driver, Prisma's result
 * mapping, our mapper and the presenter each touch, and the reply sends that text as it is.
 * A page of 1,000 costs a fraction of the CPU this way (bench/api).
 *
 * The document must be byte for byte what `JSON.stringify(presentLun(view))` gives (field
 * order, null, numbers, ISO times with milliseconds and Z): FIELDS names every field of
 * LunResponse, in the presenter's order, and test/integration/lun-view-query.test.ts
 * compares both renderings over awkward rows (quotes, control characters, non-ASCII, nulls).
 */

/** Timestamps are stored as UTC without a zone; rendered as Date#toISOString renders them. */
const iso = (column: string) => `to_char(${column}, 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;

const FIELDS: { [K in keyof LunResponse]-?: string } = {
  id: 'l.id',
  name: 'l.name',
  size_gb: 'l.size_gb',
  backend_id: 'l.backend_id',
  backend_name: 'b.name',
  target_id: 'l.backend_id',
  target_name: 'b.name',
  iqn: 'l.iqn',
  lun_number: 'l.lun_number',
  purpose: 'l.purpose',
  template: 'l.template',
  source_lun_id: 'l.source_lun_id',
  source_snapshot_id: 'l.source_snapshot_id',
  status: 'l.status',
  error_message: 'l.error_message',
  assigned_node_id: 'l.assigned_node_id',
  // As the UI shows a node: its hostname, else its MAC.
  assigned_node_name: 'COALESCE(n.hostname, n.mac_address)',
  chap_enabled: 'l.chap_enabled',
  chap_username: 'l.chap_username',
  mutual_chap_enabled: 'l.mutual_chap_enabled',
  target_chap_username: 'l.target_chap_username',
  drift: 'l.drift',
  generation: 'l.generation',
  created_at: iso('l.created_at'),
  updated_at: iso('l.updated_at'),
};

/** Each LUN's row with its document `d` beside it. */
const FROM = Prisma.raw(
  'FROM iscsi_luns l JOIN storage_backends b ON b.id = l.backend_id LEFT JOIN nodes n ON n.id = l.assigned_node_id ' +
    `CROSS JOIN LATERAL (SELECT ${Object.entries(FIELDS).map(([field, expr]) => `${expr} AS "${field}"`).join(', ')}) d`,
);
const ORDER = Prisma.raw('ORDER BY l.created_at, l.id');

/**
 * A page of documents with the filter's total in one statement (the count is an
 * uncorrelated subquery, computed once); joined into one array here, where joining is
 * cheap (Postgres's string_agg over a large page costs more than the page itself). Only a
 * page past the end, with no row to carry the total, needs a second query.
 */
export async function queryLunDocuments(db: PrismaClient, filter: LunFilter, page: PageRequest): Promise<LunDocuments> {
  const rows = await db.$queryRaw<Array<{ doc: string; total: number }>>(lunDocumentsSql(filter, page));
  if (rows.length > 0) return { json: `[${rows.map((r) => r.doc).join(',')}]`, total: rows[0]!.total };
  if (page.offset === 0) return { json: '[]', total: 0 };
  const [{ total }] = await db.$queryRaw<[{ total: number }]>`SELECT count(*)::int AS "total" FROM iscsi_luns l ${lunFilterSql(filter)}`;
  return { json: '[]', total };
}

/** The page statement (test/integration/list-indexes.test.ts checks its plan). */
export function lunDocumentsSql(filter: LunFilter, page: PageRequest): Prisma.Sql {
  const where = lunFilterSql(filter);
  return Prisma.sql`SELECT row_to_json(d)::text AS "doc", (SELECT count(*)::int FROM iscsi_luns l ${where}) AS "total"
    ${FROM} ${where} ${ORDER} LIMIT ${page.limit} OFFSET ${page.offset}`;
}

/** One LUN's document, or null when there is no such LUN. */
export async function queryLunDocument(db: PrismaClient, id: string): Promise<string | null> {
  const rows = await db.$queryRaw<Array<{ doc: string }>>`SELECT row_to_json(d)::text AS "doc" ${FROM} WHERE l.id = ${id}::uuid`;
  return rows[0]?.doc ?? null;
}
