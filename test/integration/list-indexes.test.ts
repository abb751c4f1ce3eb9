import { Prisma } from '@bootlun/db';
import { lunDocumentsSql } from '../../packages/db/src/repositories/lun-document.query';
import { lunPageSql } from '../../packages/db/src/repositories/lun-view.query';
import { startApiHarness, type ApiHarness } from '../support/api-harness';

/**
 * Every documented filter of the LUN list, and the list order, is served by an index: the
 * plan of the very statement the repository runs has no sequential scan and no sort. The
 * test table is tiny, where a sequential scan would win, so the planner is told to avoid
 * both (it still chooses them when no index fits).
 */
let h: ApiHarness;
beforeAll(async () => (h = await startApiHarness({}, { mintKeys: false })));
afterAll(() => h.close());

async function plan(sql: Prisma.Sql): Promise<string> {
  return h.services.prisma.$transaction(async (tx) => {
    await tx.$executeRawUnsafe('SET LOCAL enable_seqscan = off');
    await tx.$executeRawUnsafe('SET LOCAL enable_sort = off');
    const rows = await tx.$queryRaw<Array<{ 'QUERY PLAN': string }>>(Prisma.sql`EXPLAIN ${sql}`);
    return rows.map((r) => r['QUERY PLAN']).join('\n');
  });
}

const ID = '00000000-0000-4000-8000-000000000001';
const page = { limit: 50, offset: 0 };

describe('LUN list indexes', () => {
  it.each([
    ['no filter', {}],
    ['backend_id', { backendId: ID }],
    ['status', { status: 'ready' as const }],
    ['purpose', { purpose: 'install_source' as const }],
    ['assigned_node_id', { assignedNodeId: ID }],
    ['backend_id and status', { backendId: ID, status: 'ready' as const }],
  ])('%s: a page and its count come from indexes, in list order', async (_name, filter) => {
    // The API's page of documents and the domain's page of LUN views.
    for (const sql of [lunDocumentsSql(filter, page), lunPageSql(filter, page)]) {
      const text = await plan(sql);
      expect(text).not.toMatch(/Seq Scan on iscsi_luns/);
      expect(text).not.toMatch(/Sort/);
      expect(text).toMatch(/Index (Only )?Scan using iscsi_luns_\w*created_at_id_idx/);
    }
  });

  it('the node list pages in (created_at, id) order from its index', async () => {
    const text = await plan(Prisma.sql`SELECT * FROM nodes ORDER BY created_at, id LIMIT 50`);
    expect(text).toMatch(/Index Scan using nodes_created_at_id_idx/);
    expect(text).not.toMatch(/Sort/);
  });
});
