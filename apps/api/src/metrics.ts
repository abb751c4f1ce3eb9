import type { Repositories } from '@bootlun/core';
import type { QueueRegistry } from '@bootlun/jobs';
import { Router } from 'express';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/** API metrics: request latency by route and status; bulk clone items by outcome; LUNs by status and queue depth, read at scrape time. */
export function createApiMetrics(repos: Repositories, queues: QueueRegistry) {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'bootlun_api_' });
  const requests = new Histogram({
    name: 'bootlun_http_request_duration_seconds',
    help: 'HTTP request latency',
    labelNames: ['route', 'method', 'status'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });
  new Gauge({
    name: 'bootlun_luns',
    help: 'LUNs by status and backend',
    labelNames: ['status', 'backend'],
    registers: [registry],
    async collect() {
      this.reset();
      for (const backend of await repos.backends.listAll()) {
        const luns = await repos.luns.listByBackend(backend.id);
        const counts = new Map<string, number>();
        for (const lun of luns) counts.set(lun.status, (counts.get(lun.status) ?? 0) + 1);
        for (const [status, n] of counts) this.set({ status, backend: backend.name }, n);
      }
    },
  });
  new Gauge({
    name: 'bootlun_queue_jobs',
    help: 'Jobs in each storage backend queue by state',
    labelNames: ['backend', 'state'],
    registers: [registry],
    async collect() {
      this.reset();
      for (const backend of await repos.backends.listAll()) {
        const counts = await queues.forBackend(backend.id).getJobCounts('waiting', 'active', 'delayed', 'failed', 'completed');
        for (const [state, n] of Object.entries(counts)) this.set({ backend: backend.name, state }, n);
      }
    },
  });

  const bulkItems = new Counter({
    name: 'bootlun_bulk_items_total',
    help: 'Items of bulk clone requests by outcome at submission: accepted, or the error code they were refused with (conflict, no_capacity)',
    labelNames: ['outcome'],
    registers: [registry],
  });
  const bulkSizes = new Histogram({
    name: 'bootlun_bulk_request_items',
    help: 'Nodes per bulk clone request',
    buckets: [1, 5, 10, 25, 50, 100, 250, 500],
    registers: [registry],
  });

  const router = Router();
  router.get('/', async (_req, res) => {
    res.type(registry.contentType).send(await registry.metrics());
  });
  return {
    router,
    observe: (route: string, method: string, status: number, seconds: number) => requests.observe({ route, method, status: String(status) }, seconds),
    bulk: {
      observeItems(outcomes: string[]) {
        bulkSizes.observe(outcomes.length);
        for (const outcome of outcomes) bulkItems.inc({ outcome });
      },
    },
  };
}
