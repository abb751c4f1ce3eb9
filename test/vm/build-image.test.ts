import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

/**
 * build-image.sh takes its Debian mirror from the host's own apt configuration, so the
 * repository names no package-repository host. Checked with the script's own lookup run
 * against apt itself, pointed (APT_CONFIG) at sources written here; nothing is built.
 */

const SCRIPT = readFileSync(path.join(__dirname, 'build-image.sh'), 'utf8');

/** The script's mirror lookup: from `host_mirror() {` through the check that one was found. */
function mirrorLookup(): string {
  const lookup = /^host_mirror\(\) \{$[\s\S]*?^\[ -n "\$MIRROR" \] \|\|[^\n]*$/m.exec(SCRIPT)?.[0];
  if (!lookup) throw new Error('build-image.sh has no host_mirror lookup');
  return lookup;
}

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'bootlun-apt-'));
  mkdirSync(path.join(dir, 'parts'));
  mkdirSync(path.join(dir, 'lists/partial'), { recursive: true });
  // Only these sources: the machine's own /etc/apt lists are not read.
  writeFileSync(path.join(dir, 'apt.conf'), [`Dir::Etc::SourceList "${dir}/sources.list";`, `Dir::Etc::SourceParts "${dir}/parts";`, `Dir::State::Lists "${dir}/lists";`, ''].join('\n'));
  writeFileSync(path.join(dir, 'sources.list'), '');
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function resolveMirror(env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  const program = `set -euo pipefail\nSUITE=bookworm\n${mirrorLookup()}\necho "$MIRROR"`;
  return new Promise((resolve) =>
    execFile('bash', ['-c', program], { env: { PATH: process.env.PATH, APT_CONFIG: path.join(dir, 'apt.conf'), ...env }, timeout: 30_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout: stdout.trim(), stderr }),
    ),
  );
}

describe('build-image.sh: the Debian mirror', () => {
  it('names no repository host of its own', () => {
    expect(SCRIPT).not.toMatch(/\b(https?|ftp):\/\/[A-Za-z0-9.-]+/);
  });

  it("takes the mirror of $SUITE main from the host's deb822 sources, skipping security, updates and deb-src", async () => {
    writeFileSync(
      path.join(dir, 'parts/debian.sources'),
      [
        'Types: deb-src',
        'URIs: http://source-only.example/debian',
        'Suites: bookworm',
        'Components: main',
        '',
        'Types: deb',
        'URIs: http://security.example/debian-security',
        'Suites: bookworm-security',
        'Components: main',
        '',
        'Types: deb',
        'URIs: http://mirror.example/debian',
        'Suites: bookworm bookworm-updates',
        'Components: main contrib',
        '',
      ].join('\n'),
    );
    const result = await resolveMirror();
    expect(result).toMatchObject({ code: 0, stdout: 'http://mirror.example/debian/' });
  });

  it('reads a one-line sources.list as well', async () => {
    writeFileSync(path.join(dir, 'sources.list'), 'deb [arch=amd64] http://list-mirror.example/debian bookworm main non-free-firmware\n');
    expect(await resolveMirror()).toMatchObject({ code: 0, stdout: 'http://list-mirror.example/debian/' });
  });

  it('BOOTLUN_VM_MIRROR overrides the host configuration', async () => {
    writeFileSync(path.join(dir, 'sources.list'), 'deb http://list-mirror.example/debian bookworm main\n');
    expect(await resolveMirror({ BOOTLUN_VM_MIRROR: 'http://override.example/debian' })).toMatchObject({ code: 0, stdout: 'http://override.example/debian' });
  });

  it('stops with a reason when the host has no source for the suite', async () => {
    writeFileSync(path.join(dir, 'sources.list'), 'deb http://list-mirror.example/debian trixie main\n');
    const result = await resolveMirror();
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/no apt source for Debian bookworm main on this host.*BOOTLUN_VM_MIRROR/);
  });
});
