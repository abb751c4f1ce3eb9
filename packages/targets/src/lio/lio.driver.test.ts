import { readFileSync } from 'node:fs';
import path from 'node:path';
import { PermanentTargetError, type DesiredTarget, type StepContext } from '@bootlun/core';
import { RecordingRunner, type CommandResult, type CommandSpec } from '@bootlun/exec';
import { backingFor } from '../backing';
import { LioDriver } from './lio.driver';

/**
 * Command building only: a RecordingRunner answers the rtslib reads with the canned
 * dumps under test/fixtures/lio (before and after each change). Whether LIO really
 * behaves so is for the VM tests.
 */

const fixture = (name: string) => readFileSync(path.join(__dirname, '../../../../test/fixtures', name), 'utf8');
const dump = (name: string) => fixture(`lio/${name}`);

const KEY = '11'.repeat(32);
const ID = '7c9e6679-7425-40de-944b-e07fc1f90ae7';
const SO = `bootlun-${ID}`;
const FILE = `/srv/bootlun/${SO}.img`;
const IQN = 'iqn.2025-01.org.example.boot:web01';
const NEW_IQN = 'iqn.2025-01.org.example.boot:web01-renamed';
const TPG = `/iscsi/${IQN}/tpg1`;
const NODE = 'iqn.2025-01.org.example.node:52-54-00-12-34-56';
const CHAP = { username: 'bl7c9e66797425', secret: 'Sup3rSecretAbcd2' };
const MUTUAL = { username: 'bt7c9e66797425', secret: 'MutualSecret9xyz' };
const SECRETS = [CHAP.secret, MUTUAL.secret];
const TEN_GIB = 10 * 2 ** 30;

const PREFERENCES = [
  'set global loglevel_file=warning',
  'set global auto_save_on_exit=false',
  'set global auto_add_mapped_luns=false',
  'set global auto_add_default_portal=false',
];
/** The stdin of one targetcli batch, as lines. */
const batch = (...lines: string[]) => [...PREFERENCES, ...lines, 'exit'];

const ctx: StepContext = { step: async () => undefined, checkpoint: async () => undefined };

const desired = (over: Partial<DesiredTarget> = {}): DesiredTarget => ({
  iqn: IQN,
  sizeBytes: TEN_GIB,
  backing: backingFor('file', '/srv/bootlun', ID),
  createBacking: true,
  initiators: [NODE],
  chap: null,
  mutualChap: null,
  ...over,
});

type Answer = Partial<Omit<CommandResult, 'argv'>>;
const runners: RecordingRunner[] = [];

/**
 * A storage host: rtslib reads are answered in order from `reads`, LVM's `lvs` from
 * `lvsReports`, and anything else by `others` (default: exit 0, no output).
 */
function host(reads: string[], options: { lvsReports?: string[]; others?: (spec: CommandSpec) => Answer | undefined } = {}) {
  const runner = new RecordingRunner((spec) => {
    if (spec.argv[0] === 'python3') {
      const next = reads.shift();
      if (next === undefined) throw new Error('unexpected extra rtslib read');
      return { stdout: next };
    }
    if (spec.argv[0] === 'lvs') return { stdout: options.lvsReports?.shift() ?? fixture('lvm/lvs-vg0-empty.json') };
    return options.others?.(spec);
  });
  runners.push(runner);
  return runner;
}

function lioDriver(runner: RecordingRunner, type: 'file' | 'block' = 'file') {
  return new LioDriver({
    runner,
    portalIp: '192.0.2.10',
    portalPort: 3260,
    backingstoreType: type,
    backingstorePath: type === 'file' ? '/srv/bootlun' : 'vg0',
    digestKey: () => KEY,
  });
}

const programs = (runner: RecordingRunner) => runner.calls.map((c) => c.argv[0]);
const targetcliBatches = (runner: RecordingRunner) =>
  runner.calls.filter((c) => c.argv.join(' ') === 'targetcli').map((c) => (c.stdin ?? '').split('\n').filter((l) => l !== ''));

