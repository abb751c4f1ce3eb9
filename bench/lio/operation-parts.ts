import { Client } from 'pg';
import { median } from './fit';

/**
 * How long our jobs themselves took, from the operations the worker finished: claimed →
 * finished, both stamped by the worker in the guest. (The row's creation is stamped on
 * this machine, whose clock the guest's does not follow closely enough to subtract.)
 */
export interface JobTimes {
  count: number;
  medianMs: number;
  sumMs: number;
}

export async function jobTimes(databaseUrl: string, operationIds: readonly string[]): Promise<JobTimes> {
  const db = new Client({ connectionString: databaseUrl });
  await db.connect();
  try {
    const { rows } = await db.query<{ ms: string }>(
      'SELECT extract(epoch FROM finished_at - started_at) * 1000 AS ms FROM operations WHERE id = ANY($1::uuid[]) AND finished_at IS NOT NULL AND started_at IS NOT NULL',
      [operationIds],
    );
    const ms = rows.map((r) => Number(r.ms));
    return { count: ms.length, medianMs: median(ms), sumMs: ms.reduce((s, x) => s + x, 0) };
  } finally {
    await db.end();
  }
}
