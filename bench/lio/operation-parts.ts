import { Client } from 'pg';
import { median } from './fit';

/**
 * Where our time goes, from the operations the API recorded: queue wait (the row's
 * commit → the worker claimed it) and the job itself (claimed → finished), medians per
 * group, and the jobs' summed time against the wall clock of a bulk run.
 */
export interface OperationParts {
  count: number;
  waitMs: number;
  jobMs: number;
  jobSumMs: number;
}

export async function operationParts(databaseUrl: string, ids: readonly string[]): Promise<OperationParts> {
  const db = new Client({ connectionString: databaseUrl });
  await db.connect();
  try {
    const { rows } = await db.query<{ wait: string; job: string }>(
      `SELECT extract(epoch FROM started_at - created_at) * 1000 AS wait, extract(epoch FROM finished_at - started_at) * 1000 AS job
       FROM operations WHERE id = ANY($1::uuid[]) AND finished_at IS NOT NULL`,
      [ids],
    );
    const jobs = rows.map((r) => Number(r.job));
    return { count: rows.length, waitMs: median(rows.map((r) => Number(r.wait))), jobMs: median(jobs), jobSumMs: jobs.reduce((s, x) => s + x, 0) };
  } finally {
    await db.end();
  }
}
