import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { freeTcpPort } from '../../test/support/tgtd';
import { waitFor } from '../../test/support/wait-for';

export const ROOT = path.resolve(__dirname, '../..');

/**
 * How production starts each process. The bench runs exactly these, so what it measures
 * (CPU, and memory of the whole process tree) is what a host pays; it refuses to run when
 * the Dockerfile or docker-compose.yml say something else.
 */
export const PRODUCTION_COMMANDS = {
  api: ['node', '--liftoff-only', 'dist/api.js'],
  worker: ['node', '--liftoff-only', 'dist/worker.js'],
} as const;

/** The production bundles (`npm run build`), made fresh so the bench measures the code in the tree. */
export function buildProduction(): void {
  execFileSync('npm', ['run', '--silent', 'build'], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
}

/** `ExecStart=/usr/bin/node a b` of a systemd unit, as argv with `node` for the binary. */
function execStart(unit: string): string | undefined {
  const line = /^ExecStart=(.*)$/m.exec(readFileSync(path.join(ROOT, 'deploy/systemd', unit), 'utf8'))?.[1];
  return line && JSON.stringify(line.trim().split(/\s+/).map((word, i) => (i === 0 ? path.basename(word) : word)));
}

/** The Dockerfile's CMD, docker-compose's worker command and the systemd units must run the commands above. */
export function assertProductionCommands(): void {
  const cmd = /^CMD\s+(\[.*\])\s*$/m.exec(readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8'))?.[1];
  const compose = readFileSync(path.join(ROOT, 'docker-compose.yml'), 'utf8');
  const workerCommand = /^ {2}worker:\n(?:(?! {2}\S).*\n)*? {4}command:\s*(\[.*\])\s*$/m.exec(compose)?.[1];
  const problems: string[] = [];
  for (const [unit, want] of [['bootlun-api.service', PRODUCTION_COMMANDS.api], ['bootlun-worker@.service', PRODUCTION_COMMANDS.worker]] as const) {
    const got = execStart(unit);
    if (got !== JSON.stringify(want)) problems.push(`deploy/systemd/${unit} runs ${got ?? 'nothing'}`);
  }
  if (!cmd || JSON.stringify(JSON.parse(cmd)) !== JSON.stringify(PRODUCTION_COMMANDS.api)) problems.push(`Dockerfile CMD is ${cmd ?? 'missing'}, the bench runs ${JSON.stringify(PRODUCTION_COMMANDS.api)}`);
  if (!workerCommand || JSON.stringify(JSON.parse(workerCommand)) !== JSON.stringify(PRODUCTION_COMMANDS.worker)) {
    problems.push(`docker-compose worker command is ${workerCommand ?? 'missing'}, the bench runs ${JSON.stringify(PRODUCTION_COMMANDS.worker)}`);
  }
  if (problems.length > 0) throw new Error(`bench/support/processes.ts PRODUCTION_COMMANDS disagree with production: ${problems.join('; ')}`);
}

export interface BenchProcess {
  readonly name: string;
  readonly pid: number;
  readonly baseUrl: string;
  /** Everything the process wrote (stdout and stderr go to one log file). */
  log(): string;
  stop(): Promise<void>;
}

/**
 * Starts `argv` in a process group of its own (so npm, tsx and node stop together), with
 * its output in `<dir>/<name>.log`, and waits until `ready` says so.
 */
async function launch(name: string, argv: readonly string[], env: NodeJS.ProcessEnv, dir: string, ready: (p: BenchProcess, child: ChildProcess) => Promise<boolean>, baseUrl = ''): Promise<BenchProcess> {
  mkdirSync(dir, { recursive: true });
  const logFile = path.join(dir, `${name}.log`);
  const fd = openSync(logFile, 'w');
  const child = spawn(argv[0]!, argv.slice(1), { cwd: ROOT, env, stdio: ['ignore', fd, fd], detached: true });
  closeSync(fd);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const log = () => readFileSync(logFile, 'utf8');
  const proc: BenchProcess = {
    name,
    pid: child.pid!,
    baseUrl,
    log,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      try {
        process.kill(-child.pid!, 'SIGTERM');
      } catch {
        return; // the group is gone already
      }
      const timer = setTimeout(() => {
        try {
          process.kill(-child.pid!, 'SIGKILL');
        } catch {
          // gone
        }
      }, 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
  try {
    await waitFor(`${name} to start`, async () => {
      if (child.exitCode !== null) throw new Error(`${name} exited with ${child.exitCode}:\n${log().trim().split('\n').slice(-20).join('\n')}`);
      return (await ready(proc, child)) ? true : undefined;
    }, 90_000, 100);
  } catch (err) {
    await proc.stop();
    throw err;
  }
  return proc;
}

async function answersHealth(baseUrl: string): Promise<boolean> {
  const res = await fetch(`${baseUrl}/healthz`).catch(() => null);
  return res?.ok ?? false;
}

/** The API as production starts it, with NODE_ENV=production and `env` on top of ours. */
export async function startProductionApi(env: Record<string, string>, dir: string, nodeArgs: readonly string[] = []): Promise<BenchProcess> {
  const port = await freeTcpPort();
  const baseUrl = `http://127.0.0.1:${port}`;
  const [node, ...rest] = PRODUCTION_COMMANDS.api;
  return launch('api', [node, ...nodeArgs, ...rest], { ...process.env, NODE_ENV: 'production', HOST: '127.0.0.1', PORT: String(port), LOG_PRETTY: 'false', ...env }, dir, () => answersHealth(baseUrl), baseUrl);
}

/** A storage-host worker as production starts it; ready once it logs that it started. */
export async function startProductionWorker(env: Record<string, string>, dir: string): Promise<BenchProcess> {
  return launch('worker', PRODUCTION_COMMANDS.worker, { ...process.env, NODE_ENV: 'production', LOG_PRETTY: 'false', ...env }, dir, async (p) => p.log().includes('"msg":"worker started"'));
}

/**
 * The raw baseline, compiled to plain JavaScript first (TypeScript's own transpiler, no
 * loader at run time) and run with node, as a minimal service would be.
 */
export async function startRawBaseline(env: Record<string, string>, dir: string, nodeArgs: readonly string[] = []): Promise<BenchProcess> {
  const source = readFileSync(path.join(ROOT, 'bench/api/raw-server.ts'), 'utf8');
  const { outputText } = ts.transpileModule(source, { compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true } });
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, 'raw-server.js');
  writeFileSync(file, outputText);
  const port = await freeTcpPort();
  const baseUrl = `http://127.0.0.1:${port}`;
  return launch('raw', [process.execPath, ...nodeArgs, file], { ...process.env, NODE_ENV: 'production', NODE_PATH: path.join(ROOT, 'node_modules'), PORT: String(port), ...env }, dir, () => answersHealth(baseUrl), baseUrl);
}