afterEach(() => {
  // Checked after every test: secrets never reach argv; LUNs and ACLs never map implicitly.
  for (const runner of runners.splice(0)) {
    for (const call of runner.calls) {
      for (const secret of SECRETS) expect(call.argv.join(' ')).not.toContain(secret);
      for (const line of (call.argv[0] === 'targetcli' ? call.stdin ?? '' : '').split('\n')) {
        if (/\/(acls|luns) create /.test(line)) expect(line).toMatch(/ add_mapped_luns=false$/);
        if (SECRETS.some((s) => line.includes(s))) expect(call.redact).toEqual(expect.arrayContaining(SECRETS.filter((s) => line.includes(s))));
      }
    }
  }
});

describe('LioDriver.converge', () => {
  it('creates a file-backed target: sparse file first, backstore without size, one targetcli batch', async () => {
    const runner = host([dump('dump-empty.json'), dump('dump-fileio-unassigned.json')]);
    const observed = await lioDriver(runner).converge(desired({ initiators: [] }), ctx);

    expect(programs(runner)).toEqual(['python3', 'truncate', 'targetcli', 'python3']);
    expect(runner.calls[1]?.argv).toEqual(['truncate', '--size', `>${TEN_GIB}`, '--', FILE]);
    expect(targetcliBatches(runner)).toEqual([
      [
        'set global loglevel_file=warning',
        'set global auto_save_on_exit=false',
        'set global auto_add_mapped_luns=false',
        'set global auto_add_default_portal=false',
        `/backstores/fileio create name=${SO} file_or_dev=${FILE}`,
        `/iscsi create ${IQN}`,
        `${TPG} set attribute generate_node_acls=0 authentication=0 demo_mode_write_protect=0`,
        `${TPG}/luns create /backstores/fileio/${SO} lun=0 add_mapped_luns=false`,
        `${TPG}/portals create 192.0.2.10 3260`,
        'exit',
      ],
    ]);
    expect(observed).toEqual({
      iqn: IQN,
      lunNumber: 0,
      backingPath: FILE,
      sizeBytes: TEN_GIB,
      initiators: [],
      chapUsername: null,
      mutualChapUsername: null,
    });
  });

  it('creates a block-backed, assigned target: LV first, then one batch', async () => {
    const runner = host([dump('dump-empty.json'), dump('dump-block-assigned.json')], {
      lvsReports: [fixture('lvm/lvs-vg0-empty.json'), fixture('lvm/lvs-vg0.json')],
    });
    await lioDriver(runner, 'block').converge(desired({ backing: backingFor('block', 'vg0', ID) }), ctx);

    expect(programs(runner)).toEqual(['python3', 'lvs', 'lvcreate', 'lvs', 'targetcli', 'python3']);
    expect(runner.commandLines[2]).toBe(`lvcreate --yes --wipesignatures y --zero y --name ${SO} --size 20971520s vg0`);
    expect(targetcliBatches(runner)).toEqual([
      batch(
        `/backstores/block create name=${SO} dev=/dev/vg0/${SO}`,
        `/iscsi create ${IQN}`,
        `${TPG} set attribute generate_node_acls=0 authentication=0 demo_mode_write_protect=0`,
        `${TPG}/luns create /backstores/block/${SO} lun=0 add_mapped_luns=false`,
        `${TPG}/acls create ${NODE} add_mapped_luns=false`,
        `${TPG}/acls/${NODE} create mapped_lun=0 tpg_lun_or_backstore=0`,
        `${TPG}/portals create 192.0.2.10 3260`,
      ),
    ]);
  });

  it('assigns: an ACL for the node only, with an explicit mapped LUN 0', async () => {
    const runner = host([dump('dump-fileio-unassigned.json'), dump('dump-fileio-assigned.json')]);
    const observed = await lioDriver(runner).converge(desired(), ctx);
    expect(programs(runner)).toEqual(['python3', 'targetcli', 'python3']);
    expect(targetcliBatches(runner)).toEqual([
      batch(`${TPG}/acls create ${NODE} add_mapped_luns=false`, `${TPG}/acls/${NODE} create mapped_lun=0 tpg_lun_or_backstore=0`),
    ]);
    expect(observed.initiators).toEqual([NODE]);
  });

  it('unassigns: deletes the ACL', async () => {
    const runner = host([dump('dump-fileio-assigned.json'), dump('dump-fileio-unassigned.json')]);
    await lioDriver(runner).converge(desired({ initiators: [] }), ctx);
    expect(targetcliBatches(runner)).toEqual([batch(`${TPG}/acls delete ${NODE}`)]);
  });

  it('switches CHAP on: TPG authentication and credentials on the ACL, secret on stdin only', async () => {
    const runner = host([dump('dump-fileio-assigned.json'), dump('dump-fileio-assigned-chap.json')]);
    const observed = await lioDriver(runner).converge(desired({ chap: CHAP }), ctx);
    expect(targetcliBatches(runner)).toEqual([
      batch(`${TPG} set attribute authentication=1`, `${TPG}/acls/${NODE} set auth userid=${CHAP.username} password=${CHAP.secret}`),
    ]);
    expect(runner.calls[1]?.argv).toEqual(['targetcli']);
    expect(runner.calls[1]?.redact).toEqual([CHAP.secret]);
    expect(observed.chapUsername).toBe(CHAP.username);
  });

  it('switches CHAP off: authentication=0 and each credential cleared on its own line', async () => {
    const runner = host([dump('dump-fileio-assigned-chap.json'), dump('dump-fileio-assigned.json')]);
    const observed = await lioDriver(runner).converge(desired(), ctx);
    expect(targetcliBatches(runner)).toEqual([
      batch(`${TPG} set attribute authentication=0`, `${TPG}/acls/${NODE} set auth userid=`, `${TPG}/acls/${NODE} set auth password=`),
    ]);
    expect(observed.chapUsername).toBeNull();
  });

  it('adds mutual CHAP without touching the one-way credentials', async () => {
    const runner = host([dump('dump-fileio-assigned-chap.json'), dump('dump-fileio-assigned-mutual-chap.json')]);
    const observed = await lioDriver(runner).converge(desired({ chap: CHAP, mutualChap: MUTUAL }), ctx);
    expect(targetcliBatches(runner)).toEqual([
      batch(`${TPG}/acls/${NODE} set auth mutual_userid=${MUTUAL.username} mutual_password=${MUTUAL.secret}`),
    ]);
    expect(runner.calls[1]?.redact).toEqual([CHAP.secret, MUTUAL.secret]);
    expect(observed.mutualChapUsername).toBe(MUTUAL.username);
  });

  it('drops mutual CHAP back to one-way', async () => {
    const runner = host([dump('dump-fileio-assigned-mutual-chap.json'), dump('dump-fileio-assigned-chap.json')]);
    await lioDriver(runner).converge(desired({ chap: CHAP }), ctx);
    expect(targetcliBatches(runner)).toEqual([
      batch(`${TPG}/acls/${NODE} set auth mutual_userid=`, `${TPG}/acls/${NODE} set auth mutual_password=`),
    ]);
  });

  it('does nothing but read when the host already matches', async () => {
    for (const [state, want] of [
      ['dump-fileio-unassigned.json', desired({ initiators: [] })],
      ['dump-fileio-assigned.json', desired()],
      ['dump-fileio-assigned-chap.json', desired({ chap: CHAP })],
      ['dump-fileio-assigned-mutual-chap.json', desired({ chap: CHAP, mutualChap: MUTUAL })],
      ['dump-block-assigned.json', desired({ backing: backingFor('block', 'vg0', ID) })],
    ] as const) {
      const runner = host([dump(state)]);
      await lioDriver(runner).converge(want, ctx);
      expect(programs(runner)).toEqual(['python3']);
    }
  });

  it('grows a block LV without a targetcli call, then verifies the exported size', async () => {
    const twenty = String(2 * TEN_GIB);
    const grownDump = dump('dump-block-assigned.json').replace(`"size": ${TEN_GIB}`, `"size": ${twenty}`);
    const runner = host([dump('dump-block-assigned.json'), grownDump], {
      lvsReports: [fixture('lvm/lvs-vg0.json'), fixture('lvm/lvs-vg0.json').replace(`"${TEN_GIB}"`, `"${twenty}"`)],
    });
    const observed = await lioDriver(runner, 'block').converge(desired({ backing: backingFor('block', 'vg0', ID), sizeBytes: 2 * TEN_GIB }), ctx);
    expect(programs(runner)).toEqual(['python3', 'lvs', 'lvextend', 'lvs', 'python3']);
    expect(observed.sizeBytes).toBe(2 * TEN_GIB);
  });

  it('refuses to grow a file backstore, which LIO sizes once at creation', async () => {
    const runner = host([dump('dump-fileio-assigned.json')]);
    await expect(lioDriver(runner).converge(desired({ sizeBytes: 2 * TEN_GIB }), ctx)).rejects.toThrow(PermanentTargetError);
    expect(programs(runner)).toEqual(['python3']);
  });

  it('stops before acting when our backstore name points at another file', async () => {
    const runner = host([dump('dump-fileio-assigned.json').replace(FILE, '/srv/elsewhere.img')]);
    await expect(lioDriver(runner).converge(desired(), ctx)).rejects.toThrow(`backstore ${SO} uses /srv/elsewhere.img`);
    expect(programs(runner)).toEqual(['python3']);
  });

  it('trusts only the read-back: names what did not converge, with secrets masked', async () => {
    const said = [
      `Parameter password is now '${CHAP.secret}'.`,
      `Error: could not set ${CHAP.secret} on ACL`,
      `'${NODE}' is not a valid iqn WWN.`,
    ].join('\n');
    const runner = host([dump('dump-fileio-unassigned.json'), dump('dump-fileio-unassigned.json')], {
      others: (spec) => (spec.argv[0] === 'targetcli' ? { stdout: said } : undefined),
    });
    const failure = lioDriver(runner).converge(desired({ chap: CHAP }), ctx);
    await expect(failure).rejects.toThrow(
      `LIO target ${IQN} did not converge: set TPG attributes authentication=1; add ACL ${NODE} with mapped LUN 0; set CHAP credentials on ACL ${NODE}`,
    );
    await expect(failure).rejects.toThrow('(targetcli said: Error: could not set *** on ACL');
    await failure.catch((err: Error) => expect(err.message).not.toContain(CHAP.secret));
  });

  it('fails loudly when targetcli itself cannot run', async () => {
    const runner = host([dump('dump-fileio-unassigned.json')], {
      others: (spec) => (spec.argv[0] === 'targetcli' ? { code: 255, stderr: 'g-io-error-quark: Could not connect' } : undefined),
    });
    await expect(lioDriver(runner).converge(desired(), ctx)).rejects.toThrow(/targetcli exited 255: g-io-error-quark/);
  });

  it('reports a missing rtslib as permanent', async () => {
    const runner = new RecordingRunner(() => ({ code: 1, stderr: "ModuleNotFoundError: No module named 'rtslib'" }));
    await expect(lioDriver(runner).converge(desired(), ctx)).rejects.toThrow('python3-rtslib-fb is not installed');
  });
});

