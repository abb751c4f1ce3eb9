import { execFile, spawn, type ChildProcess } from 'node:child_process';

/**
 * libiscsi's userspace initiator tools (package libiscsi-bin) as a test initiator: each
 * call is one full iSCSI login with the given initiator name, optional CHAP and mutual
 * CHAP, then one SCSI command. CHAP credentials go in the environment variables libiscsi
 * reads (LIBISCSI_CHAP_USERNAME/PASSWORD, …_TARGET_USERNAME/PASSWORD) rather than in
 * the URL (`iscsi://user%password@host/…`), so even the test initiator keeps secrets out
 * of argv; either form would be acceptable in a test only.
 */
export interface InitiatorLogin {
  /** `127.0.0.1:<port>` */
  portal: string;
  targetIqn: string;
  lun: number;
  initiator: string;
  chap?: { username: string; secret: string };
  /** Credentials the target must prove (mutual CHAP). */
  mutualChap?: { username: string; secret: string };
}

export interface InitiatorResult {
  ok: boolean;
  /** Capacity the initiator saw (readCapacity only). */
  sizeBytes: number | null;
  output: string;
}

const TIMEOUT_MS = 20_000;

function url(login: InitiatorLogin): string {
  return `iscsi://${login.portal}/${login.targetIqn}/${login.lun}`;
}

function chapEnv(login: Pick<InitiatorLogin, 'chap' | 'mutualChap'>): Record<string, string> {
  const env: Record<string, string> = {};
  if (login.chap) {
    env.LIBISCSI_CHAP_USERNAME = login.chap.username;
    env.LIBISCSI_CHAP_PASSWORD = login.chap.secret;
  }
  if (login.mutualChap) {
    env.LIBISCSI_CHAP_TARGET_USERNAME = login.mutualChap.username;
    env.LIBISCSI_CHAP_TARGET_PASSWORD = login.mutualChap.secret;
  }
  return env;
}

function childEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env = { ...process.env, ...extra };
  // Never inherit credentials from the test runner's own environment.
  for (const key of Object.keys(env)) if (key.startsWith('LIBISCSI_CHAP_') && !(key in extra)) delete env[key];
  return env;
}

function run(argv: string[], env: Record<string, string>): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    execFile(argv[0]!, argv.slice(1), { env: childEnv(env), timeout: TIMEOUT_MS, killSignal: 'SIGKILL' }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      resolve({ code, output: `${stdout}${stderr}`.trim() });
    });
  });
}

/** `iscsi-readcapacity16 -s`: logs in and prints the LUN's size in bytes. */
export async function readCapacity(login: InitiatorLogin): Promise<InitiatorResult> {
  const { code, output } = await run(['iscsi-readcapacity16', '-s', '-i', login.initiator, url(login)], chapEnv(login));
  const size = code === 0 ? /^(\d+)$/m.exec(output) : null;
  return { ok: code === 0 && size !== null, sizeBytes: size ? Number(size[1]) : null, output };
}

/** `iscsi-inq`: logs in and reads the standard INQUIRY page. */
export async function inquiry(login: InitiatorLogin): Promise<InitiatorResult> {
  const { code, output } = await run(['iscsi-inq', '-i', login.initiator, url(login)], chapEnv(login));
  return { ok: code === 0, sizeBytes: null, output };
}

/** `iscsi-ls`: SendTargets discovery on the portal; returns the target names listed. */
export async function discover(portal: string, initiator: string): Promise<string[]> {
  const { output } = await run(['iscsi-ls', '-i', initiator, `iscsi://${portal}`], {});
  return [...output.matchAll(/^Target:(\S+)/gm)].map((m) => m[1]!);
}

/**
 * Holds one session open (iscsi-perf reads until stopped), for tests that need a
 * logged-in initiator. Resolves once the target shows the session (`hasSession`).
 */
export async function holdSession(login: InitiatorLogin, hasSession: () => Promise<boolean>): Promise<ChildProcess> {
  const child = spawn('iscsi-perf', ['-i', login.initiator, url(login)], { env: childEnv(chapEnv(login)), stdio: 'ignore' });
  const deadline = Date.now() + TIMEOUT_MS;
  while (!(await hasSession())) {
    if (child.exitCode !== null) throw new Error('iscsi-perf exited before its session appeared');
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error('no session appeared for iscsi-perf');
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return child;
}
