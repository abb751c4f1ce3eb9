import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, truncateSync, utimesSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PermanentTargetError, type DesiredTarget, type StepContext } from '@bootlun/core';
import { RecordingRunner } from '@bootlun/exec';
import { STALE_TEMP_MS } from '../atomic-file';
import { backingFor } from '../backing';
import { FakeConfigfs } from './configfs.fake';
import { LioConfigfsDriver } from './lio-configfs.driver';

/**
 * The configfs driver against a directory tree that behaves like the kernel's configfs
 * (configfs.fake.ts, built from a tree captured in the storage-host VM). What LIO itself
 * then does with these files (logins, CHAP, restore at boot) is proven in the VM suite.
 */

const ID = '7c9e6679-7425-40de-944b-e07fc1f90ae7';
const SO = `bootlun-${ID}`;
const IQN = 'iqn.2025-01.org.example.boot:web01';
const TPG = `iscsi/${IQN}/tpgt_1`;
const NODE = 'iqn.2025-01.org.example.node:52-54-00-12-34-56';
const OTHER = 'iqn.2025-01.org.example.node:52-54-00-aa-bb-cc';
const CHAP = { username: 'bl7c9e66797425', secret: 'Sup3rSecretAbcd2' };
const MUTUAL = { username: 'bt7c9e66797425', secret: 'MutualSecret9xyz' };
const GiB = 2 ** 30;

const ctx: StepContext = { step: async () => undefined, checkpoint: async () => undefined };

let dir: string;
let cfs: FakeConfigfs;
let files: string;
let saveconfig: string;
let counter = 0;

function driver(over: { runner?: RecordingRunner; type?: 'file' | 'block'; warn?: (m: string) => void } = {}) {
  return new LioConfigfsDriver({
    runner: over.runner ?? new RecordingRunner(),
    portalIp: '10.0.2.15',
    portalPort: 3260,
    backingstoreType: over.type ?? 'file',
    backingstorePath: over.type === 'block' ? 'vg0' : files,
    iqnPrefix: 'iqn.2025-01.org.example.boot:',
    configfs: cfs,
    sysfsRoot: path.join(dir, 'sys'),
    saveconfigPath: saveconfig,
    random: () => `00000000-0000-4000-8000-${String(++counter).padStart(12, '0')}`,
    warn: over.warn,
  });
}

const desired = (over: Partial<DesiredTarget> = {}): DesiredTarget => ({
  iqn: IQN,
  sizeBytes: GiB,
  backing: backingFor('file', files, ID),
  createBacking: true,
  initiators: [NODE],
  chap: CHAP,
  mutualChap: MUTUAL,
  ...over,
});

const read = (rel: string) => readFileSync(path.join(cfs.root, rel), 'utf8').trim();
const link = (rel: string) => {
  const d = path.join(cfs.root, rel);
  const name = readdirSync(d).find((n) => lstatSync(path.join(d, n)).isSymbolicLink());
  return name ? path.relative(cfs.root, path.resolve(d, readlinkSync(path.join(d, name)))) : null;
};

beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'lio-configfs-'));
  files = path.join(dir, 'files');
  mkdirSync(files);
  mkdirSync(path.join(dir, 'etc'));
  saveconfig = path.join(dir, 'etc', 'saveconfig.json');
  cfs = new FakeConfigfs(path.join(dir, 'config', 'target'), { sysfsRoot: path.join(dir, 'sys'), blockDevices: new Map([[`/dev/vg0/${SO}`, 2 * GiB]]) });
});

afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('converge on an empty host', () => {
  it('builds backstore, target, locked-down TPG, LUN 0, one ACL with CHAP and mutual CHAP, portal; reports it', async () => {
    const observed = await driver().converge(desired(), ctx);

    const file = path.join(files, `${SO}.img`);
    expect(statSync(file).size).toBe(GiB);
    expect(statSync(file).blocks).toBe(0); // sparse: nothing written
    expect(read(`core/fileio_0/${SO}/enable`)).toBe('1');
    expect(read(`core/fileio_0/${SO}/udev_path`)).toBe(file);
    expect(read(`core/fileio_0/${SO}/info`)).toContain(`File: ${file}  Size: ${GiB}`);
    expect(read(`core/fileio_0/${SO}/wwn/vpd_unit_serial`)).toMatch(/Number: 00000000-0000-4000-8000-\d{12}$/);

    expect(read(`${TPG}/enable`)).toBe('1');
    expect(read(`${TPG}/attrib/generate_node_acls`)).toBe('0');
    expect(read(`${TPG}/attrib/demo_mode_write_protect`)).toBe('0');
    expect(read(`${TPG}/attrib/authentication`)).toBe('1');
    expect(readdirSync(path.join(cfs.root, TPG, 'np'))).toEqual(['10.0.2.15:3260']);
    expect(link(`${TPG}/lun/lun_0`)).toBe(`core/fileio_0/${SO}`);
    expect(readdirSync(path.join(cfs.root, TPG, 'acls'))).toEqual([NODE]);
    expect(link(`${TPG}/acls/${NODE}/lun_0`)).toBe(`${TPG}/lun/lun_0`);
    expect(read(`${TPG}/acls/${NODE}/lun_0/write_protect`)).toBe('0');
    expect(read(`${TPG}/acls/${NODE}/auth/userid`)).toBe(CHAP.username);
    expect(read(`${TPG}/acls/${NODE}/auth/password`)).toBe(CHAP.secret);
    expect(read(`${TPG}/acls/${NODE}/auth/userid_mutual`)).toBe(MUTUAL.username);
    expect(read(`${TPG}/acls/${NODE}/auth/password_mutual`)).toBe(MUTUAL.secret);

    expect(observed).toEqual({
      iqn: IQN,
      lunNumber: 0,
      backingPath: file,
      sizeBytes: GiB,
      initiators: [NODE],
      chapUsername: CHAP.username,
      mutualChapUsername: MUTUAL.username,
    });
  });

  it('never opens access early: lockdown before the LUN, CHAP before the mapping, the portal last', async () => {
    await driver().converge(desired(), ctx);
    const at = (prefix: string) => cfs.calls.findIndex((c) => c.startsWith(prefix));
    expect(at(`write ${TPG}/attrib/generate_node_acls`)).toBeLessThan(at(`mkdir ${TPG}/lun/lun_0`));
    expect(at(`write ${TPG}/attrib/authentication`)).toBeLessThan(at(`mkdir ${TPG}/lun/lun_0`));
    expect(at(`write ${TPG}/acls/${NODE}/auth/password`)).toBeLessThan(at(`symlink ${TPG}/acls/${NODE}/lun_0/`));
    expect(at(`mkdir ${TPG}/np/`)).toBe(cfs.calls.length - 1);
    // The port records paths only: a secret never reaches anything that could be logged.
    expect(cfs.calls.join('\n')).not.toContain(CHAP.secret);
  });

  it('writes nothing the second time', async () => {
    const d = driver();
    await d.converge(desired(), ctx);
    const before = cfs.calls.length;
    await driver().converge(desired({ createBacking: false }), ctx);
    expect(cfs.calls.slice(before).filter((c) => !c.startsWith('read'))).toEqual([]);
  });

  it('takes the lowest HBA index no plugin uses, like rtslib', async () => {
    await cfs.mkdir('core/fileio_0');
    await cfs.mkdir('core/iblock_1');
    await driver().converge(desired(), ctx);
    expect(existsSync(path.join(cfs.root, `core/fileio_2/${SO}`))).toBe(true);
  });
});

