import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseRtslibDump } from './lio.parse';
import { chapDigest, dumpScript, type DumpRequest } from './rtslib-dump';

/**
 * Runs the real rtslib-dump.py against a stand-in rtslib_fb module that serves
 * test/fixtures/lio/saveconfig.json as the live configuration. Needs python3 (fails, never skips, without it).
 */
const FIXTURES = path.join(__dirname, '../../../../test/fixtures/lio');
const WORLD = path.join(FIXTURES, 'saveconfig.json');
const KEY = '11'.repeat(32);

function runDump(request: Omit<DumpRequest, 'hmacKey'>): string {
  // Without -I here: the stand-in module is found through PYTHONPATH.
  const result = spawnSync('python3', ['-'], {
    input: dumpScript({ ...request, hmacKey: KEY }),
    env: { ...process.env, PYTHONPATH: path.join(FIXTURES, 'fake-rtslib'), FAKE_RTSLIB_WORLD: WORLD, PYTHONDONTWRITEBYTECODE: '1' },
    encoding: 'utf8',
  });
  if (result.error) throw new Error(`python3 is needed for this test (apt-get install python3): ${result.error.message}`);
  if (result.status !== 0) throw new Error(result.stderr);
  return result.stdout;
}

describe('rtslib-dump.py', () => {
  it('describes iSCSI targets only, with CHAP passwords as digests', () => {
    const stdout = runDump({ storageObjects: true });
    const saved = JSON.parse(readFileSync(WORLD, 'utf8')) as { targets: Array<{ tpgs: Array<{ node_acls?: Array<Record<string, string>> }> }> };
    const passwords = saved.targets.flatMap((t) => t.tpgs.flatMap((tpg) => tpg.node_acls ?? [])).flatMap((acl) => [acl.chap_password, acl.chap_mutual_password]);
    for (const password of passwords.filter(Boolean)) expect(stdout).not.toContain(password);

    const state = parseRtslibDump(stdout);
    expect(state.targets.map((t) => t.iqn)).toEqual(['iqn.2025-01.org.example.boot:web01', 'iqn.2025-01.org.example.boot:db02']);
    const db02 = state.targets[1]?.tpgs[0];
    expect(db02?.portals).toEqual([{ ip: '[2001:db8::10]', port: 3260 }]);
    expect(db02?.acls[0]).toEqual({
      initiator: 'iqn.2025-01.org.example.node:52-54-00-ab-cd-ef',
      mappedLuns: [{ index: 0, tpgLun: 0, writeProtect: false }],
      chapUserid: 'bl0d4f3b529a1c',
      chapPasswordDigest: chapDigest(KEY, 'Another5ecretQrs'),
      chapMutualUserid: 'bt0d4f3b529a1c',
      chapMutualPasswordDigest: chapDigest(KEY, 'MutualSecret9xyz'),
    });
    // The hand-made dump fixtures agree with what the script prints for the same configuration.
    const fixture = parseRtslibDump(readFileSync(path.join(FIXTURES, 'dump-fileio-assigned-chap.json'), 'utf8'));
    expect(state.targets[0]).toEqual(fixture.targets[0]);
    expect(state.storageObjects?.[0]).toEqual(fixture.storageObjects?.[0]);
    // An attribute or size rtslib cannot read comes back as null instead of failing the read.
    expect(state.storageObjects?.find((so) => so.plugin === 'block')?.sizeBytes).toBeNull();
  });

  it('narrows to the asked targets and reads the saved file', () => {
    const one = parseRtslibDump(runDump({ wwns: ['iqn.2025-01.org.example.boot:db02'], storageObjects: false }));
    expect(one.targets.map((t) => t.iqn)).toEqual(['iqn.2025-01.org.example.boot:db02']);
    expect(one.storageObjects).toBeUndefined();

    const byPrefix = parseRtslibDump(runDump({ wwnPrefix: 'iqn.2025-01.org.example.boot:web', storageObjects: false, saveconfigPath: WORLD }));
    expect(byPrefix.targets.map((t) => t.iqn)).toEqual(['iqn.2025-01.org.example.boot:web01']);
    expect(byPrefix.savedTargets).toEqual(['iqn.2025-01.org.example.boot:db02', 'iqn.2025-01.org.example.boot:web01']);

    const missing = parseRtslibDump(runDump({ wwns: [], storageObjects: false, saveconfigPath: '/nonexistent/saveconfig.json' }));
    expect(missing.savedTargets).toBeNull();
  });

  it('puts only the interpreter in argv and the parameters in the script', () => {
    const script = dumpScript({ wwns: ['iqn.2025-01.org.example.boot:web01'], storageObjects: true, hmacKey: KEY });
    const [first] = script.split('\n');
    expect(first).toMatch(/^PARAMS_B64 = "[A-Za-z0-9+/=]+"$/);
    const params = JSON.parse(Buffer.from(first?.split('"')[1] ?? '', 'base64').toString('utf8'));
    expect(params).toEqual({ wwns: ['iqn.2025-01.org.example.boot:web01'], wwn_prefix: null, storage_objects: true, saveconfig_path: null, hmac_key: KEY });
  });
});
