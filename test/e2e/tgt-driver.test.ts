import { execFile, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { PermanentTargetError, type DesiredTarget, type StepContext } from '@bootlun/core';
import { SpawnRunner, type CommandResult, type CommandRunner, type CommandSpec } from '@bootlun/exec';
import { backingFor, TgtDriver } from '@bootlun/targets';
import { parseAccounts, parseTargets } from '../../packages/targets/src/tgt/tgt.parse';
import { discover, holdSession, readCapacity, type InitiatorLogin } from '../support/iscsi-initiator';
import { startTgtd, type Tgtd } from '../support/tgtd';

/**
 * The tgt driver against a real tgtd (started privately, on its own control port and a
 * free 127.0.0.1 portal) and a real initiator (libiscsi). No mocks: every claim about
 * who may log in is checked with an actual iSCSI login. Needs root, tgt and libiscsi-bin.
 */

const PREFIX = 'iqn.2024-05.org.bootlun.e2e';
const NODE_A = 'iqn.2024-05.org.example:node-a';
const NODE_B = 'iqn.2024-05.org.example:node-b';
const MiB = 1024 * 1024;
const CHAP = { username: 'bl0e2e00000001', secret: 'Secret1Secret1ab' };
const CHAP_ROTATED = { username: CHAP.username, secret: 'Rotated2Rotated2' };
const MUTUAL = { username: 'bt0e2e00000001', secret: 'Mutual3Mutual3cd' };
const SECRETS = [CHAP.secret, CHAP_ROTATED.secret, MUTUAL.secret];

// The real module object (an `import * as` namespace would be a copy), so spying on it sees every spawn in this process.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const childProcess: typeof import('node:child_process') = require('node:child_process');

/** Records every command the driver runs, to prove no secret ever reaches an argv. */
class ArgvRecorder implements CommandRunner {
  readonly calls: CommandSpec[] = [];
  constructor(private readonly inner: CommandRunner) {}
  run(spec: CommandSpec): Promise<CommandResult> {
    this.calls.push(spec);
    return this.inner.run(spec);
  }
}

const steps: string[] = [];
const ctx: StepContext = {
  step: async (name) => void steps.push(name),
  checkpoint: async () => undefined,
};

let tgtd: Tgtd;
let dir: string;
let backingDir: string;
let configFile: string;
let runner: ArgvRecorder;
let driver: TgtDriver;
const spawned: string[][] = [];
const timings: Record<string, number> = {};

function newDriver(): TgtDriver {
  return new TgtDriver({
    controlPort: tgtd.controlPort,
    portalIp: '127.0.0.1',
    portalPort: tgtd.portalPort,
    backingDir,
    configFile,
    runner,
    iqnPrefix: PREFIX,
  });
}

function desired(overrides: Partial<DesiredTarget> = {}): DesiredTarget {
  return {
    iqn: `${PREFIX}:lun-1`,
    sizeBytes: 64 * MiB,
    backing: backingFor('file', backingDir, '0e2e0000-0000-4000-8000-000000000001'),
    createBacking: true,
    initiators: [NODE_A],
    chap: CHAP,
    mutualChap: null,
    ...overrides,
  };
}

function backingFile(): string {
  return (desired().backing as { path: string }).path;
}

function login(overrides: Partial<InitiatorLogin> = {}): InitiatorLogin {
  return { portal: `127.0.0.1:${tgtd.portalPort}`, targetIqn: `${PREFIX}:lun-1`, lun: 1, initiator: NODE_A, ...overrides };
}

async function liveState() {
  return { targets: parseTargets(await driver.client.showTargets()), accounts: parseAccounts(await driver.client.showAccounts()) };
}

async function timed<T>(name: string, work: () => Promise<T>): Promise<T> {
  const started = performance.now();
  const result = await work();
  timings[name] = Math.round((performance.now() - started) * 10) / 10;
  return result;
}

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'tgt-e2e-'));
  backingDir = path.join(dir, 'luns');
  configFile = path.join(dir, 'bootlun.conf');
  mkdirSync(backingDir);
  tgtd = await startTgtd();
  runner = new ArgvRecorder(new SpawnRunner());
  driver = newDriver();

  // Every process started during the test (the driver's and the test's own), by argv.
  const realSpawn = childProcess.spawn;
  jest.spyOn(childProcess, 'spawn').mockImplementation(((...args: Parameters<typeof realSpawn>) => {
    spawned.push([String(args[0]), ...((Array.isArray(args[1]) ? args[1] : []) as string[])]);
    return realSpawn(...args);
  }) as typeof realSpawn);
});