describe('drift', () => {
  it('repairs what targetcli defaults or a hand edit left: wildcard portal, generated ACLs, stranger ACL, wrong secret, extra LUN', async () => {
    await driver().converge(desired(), ctx);
    await cfs.mkdir(`${TPG}/np/0.0.0.0:3260`);
    await cfs.write(`${TPG}/attrib/generate_node_acls`, '1');
    await cfs.write(`${TPG}/attrib/demo_mode_write_protect`, '1');
    await cfs.mkdir(`${TPG}/acls/${OTHER}`);
    await cfs.mkdir(`${TPG}/acls/${OTHER}/lun_0`);
    await cfs.symlink(`${TPG}/lun/lun_0`, `${TPG}/acls/${OTHER}/lun_0/x`);
    await cfs.write(`${TPG}/acls/${NODE}/auth/password`, 'SomebodyElses1');
    await cfs.mkdir(`${TPG}/lun/lun_7`);

    await driver().converge(desired({ createBacking: false }), ctx);

    expect(readdirSync(path.join(cfs.root, TPG, 'np'))).toEqual(['10.0.2.15:3260']);
    expect(read(`${TPG}/attrib/generate_node_acls`)).toBe('0');
    expect(read(`${TPG}/attrib/demo_mode_write_protect`)).toBe('0');
    expect(readdirSync(path.join(cfs.root, TPG, 'acls'))).toEqual([NODE]);
    expect(readdirSync(path.join(cfs.root, TPG, 'lun'))).toEqual(['lun_0']);
    expect(read(`${TPG}/acls/${NODE}/auth/password`)).toBe(CHAP.secret);
  });

  it('rebuilds a backstore a crash left half made (created, never enabled)', async () => {
    await cfs.mkdir('core/fileio_0');
    await cfs.mkdir(`core/fileio_0/${SO}`);
    await driver().converge(desired(), ctx);
    expect(read(`core/fileio_0/${SO}/enable`)).toBe('1');
    expect(link(`${TPG}/lun/lun_0`)).toBe(`core/fileio_0/${SO}`);
  });

  it('finishes a target a crash left without LUN link, mapping link or portal', async () => {
    await driver().converge(desired(), ctx);
    await cfs.unlink(`${TPG}/acls/${NODE}/lun_0/${readdirSync(path.join(cfs.root, TPG, 'acls', NODE, 'lun_0')).find((n) => n !== 'write_protect' && n !== 'statistics')}`);
    await cfs.rmdir(`${TPG}/np/10.0.2.15:3260`);
    await driver().converge(desired({ createBacking: false }), ctx);
    expect(link(`${TPG}/acls/${NODE}/lun_0`)).toBe(`${TPG}/lun/lun_0`);
    expect(readdirSync(path.join(cfs.root, TPG, 'np'))).toEqual(['10.0.2.15:3260']);
  });

  it('stops at a backstore with our name over another file: that is somebody\'s disk', async () => {
    const other = path.join(files, 'other.img');
    writeFileSync(other, '');
    truncateSync(other, GiB);
    await cfs.mkdir('core/fileio_0');
    await cfs.mkdir(`core/fileio_0/${SO}`);
    await cfs.write(`core/fileio_0/${SO}/control`, `fd_dev_name=${other},fd_dev_size=${GiB}`);
    await cfs.write(`core/fileio_0/${SO}/udev_path`, other);
    await cfs.write(`core/fileio_0/${SO}/enable`, '1');
    await expect(driver().converge(desired(), ctx)).rejects.toThrow(PermanentTargetError);
  });
});

describe('changes', () => {
  it('CHAP off: credentials cleared the way rtslib clears them (NULL), authentication=0', async () => {
    await driver().converge(desired(), ctx);
    const observed = await driver().converge(desired({ chap: null, mutualChap: null, createBacking: false }), ctx);
    expect(read(`${TPG}/attrib/authentication`)).toBe('0');
    for (const f of ['userid', 'password', 'userid_mutual', 'password_mutual']) expect(read(`${TPG}/acls/${NODE}/auth/${f}`)).toBe('NULL');
    expect(observed.chapUsername).toBeNull();
  });

  it('unassign removes the ACL with its mapping; assign to another node adds only that one', async () => {
    await driver().converge(desired(), ctx);
    await driver().converge(desired({ initiators: [], createBacking: false }), ctx);
    expect(readdirSync(path.join(cfs.root, TPG, 'acls'))).toEqual([]);
    const observed = await driver().converge(desired({ initiators: [OTHER], createBacking: false }), ctx);
    expect(observed.initiators).toEqual([OTHER]);
  });

  it('refuses to recreate a lost backing file, and writes nothing to configfs', async () => {
    await expect(driver().converge(desired({ createBacking: false }), ctx)).rejects.toThrow(/refusing to replace it/);
    expect(cfs.calls).toEqual([]);
  });

  it('refuses to grow a fileio backstore in place', async () => {
    await driver().converge(desired(), ctx);
    await expect(driver().converge(desired({ sizeBytes: 2 * GiB, createBacking: false }), ctx)).rejects.toThrow(/cannot grow a file backstore/);
  });

  it('rejects a secret the kernel and targetcli would not take, without echoing it', async () => {
    const bad = { username: 'u1', secret: 'has space here' };
    await expect(driver().converge(desired({ chap: bad }), ctx)).rejects.toThrow(expect.objectContaining({ message: expect.not.stringContaining(bad.secret) }));
  });
});

