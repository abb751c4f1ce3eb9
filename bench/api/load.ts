import autocannon from 'autocannon';
import { treeUsage } from '../support/proc';

/** One server under test: ours (the product API) or the raw baseline. */
export interface Server {
  label: 'ours' | 'raw';
  baseUrl: string;
  pid: number;
}

export interface Endpoint {
  label: string;
  method: 'GET' | 'POST';
  /** The n-th request's path (n counts per run), so a run can walk ids. */
  path(n: number): string;
  /** The n-th request's JSON body; `tag` keeps names unique per server and run. */
  body?(n: number, tag: string): string;
}

export interface LoadOptions {
  connections: number;
  /** Measured runs per server, alternating which server goes first. */
  rounds: number;
  seconds: number;
  warmupSeconds: number;
  headers: Record<string, string>;
}

export interface Measurement {
  requests: number;
  seconds: number;
  rps: number;
  p50: number;
  p99: number;
  /** CPU time of the server's process tree per request, ms. */
  cpuMsPerRequest: number;
  rssBeforeMb: number;
  rssAfterMb: number;
}

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

interface Run {
  requests: number;
  seconds: number;
  latencies: number[];
}

let runCounter = 0;

/** One autocannon run against one server; every response time is kept, and any non-2xx or socket error fails the bench. */
async function run(server: Server, endpoint: Endpoint, options: LoadOptions, seconds: number): Promise<Run> {
  const tag = `${server.label}${++runCounter}`;
  let n = 0;
  const latencies: number[] = [];
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon(
      {
        url: server.baseUrl,
        connections: options.connections,
        duration: seconds,
        headers: { ...options.headers, ...(endpoint.body ? { 'content-type': 'application/json' } : {}) },
        requests: [
          {
            method: endpoint.method,
            setupRequest: (req) => {
              const i = n++;
              return { ...req, path: endpoint.path(i), ...(endpoint.body ? { body: endpoint.body(i, tag) } : {}) };
            },
          },
        ],
      },
      (err, res) => (err ? reject(err) : resolve(res)),
    );
    instance.on('response', (_client, _status, _bytes, responseTime) => latencies.push(responseTime));
  });
  if (result.non2xx > 0 || result.errors > 0) {
    const codes = Object.entries(result.statusCodeStats ?? {}).map(([code, s]) => `${code}×${s.count ?? 0}`).join(' ');
    throw new Error(`${endpoint.label} on ${server.label}: ${result.non2xx} non-2xx answers, ${result.errors} errors (${codes})`);
  }
  return { requests: result.requests.total, seconds: result.duration, latencies };
}

/**
 * Measures one endpoint on every server in the same stretch of time: a warm-up run each,
 * then `rounds` runs each, the order alternating per round so a noisy neighbour's burst
 * hits both. Percentiles come from every response of the measured runs.
 */
export async function measureEndpoint(endpoint: Endpoint, servers: Server[], options: LoadOptions): Promise<Map<Server['label'], Measurement>> {
  const totals = new Map(servers.map((s) => [s.label, { requests: 0, seconds: 0, latencies: [] as number[], cpuMs: 0, rssBefore: 0, rssAfter: 0 }]));
  for (const server of servers) {
    totals.get(server.label)!.rssBefore = treeUsage(server.pid).rssMb;
    if (options.warmupSeconds > 0) await run(server, endpoint, options, options.warmupSeconds);
  }
  for (let round = 0; round < options.rounds; round++) {
    const order = round % 2 === 0 ? servers : [...servers].reverse();
    for (const server of order) {
      const total = totals.get(server.label)!;
      const cpuBefore = treeUsage(server.pid).cpuMs;
      const r = await run(server, endpoint, options, options.seconds);
      total.cpuMs += treeUsage(server.pid).cpuMs - cpuBefore;
      total.requests += r.requests;
      total.seconds += r.seconds;
      for (const l of r.latencies) total.latencies.push(l);
    }
  }
  const out = new Map<Server['label'], Measurement>();
  for (const server of servers) {
    const t = totals.get(server.label)!;
    t.rssAfter = treeUsage(server.pid).rssMb;
    const sorted = Float64Array.from(t.latencies).sort();
    out.set(server.label, {
      requests: t.requests,
      seconds: t.seconds,
      rps: t.requests / t.seconds,
      p50: percentile(sorted, 50),
      p99: percentile(sorted, 99),
      cpuMsPerRequest: t.cpuMs / Math.max(1, t.requests),
      rssBeforeMb: t.rssBefore,
      rssAfterMb: t.rssAfter,
    });
  }
  return out;
}