describe('LioDriver rename and delete', () => {
  it('renames: a new target over the same backstore, then the old target removed', async () => {
    const renamedDump = dump('dump-fileio-assigned.json').replaceAll(IQN, NEW_IQN);
    const runner = host([dump('dump-backstore-only.json'), renamedDump, dump('dump-fileio-assigned.json'), dump('dump-backstore-only.json')]);
    const driver = lioDriver(runner);
    await driver.converge(desired({ iqn: NEW_IQN }), ctx);
    await driver.removeTarget(IQN, ctx);

    const NEW_TPG = `/iscsi/${NEW_IQN}/tpg1`;
    expect(programs(runner)).toEqual(['python3', 'targetcli', 'python3', 'python3', 'targetcli', 'python3']);
    expect(targetcliBatches(runner)).toEqual([
      batch(
        `/iscsi create ${NEW_IQN}`,
        `${NEW_TPG} set attribute generate_node_acls=0 authentication=0 demo_mode_write_protect=0`,
        `${NEW_TPG}/luns create /backstores/fileio/${SO} lun=0 add_mapped_luns=false`,
        `${NEW_TPG}/acls create ${NODE} add_mapped_luns=false`,
        `${NEW_TPG}/acls/${NODE} create mapped_lun=0 tpg_lun_or_backstore=0`,
        `${NEW_TPG}/portals create 192.0.2.10 3260`,
      ),
      batch(`/iscsi delete ${IQN}`),
    ]);
  });

  it('deletes a file-backed LUN: target, backstore, then the file', async () => {
    const runner = host([dump('dump-fileio-assigned.json'), dump('dump-backstore-only.json'), dump('dump-backstore-only.json'), dump('dump-empty.json')]);
    const driver = lioDriver(runner);
    await driver.removeTarget(IQN, ctx);
    await driver.removeBacking(backingFor('file', '/srv/bootlun', ID), ctx);

    expect(targetcliBatches(runner)).toEqual([batch(`/iscsi delete ${IQN}`), batch(`/backstores/fileio delete ${SO}`)]);
    expect(runner.commandLines.at(-1)).toBe(`rm -f -- ${FILE}`);
  });

  it('deletes a block-backed LUN: backstore, then lvremove', async () => {
    const blockOnly = dump('dump-block-assigned.json').replace(/"targets": \[[\s\S]*\]\s*}\s*$/, '"targets": []}');
    const runner = host([blockOnly, dump('dump-empty.json')]);
    await lioDriver(runner, 'block').removeBacking(backingFor('block', 'vg0', ID), ctx);
    expect(targetcliBatches(runner)).toEqual([batch(`/backstores/block delete ${SO}`)]);
    expect(runner.commandLines.at(-1)).toBe(`lvremove --yes vg0/${SO}`);
  });

  it('treats an absent target or backstore as removed', async () => {
    const runner = host([dump('dump-empty.json'), dump('dump-empty.json')]);
    const driver = lioDriver(runner);
    await driver.removeTarget(IQN, ctx);
    await driver.removeBacking(backingFor('file', '/srv/bootlun', ID), ctx);
    expect(programs(runner)).toEqual(['python3', 'python3', 'rm']);
  });

  it('fails when the target is still there after the delete', async () => {
    const runner = host([dump('dump-fileio-assigned.json'), dump('dump-fileio-assigned.json')]);
    await expect(lioDriver(runner).removeTarget(IQN, ctx)).rejects.toThrow(`LIO target ${IQN} is still present after delete`);
  });
});