describe('remove', () => {
  it('removeTarget takes the whole target, keeps the backstore; removeBacking then takes backstore, HBA and file', async () => {
    const d = driver();
    await d.converge(desired(), ctx);
    await d.removeTarget(IQN, ctx);
    expect(readdirSync(path.join(cfs.root, 'iscsi')).filter((n) => n.startsWith('iqn.'))).toEqual([]);
    expect(existsSync(path.join(cfs.root, `core/fileio_0/${SO}`))).toBe(true);
    await d.removeTarget(IQN, ctx); // not found is success

    await d.removeBacking(backingFor('file', files, ID), ctx);
    expect(readdirSync(path.join(cfs.root, 'core'))).toEqual(['alua']);
    expect(existsSync(path.join(files, `${SO}.img`))).toBe(false);
    await d.removeBacking(backingFor('file', files, ID), ctx);
  });

  it('lists our targets by prefix and our backing files with sizes', async () => {
    const d = driver();
    await d.converge(desired(), ctx);
    expect((await d.listTargets('iqn.2025-01.org.example.boot:')).map((t) => t.iqn)).toEqual([IQN]);
    expect(await d.listTargets('iqn.2025-01.org.example.other:')).toEqual([]);
    expect(await d.listBackings()).toEqual([{ backing: { kind: 'file', path: path.join(files, `${SO}.img`) }, sizeBytes: GiB }]);
  });
});

describe('block backstores', () => {
  function lvm() {
    let created = false;
    return new RecordingRunner((spec) => {
      if (spec.argv[0] === 'lvcreate') created = true;
      if (spec.argv[0] === 'lvs') {
        const lv = created ? [{ lv_name: SO, vg_name: 'vg0', lv_size: String(2 * GiB), lv_path: `/dev/vg0/${SO}` }] : [];
        return { stdout: JSON.stringify({ report: [{ lv }] }) };
      }
      return undefined;
    });
  }

  it('creates the LV through LVM, then an iblock backstore on it (udev_path, readonly=0, enable) with its real size', async () => {
    const runner = lvm();
    const observed = await driver({ runner, type: 'block' }).converge(desired({ backing: backingFor('block', 'vg0', ID), sizeBytes: 2 * GiB }), ctx);
    expect(runner.commandLines.some((l) => l.startsWith('lvcreate'))).toBe(true);
    expect(read(`core/iblock_0/${SO}/udev_path`)).toBe(`/dev/vg0/${SO}`);
    expect(read(`core/iblock_0/${SO}/info`)).toContain('readonly: 0');
    expect(observed.sizeBytes).toBe(2 * GiB);
    expect(observed.backingPath).toBe(`/dev/vg0/${SO}`);
  });

  it('grows the LV and reports the size LIO now exports, with no configfs write', async () => {
    let size = 2 * GiB;
    const runner = new RecordingRunner((spec) => {
      if (spec.argv[0] === 'lvextend') {
        size = 4 * GiB;
        // What the kernel shows once the device-mapper table grew.
        writeFileSync(path.join(dir, 'sys/class/block/dm-0/size'), `${size / 512}\n`);
      }
      if (spec.argv[0] === 'lvs') return { stdout: JSON.stringify({ report: [{ lv: [{ lv_name: SO, vg_name: 'vg0', lv_size: String(size), lv_path: `/dev/vg0/${SO}` }] }] }) };
      return undefined;
    });
    const block = (sizeBytes: number) => desired({ backing: backingFor('block', 'vg0', ID), sizeBytes, createBacking: false });
    await driver({ runner, type: 'block' }).converge(block(2 * GiB), ctx);
    const writes = cfs.calls.length;
    const observed = await driver({ runner, type: 'block' }).converge(block(4 * GiB), ctx);
    expect(runner.commandLines.some((l) => l.startsWith('lvextend'))).toBe(true);
    expect(observed.sizeBytes).toBe(4 * GiB);
    expect(cfs.calls.slice(writes)).toEqual([]);
  });
});

