/**
 * What the bench reads back from an in-guest worker's log (pino JSON lines): saves that
 * failed the worker's read-back check, and the reconciles that ran (scheduled every
 * RECONCILE_INTERVAL_MS, 5 minutes by default, so some land inside a long run) with how
 * many LUNs they repaired.
 */
export interface WorkerLogStats {
  saveFailures: number;
  firstSaveFailure: string | null;
  reconciles: number;
  repaired: number;
}

export function workerLogStats(log: string): WorkerLogStats {
  const stats: WorkerLogStats = { saveFailures: 0, firstSaveFailure: null, reconciles: 0, repaired: 0 };
  for (const line of log.split('\n')) {
    if (!line.startsWith('{')) continue;
    let entry: { msg?: string; err?: string; repaired?: number };
    try {
      entry = JSON.parse(line);
    } catch {
      continue;
    }
    if (entry.msg === 'saving the target configuration failed') {
      stats.saveFailures++;
      stats.firstSaveFailure ??= entry.err ?? null;
    } else if (entry.msg === 'reconcile finished') {
      stats.reconciles++;
      stats.repaired += entry.repaired ?? 0;
    }
  }
  return stats;
}
