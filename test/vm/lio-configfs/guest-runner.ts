import { promises as fs } from 'node:fs';
import path from 'node:path';
import { SpawnRunner } from '../../../packages/exec/src/spawn-runner';
import { LioConfigfsDriver, type LioConfigfsDriverOptions } from '../../../packages/targets/src/lio-configfs/lio-configfs.driver';
import type { Backing, DesiredTarget, StepContext } from '../../../packages/core/src/ports/target-driver.port';

/**
 * Runs inside the storage-host VM, with the host's own `node` binary: the configfs driver
 * against the guest's real LIO, as the worker on a storage host would. Bundled by
 * guest-bundle.ts into one file; reads one JSON request on stdin, answers JSON on stdout.
 * Also captures the raw configfs tree, the source of the unit tests' fake tree.
 */

type Step =
  | { op: 'converge'; desired: DesiredTarget }
  | { op: 'removeTarget'; iqn: string }
  | { op: 'removeBacking'; backing: Backing }
  | { op: 'persist' }
  | { op: 'listTargets'; prefix: string }
  | { op: 'listBackings' }
  | { op: 'capacity' }
  | { op: 'captureTree'; root?: string };

interface Request {
  options: Omit<LioConfigfsDriverOptions, 'runner'>;
  steps: Step[];
}

export interface CapturedEntry {
  path: string;
  kind: 'dir' | 'file' | 'link';
  mode: number;
  /** File text (null when unreadable, e.g. write-only control files), or a link's target. */
  content: string | null;
  error?: string;
}

async function captureTree(root: string): Promise<CapturedEntry[]> {
  const out: CapturedEntry[] = [];
  const walk = async (rel: string): Promise<void> => {
    const abs = rel ? path.join(root, rel) : root;
    for (const entry of (await fs.readdir(abs, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const childRel = rel ? `${rel}/${entry.name}` : entry.name;
      const childAbs = path.join(root, childRel);
      const st = await fs.lstat(childAbs);
      if (entry.isSymbolicLink()) {
        out.push({ path: childRel, kind: 'link', mode: st.mode & 0o7777, content: await fs.readlink(childAbs) });
      } else if (entry.isDirectory()) {
        out.push({ path: childRel, kind: 'dir', mode: st.mode & 0o7777, content: null });
        await walk(childRel);
      } else {
        let content: string | null = null;
        let error: string | undefined;
        try {
          content = await fs.readFile(childAbs, 'utf8');
        } catch (err) {
          error = (err as NodeJS.ErrnoException).code;
        }
        out.push({ path: childRel, kind: 'file', mode: st.mode & 0o7777, content, ...(error ? { error } : {}) });
      }
    }
  };
  await walk('');
  return out;
}

/** Where one call's time went: each step the driver announced and each command it ran, ms from the call's start. */
interface Trace {
  started: bigint;
  events: string[];
}
let trace: Trace = { started: process.hrtime.bigint(), events: [] };
const since = () => Math.round(Number(process.hrtime.bigint() - trace.started) / 1e6);

const ctx: StepContext = {
  step: async (name) => void trace.events.push(`${since()} ms step ${name}`),
  checkpoint: async () => undefined,
};

/** The spawn runner, noting each command (argv[0] only: argv may hold nothing secret, but stay terse). */
class TracingRunner extends SpawnRunner {
  override async run(spec: Parameters<SpawnRunner['run']>[0]): ReturnType<SpawnRunner['run']> {
    const at = since();
    const result = await super.run(spec);
    trace.events.push(`${at} ms ran ${spec.argv[0]} (${since() - at} ms)`);
    return result;
  }
}

async function main(): Promise<void> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  const request = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Request;
  const warnings: string[] = [];
  const driver = new LioConfigfsDriver({ ...request.options, runner: new TracingRunner(), warn: (m) => warnings.push(m) });
  const results: Array<{ op: string; ms: number; trace: string[]; result?: unknown; error?: string }> = [];
  for (const step of request.steps) {
    const started = process.hrtime.bigint();
    trace = { started, events: [] };
    try {
      let result: unknown;
      switch (step.op) {
        case 'converge':
          result = await driver.converge(step.desired, ctx);
          break;
        case 'removeTarget':
          result = await driver.removeTarget(step.iqn, ctx);
          break;
        case 'removeBacking':
          result = await driver.removeBacking(step.backing, ctx);
          break;
        case 'persist':
          result = await driver.persist();
          break;
        case 'listTargets':
          result = await driver.listTargets(step.prefix);
          break;
        case 'listBackings':
          result = await driver.listBackings();
          break;
        case 'capacity':
          result = await driver.capacity();
          break;
        case 'captureTree':
          result = await captureTree(step.root ?? '/sys/kernel/config/target');
          break;
      }
      results.push({ op: step.op, ms: Number(process.hrtime.bigint() - started) / 1e6, trace: trace.events, result });
    } catch (err) {
      results.push({ op: step.op, ms: Number(process.hrtime.bigint() - started) / 1e6, trace: trace.events, error: (err as Error).message });
    }
  }
  process.stdout.write(`${JSON.stringify({ results, warnings })}\n`);
}

main().catch((err: Error) => {
  process.stderr.write(`${err.stack ?? err.message}\n`);
  process.exit(1);
});