describe('persist', () => {
  it('writes every object on the host (ours and a stranger\'s) as targetctl reads it, 0600, atomically, and checks it', async () => {
    const d = driver();
    await d.converge(desired(), ctx);
    // Somebody else's target on the same host, made by hand: it must survive our save.
    const foreign = 'iqn.2003-01.org.linux-iscsi.host:sn.abc';
    await cfs.mkdir(`iscsi/${foreign}`);
    await cfs.mkdir(`iscsi/${foreign}/tpgt_1`);
    await d.persist();

    expect(statSync(saveconfig).mode & 0o777).toBe(0o600);
    expect(readdirSync(path.dirname(saveconfig))).toEqual(['saveconfig.json']);
    const saved = JSON.parse(readFileSync(saveconfig, 'utf8'));
    expect(saved.targets.map((t: { wwn: string }) => t.wwn).sort()).toEqual([foreign, IQN]);
    const ours = saved.targets.find((t: { wwn: string }) => t.wwn === IQN);
    const tpg = ours.tpgs[0];
    expect(tpg).toMatchObject({ tag: 1, enable: true, attributes: expect.objectContaining({ authentication: 1, generate_node_acls: 0, demo_mode_write_protect: 0 }) });
    expect(tpg.portals).toEqual([{ ip_address: '10.0.2.15', iser: false, offload: false, port: 3260 }]);
    expect(tpg.luns).toEqual([expect.objectContaining({ index: 0, storage_object: `/backstores/fileio/${SO}`, alua_tg_pt_gp_name: expect.anything() })]);
    expect(tpg.node_acls).toEqual([
      expect.objectContaining({
        node_wwn: NODE,
        mapped_luns: [expect.objectContaining({ index: 0, tpg_lun: 0, write_protect: false })],
        chap_userid: CHAP.username,
        chap_password: CHAP.secret,
        chap_mutual_userid: MUTUAL.username,
        chap_mutual_password: MUTUAL.secret,
      }),
    ]);
    expect(saved.storage_objects).toEqual([
      expect.objectContaining({ plugin: 'fileio', name: SO, dev: path.join(files, `${SO}.img`), size: GiB, write_back: false, aio: false }),
    ]);
  });

  it('keeps passwords the kernel will not show from what this process set, then from the previous file', async () => {
    const d = driver();
    await d.converge(desired(), ctx);
    await d.persist();
    // A kernel that hides passwords (and a worker that restarted: nothing in memory).
    const originalRead = cfs.read.bind(cfs);
    cfs.read = async (file: string) => {
      if (/\/auth\/password/.test(file)) throw Object.assign(new Error('EPERM'), { code: 'EPERM' });
      return originalRead(file);
    };
    const warnings: string[] = [];
    await driver({ warn: (m) => warnings.push(m) }).persist();
    const acl = JSON.parse(readFileSync(saveconfig, 'utf8')).targets[0].tpgs[0].node_acls[0];
    expect(acl.chap_password).toBe(CHAP.secret);
    expect(acl.chap_mutual_password).toBe(MUTUAL.secret);
    expect(warnings).toEqual([]);
  });

  it('replaces the file by rename, never rewriting it in place, and clears temp files a killed write left', async () => {
    const d = driver();
    await d.converge(desired(), ctx);
    await d.persist();
    const first = statSync(saveconfig).ino;
    // What a worker killed between open and rename leaves: a partial temp file holding secrets,
    // older than any write in progress (another backend's worker on the host may be writing its own).
    const leftover = path.join(path.dirname(saveconfig), '.saveconfig.json.deadbeef0000.tmp');
    writeFileSync(leftover, '{"partial":');
    const past = (Date.now() - STALE_TEMP_MS - 1_000) / 1000;
    utimesSync(leftover, past, past);
    await d.persist();
    // A reader that had the old file open keeps a whole old document; the path names a whole new one.
    expect(statSync(saveconfig).ino).not.toBe(first);
    expect(() => JSON.parse(readFileSync(saveconfig, 'utf8'))).not.toThrow();
    expect(readdirSync(path.dirname(saveconfig))).toEqual(['saveconfig.json']);
  });
});
