import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync, chmodSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { NodeConfigfs } from './configfs.port';
import { buildSaveconfig, renderSaveconfig, savedSecrets, type JsonObject } from './saveconfig.build';

/**
 * The saveconfig builder on a real LIO tree captured in the storage-host VM (kernel 6.1:
 * a fileio and a block target with CHAP and mutual CHAP, made by this driver), checked
 * against what `targetcli saveconfig` (rtslib-fb 2.1.75) wrote for that same host.
 */

const FIXTURES = path.resolve(__dirname, '../../../../test/fixtures/lio-configfs');
type Captured = { path: string; kind: 'dir' | 'file' | 'link'; mode: number; content: string | null };

let dir: string;
let root: string;

/** Rebuilds the captured tree; links keep configfs's relative form (../../target/core/…), so the root is named `target`. */
function materialize(entries: Captured[]): void {
  for (const e of entries) {
    const p = path.join(root, e.path);
    if (e.kind === 'dir') mkdirSync(p, { recursive: true });
    else if (e.kind === 'link') symlinkSync(e.content!, p);
    else {
      writeFileSync(p, e.content ?? '');
      chmodSync(p, e.mode);
    }
  }
}

const byName = (a: JsonObject, b: JsonObject) => String(a.name).localeCompare(String(b.name));

beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'saveconfig-'));
  root = path.join(dir, 'config', 'target');
  mkdirSync(root, { recursive: true });
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

it('describes a real host exactly as targetcli saveconfig did', async () => {
  materialize(JSON.parse(readFileSync(path.join(FIXTURES, 'tree-fileio-block-chap.json'), 'utf8')));
  const built = await buildSaveconfig(new NodeConfigfs(root));
  const expected = JSON.parse(readFileSync(path.join(FIXTURES, 'saveconfig-targetcli.json'), 'utf8')) as JsonObject;
  // The order of storage objects is configfs's directory order there; restore does not depend on it.
  (built.storage_objects as JsonObject[]).sort(byName);
  (expected.storage_objects as JsonObject[]).sort(byName);
  expect(built).toEqual(expected);
});

it('renders like targetcli: sorted keys, two-space indent, final newline', () => {
  expect(renderSaveconfig({ b: 1, a: { d: [true], c: null } })).toBe('{\n  "a": {\n    "c": null,\n    "d": [\n      true\n    ]\n  },\n  "b": 1\n}\n');
});

it('finds the secrets of a saved document by ACL, TPG and discovery', () => {
  const saved = JSON.parse(readFileSync(path.join(FIXTURES, 'saveconfig-targetcli.json'), 'utf8')) as JsonObject;
  const secrets = savedSecrets(saved);
  expect(secrets.get('acl iqn.2026-12.io.bootlun.cfs:file1 1 iqn.2010-04.org.ipxe:525400000001|chap_password')).toBe('Secret1234567');
  expect(secrets.get('acl iqn.2026-12.io.bootlun.cfs:file1 1 iqn.2010-04.org.ipxe:525400000001|chap_mutual_password')).toBe('Mutual1234567');
  expect(savedSecrets(null).size).toBe(0);
});
