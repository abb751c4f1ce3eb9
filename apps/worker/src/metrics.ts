import http from 'node:http';
import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client';

/** Worker metrics: job counts, durations and failures by kind and backend, served on /metrics. */
export function createWorkerMetrics(backend: string) {
  const registry = new Registry();
  registry.setDefaultLabels({ backend });
  collectDefaultMetrics({ register: registry, prefix: 'bootlun_worker_' });
  const jobs = new Counter({ name: 'bootlun_jobs_total', help: 'Job attempts by kind and outcome', labelNames: ['kind', 'outcome'], registers: [registry] });
  const durations = new Histogram({
    name: 'bootlun_job_duration_seconds',
    help: 'Job attempt duration by kind',
    labelNames: ['kind', 'outcome'],
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120],
    registers: [registry],
  });
  const cloneDurations = new Histogram({
    name: 'bootlun_clone_duration_seconds',
    help: 'Time to fill a clone\'s backing store, by method (reflink, copy, snapshot; done: a retry found the copy complete)',
    labelNames: ['method'],
    buckets: [0.01, 0.05, 0.1, 0.5, 1, 5, 15, 60, 180, 600],
    registers: [registry],
  });
  const drift = new Counter({ name: 'bootlun_drift_repairs_total', help: 'Drift found and repaired by the reconciler', labelNames: ['type'], registers: [registry] });

  return {
    /** outcome: succeeded | retrying | failed */
    observeJob(kind: string, outcome: string, seconds: number) {
      jobs.inc({ kind, outcome });
      durations.observe({ kind, outcome }, seconds);
    },
    observeClone(method: string, seconds: number) {
      cloneDurations.observe({ method }, seconds);
    },
    observeDrift(type: 'repaired' | 'lost_backing' | 'stray_target' | 'orphan_backing', n: number) {
      if (n > 0) drift.inc({ type }, n);
    },
    serve(port: number, host = '127.0.0.1'): Promise<http.Server> {
      const server = http.createServer((req, res) => {
        if (req.url !== '/metrics') {
          res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ success: false, error: 'not_found', detail: 'only /metrics is served here' }));
          return;
        }
        registry.metrics().then((text) => res.writeHead(200, { 'content-type': registry.contentType }).end(text));
      });
      return new Promise((resolve) => server.listen(port, host, () => resolve(server)));
    },
  };
}
export type WorkerMetrics = ReturnType<typeof createWorkerMetrics>;