afterAll(async () => {
  jest.restoreAllMocks();
  await tgtd?.stop();
  rmSync(dir, { recursive: true, force: true });
  process.stdout.write(`tgt driver timings (ms): ${JSON.stringify(timings)}\n`);
});

describe('TgtDriver on a real tgtd', () => {
  it('converges a new target with CHAP and an ACL; the allowed initiator sees the size', async () => {
    const observed = await timed('converge new target with CHAP', () => driver.converge(desired(), ctx));
    expect(observed).toEqual({
      iqn: `${PREFIX}:lun-1`,
      lunNumber: 1,
      backingPath: backingFile(),
      sizeBytes: 64 * MiB,
      initiators: [NODE_A],
      chapUsername: CHAP.username,
      mutualChapUsername: null,
    });
    const seen = await readCapacity(login({ chap: CHAP }));
    expect(seen).toMatchObject({ ok: true, sizeBytes: 64 * MiB });
  });

  it('creates a sparse backing file', () => {
    const st = statSync(backingFile());
    expect(st.size).toBe(64 * MiB);
    expect(st.blocks * 512).toBeLessThan(MiB);
  });

  it('refuses a wrong secret, no secret, and another initiator', async () => {
    expect((await readCapacity(login({ chap: { ...CHAP, secret: 'WrongWrongWrong1' } }))).ok).toBe(false);
    expect((await readCapacity(login())).ok).toBe(false);
    expect((await readCapacity(login({ initiator: NODE_B, chap: CHAP }))).ok).toBe(false);
  });

  it('lists the target in SendTargets discovery only to the allowed initiator', async () => {
    expect(await discover(`127.0.0.1:${tgtd.portalPort}`, NODE_A)).toEqual([`${PREFIX}:lun-1`]);
    expect(await discover(`127.0.0.1:${tgtd.portalPort}`, NODE_B)).toEqual([]);
  });

  it('is idempotent: a second converge sends no mutating request and returns the same', async () => {
    const before = driver.client.mutationCount;
    const first = await driver.converge(desired(), ctx);
    const again = await timed('converge unchanged target', () => driver.converge(desired(), ctx));
    expect(driver.client.mutationCount).toBe(before);
    expect(again).toEqual(first);
  });

  it('rotates the secret: the old one stops working, the new one works', async () => {
    await driver.converge(desired({ chap: CHAP_ROTATED }), ctx);
    expect((await readCapacity(login({ chap: CHAP }))).ok).toBe(false);
    expect((await readCapacity(login({ chap: CHAP_ROTATED }))).ok).toBe(true);
    // No placeholder account is left behind.
    expect((await liveState()).accounts).toEqual([CHAP.username]);
  });

  it('replaces a secret it does not know (a restarted worker) without a moment without CHAP', async () => {
    driver = newDriver(); // empty secret memory
    const sent: string[] = [];
    driver.client.onRequest = (request) => void sent.push(request.what);
    await driver.converge(desired(), ctx);
    driver.client.onRequest = undefined;
    // A placeholder account guards the target while the real one is deleted and re-created.
    const guard = sent.findIndex((what) => /^bind incoming account bootlun-swap-\w+ to tid/.test(what));
    const deleted = sent.indexOf(`delete account ${CHAP.username}`);
    const rebound = sent.findIndex((what) => what.startsWith(`bind incoming account ${CHAP.username} `));
    const unguard = sent.findIndex((what) => /^delete account bootlun-swap-/.test(what));
    expect(guard).toBeGreaterThanOrEqual(0);
    expect(guard).toBeLessThan(deleted);
    expect(deleted).toBeLessThan(rebound);
    expect(rebound).toBeLessThan(unguard);
    expect(sent.join('\n')).not.toMatch(/Secret1|Rotated2/);
    expect((await readCapacity(login({ chap: CHAP }))).ok).toBe(true);
    expect((await readCapacity(login({ chap: CHAP_ROTATED }))).ok).toBe(false);
  });

  it('does mutual CHAP: the initiator checks the target', async () => {
    await driver.converge(desired({ mutualChap: MUTUAL }), ctx);
    expect((await readCapacity(login({ chap: CHAP, mutualChap: MUTUAL }))).ok).toBe(true);
    expect((await readCapacity(login({ chap: CHAP, mutualChap: { ...MUTUAL, secret: 'WrongWrongWrong1' } }))).ok).toBe(false);
    await driver.converge(desired(), ctx);
    const [target] = (await liveState()).targets;
    expect(target!.outgoingUser).toBeNull();
    expect((await liveState()).accounts).not.toContain(MUTUAL.username);
  });

  it('shuts everyone out when the ACL is empty', async () => {
    const observed = await driver.converge(desired({ initiators: [] }), ctx);
    expect(observed.initiators).toEqual([]);
    expect((await readCapacity(login({ chap: CHAP }))).ok).toBe(false);
    const [target] = (await liveState()).targets;
    expect(target!.aclAddresses).toEqual([]);
  });

  it('with CHAP off, the allowed initiator logs in without a secret', async () => {
    const observed = await driver.converge(desired({ chap: null }), ctx);
    expect(observed.chapUsername).toBeNull();
    expect((await readCapacity(login())).ok).toBe(true);
    expect((await readCapacity(login({ initiator: NODE_B }))).ok).toBe(false);
    expect((await liveState()).accounts).toEqual([]);
  });

  it('grows the LUN (never shrinks it)', async () => {
    await driver.converge(desired({ sizeBytes: 96 * MiB }), ctx);
    expect((await readCapacity(login({ chap: CHAP }))).sizeBytes).toBe(96 * MiB);
    const observed = await driver.converge(desired({ sizeBytes: 32 * MiB }), ctx);
    expect(observed.sizeBytes).toBe(96 * MiB);
  });

  it('renames: converge the new IQN, remove the old one', async () => {
    await driver.converge(desired({ iqn: `${PREFIX}:lun-1-renamed`, sizeBytes: 96 * MiB }), ctx);
    await driver.removeTarget(`${PREFIX}:lun-1`, ctx);
    expect((await driver.listTargets(PREFIX)).map((t) => t.iqn)).toEqual([`${PREFIX}:lun-1-renamed`]);
    expect((await readCapacity(login({ targetIqn: `${PREFIX}:lun-1-renamed`, chap: CHAP }))).sizeBytes).toBe(96 * MiB);
    expect((await readCapacity(login({ chap: CHAP }))).ok).toBe(false);
    expect((await liveState()).accounts).toEqual([CHAP.username]); // still bound to the renamed target
  });

  it('persists a 0600 config file that the stock loader (tgt-admin) restores after a tgtd restart', async () => {
    const renamed = desired({ iqn: `${PREFIX}:lun-1-renamed`, sizeBytes: 96 * MiB });
    await driver.persist();
    expect(statSync(configFile).mode & 0o777).toBe(0o600);
    expect(readFileSync(configFile, 'utf8')).toContain(`<target ${renamed.iqn}>`);

    tgtd = await timed('tgtd restart', () => tgtd.restart());
    expect(await driver.listTargets(PREFIX)).toEqual([]);
    // What the tgt service runs after tgtd starts (it passes secrets in argv: its problem, not ours).
    await promisify(execFile)('tgt-admin', ['-e', '-c', configFile, '-C', String(tgtd.controlPort)]);
    expect((await readCapacity(login({ targetIqn: renamed.iqn, chap: CHAP }))).sizeBytes).toBe(96 * MiB);
    expect((await readCapacity(login({ targetIqn: renamed.iqn, initiator: NODE_B, chap: CHAP }))).ok).toBe(false);
    expect((await readCapacity(login({ targetIqn: renamed.iqn }))).ok).toBe(false);

    // A restarted worker converges the restored target: drops the loader's inert address entry, re-sets the secret it cannot see.
    driver = newDriver();
    await driver.converge(renamed, ctx);
    await driver.persist();
    expect(readFileSync(configFile, 'utf8')).toContain(`incominguser ${CHAP.username} ${CHAP.secret}`);
  });

  it('restores everything with converge after tgtd is killed and restarted without a config loader', async () => {
    const renamed = desired({ iqn: `${PREFIX}:lun-1-renamed`, sizeBytes: 96 * MiB });
    tgtd = await tgtd.restart();
    expect(await driver.listTargets(PREFIX)).toEqual([]);
    const observed = await timed('converge after tgtd restart', () => driver.converge(renamed, ctx));
    expect(observed).toMatchObject({ lunNumber: 1, sizeBytes: 96 * MiB, initiators: [NODE_A], chapUsername: CHAP.username });
    expect((await readCapacity(login({ targetIqn: renamed.iqn, chap: CHAP }))).sizeBytes).toBe(96 * MiB);
  });

  it('removes a target with an initiator logged in (sessions are closed)', async () => {
    const renamed = desired({ iqn: `${PREFIX}:lun-1-renamed`, sizeBytes: 96 * MiB });
    let session: ChildProcess | undefined;
    try {
      session = await holdSession(login({ targetIqn: renamed.iqn, chap: CHAP }), async () =>
        (await liveState()).targets.some((t) => t.iqn === renamed.iqn && t.sessions.length > 0),
      );
      await driver.removeTarget(renamed.iqn, ctx);
      expect(await driver.listTargets(PREFIX)).toEqual([]);
    } finally {
      session?.kill('SIGKILL');
    }
  });

  it('removeTarget + removeBacking leave nothing, and both are idempotent', async () => {
    const backing = desired().backing;
    await driver.removeTarget(`${PREFIX}:lun-1-renamed`, ctx);
    await driver.removeBacking(backing, ctx);
    await driver.removeBacking(backing, ctx);
    expect(await driver.listTargets(PREFIX)).toEqual([]);
    expect(await driver.listBackings()).toEqual([]);
    const state = await liveState();
    expect(state.targets).toEqual([]);
    expect(state.accounts).toEqual([]);
    await driver.persist();
    expect(readFileSync(configFile, 'utf8')).not.toContain('<target');
  });

  it('refuses to delete a backing file a target still exports', async () => {
    const d = desired({ chap: null });
    await driver.converge(d, ctx);
    await expect(driver.removeBacking(d.backing, ctx)).rejects.toThrow(/still exported/);
    await driver.removeTarget(d.iqn, ctx);
    await driver.removeBacking(d.backing, ctx);
  });

  it('fails permanently when the backing directory is missing', async () => {
    const missing = path.join(dir, 'no-such-dir');
    const broken = new TgtDriver({ controlPort: tgtd.controlPort, portalIp: '127.0.0.1', portalPort: tgtd.portalPort, backingDir: missing, configFile, runner, iqnPrefix: PREFIX });
    await expect(broken.converge(desired({ backing: backingFor('file', missing, 'x') }), ctx)).rejects.toBeInstanceOf(PermanentTargetError);
  });

  it('never put a secret in the argv of any process, and never ran tgtadm', () => {
    const argvs = [...runner.calls.map((c) => [...c.argv]), ...spawned];
    expect(spawned.some((argv) => argv[0] === 'truncate')).toBe(true); // the spy saw the driver's own processes
    for (const argv of argvs) {
      for (const secret of SECRETS) expect(argv.join(' ')).not.toContain(secret);
    }
    // The driver runs file tools only; tgtd is spoken to over its socket.
    for (const program of new Set(runner.calls.map((c) => c.argv[0]))) expect(['find', 'rm', 'stat', 'truncate']).toContain(program);
    expect(spawned.filter((argv) => argv[0] === 'tgtadm')).toEqual([]);
  });
});