describe('LioDriver listing and persistence', () => {
  it('lists targets under a prefix with what the contract needs', async () => {
    const runner = host([dump('dump-fileio-assigned-chap.json')]);
    const targets = await lioDriver(runner).listTargets('iqn.2025-01.org.example.boot:');
    expect(targets).toEqual([
      { iqn: IQN, lunNumber: 0, backingPath: FILE, sizeBytes: TEN_GIB, initiators: [NODE], chapUsername: CHAP.username, mutualChapUsername: null },
    ]);
  });

  it('lists our backing files and our LVs only, with their sizes', async () => {
    const files = host([], {
      others: (spec) => {
        if (spec.argv[0] === 'find') return { stdout: `${SO}.img\nbootlun-other.img\n` };
        // A file that vanished between find and stat is left out.
        if (spec.argv[0] === 'stat') return { code: 1, stdout: `1073741824 /srv/bootlun/${SO}.img\n`, stderr: "stat: cannot statx '/srv/bootlun/bootlun-other.img': No such file or directory\n" };
        return undefined;
      },
    });
    expect(await lioDriver(files).listBackings()).toEqual([{ backing: { kind: 'file', path: '/srv/bootlun/bootlun-7c9e6679-7425-40de-944b-e07fc1f90ae7.img' }, sizeBytes: 1024 ** 3 }]);
    expect(files.calls[0]?.argv).toEqual(['find', '/srv/bootlun', '-maxdepth', '1', '-type', 'f', '-name', 'bootlun-*.img', '-printf', '%f\\n']);
    expect(files.calls[1]?.argv).toEqual(['stat', '--format=%s %n', '--', `/srv/bootlun/${SO}.img`, '/srv/bootlun/bootlun-other.img']);

    const volumes = host([], { lvsReports: [fixture('lvm/lvs-vg0.json')] });
    expect((await lioDriver(volumes, 'block').listBackings()).map((s) => s.backing)).toEqual([
      { kind: 'block', volumeGroup: 'vg0', volumeName: SO },
      { kind: 'block', volumeGroup: 'vg0', volumeName: 'bootlun-0d4f3b52-9a1c-4e57-8f0e-6b2d9c7e1f30' },
    ]);
    expect((await lioDriver(volumes, 'block').listBackings()).every((s) => s.sizeBytes > 0)).toBe(true);
  });

  const withSaved = (saved: string[] | null) => {
    const state = JSON.parse(dump('dump-fileio-assigned.json')) as Record<string, unknown>;
    return JSON.stringify({ ...state, saved: { path: '/etc/rtslib-fb-target/saveconfig.json', targets: saved } });
  };

  it('persists with one saveconfig and checks the saved file lists the live targets', async () => {
    const runner = host([withSaved([IQN])]);
    await lioDriver(runner).persist();
    expect(runner.commandLines).toEqual(['targetcli saveconfig', 'python3 -I -']);
    expect(runner.calls[1]?.stdin).toContain('PARAMS_B64');
  });

  it('fails persist when the saved file disagrees with the live configuration', async () => {
    await expect(lioDriver(host([withSaved([])])).persist()).rejects.toThrow(`not saved: ${IQN}`);
    await expect(lioDriver(host([withSaved([IQN, NEW_IQN])])).persist()).rejects.toThrow(`saved but gone: ${NEW_IQN}`);
    await expect(lioDriver(host([withSaved(null)])).persist()).rejects.toThrow('did not write /etc/rtslib-fb-target/saveconfig.json');
    const failing = host([], { others: () => ({ code: 1, stderr: 'Could not write saveconfig' }) });
    await expect(lioDriver(failing).persist()).rejects.toThrow('targetcli saveconfig exited 1');
  });

  it('with an IQN prefix, persist judges only its own backend\'s targets (another worker may share the host)', async () => {
    const scoped = (runner: RecordingRunner) => new LioDriver({ runner, portalIp: '192.0.2.10', portalPort: 3260, backingstoreType: 'file', backingstorePath: '/srv/bootlun', iqnPrefix: 'iqn.2025-01.org.example.boot:' });
    await expect(scoped(host([withSaved([IQN, 'iqn.2025-01.org.other:gone'])])).persist()).resolves.toBeUndefined();
    await expect(scoped(host([withSaved([IQN, NEW_IQN])])).persist()).rejects.toThrow(`saved but gone: ${NEW_IQN}`);
  });
});
