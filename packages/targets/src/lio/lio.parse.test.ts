import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseRtslibDump } from './lio.parse';
import { findTarget, toObservedTarget } from './lio.state';

const fixture = (name: string) => readFileSync(path.join(__dirname, '../../../../test/fixtures/lio', name), 'utf8');
const IQN = 'iqn.2025-01.org.example.boot:web01';
const NODE = 'iqn.2025-01.org.example.node:52-54-00-12-34-56';
const SO = 'bootlun-7c9e6679-7425-40de-944b-e07fc1f90ae7';

describe('parseRtslibDump', () => {
  it('reads targets, TPG attributes, portals, LUNs, ACLs and backstores', () => {
    const state = parseRtslibDump(fixture('dump-fileio-assigned-chap.json'));
    expect(state.storageObjects).toEqual([{ plugin: 'fileio', name: SO, udevPath: `/srv/bootlun/${SO}.img`, sizeBytes: 10737418240 }]);
    const tpg = state.targets[0]?.tpgs[0];
    expect(tpg).toMatchObject({
      tag: 1,
      enabled: true,
      attributes: { authentication: '1', generate_node_acls: '0', demo_mode_write_protect: '0' },
      portals: [{ ip: '192.0.2.10', port: 3260 }],
      luns: [{ index: 0, storageObject: { plugin: 'fileio', name: SO } }],
    });
    expect(tpg?.acls).toEqual([
      {
        initiator: NODE,
        mappedLuns: [{ index: 0, tpgLun: 0, writeProtect: false }],
        chapUserid: 'bl7c9e66797425',
        chapPasswordDigest: expect.stringMatching(/^[0-9a-f]{64}$/),
        chapMutualUserid: null,
        chapMutualPasswordDigest: null,
      },
    ]);
  });

  it('maps a target to the contract view, without secrets', () => {
    const state = parseRtslibDump(fixture('dump-fileio-assigned-mutual-chap.json'));
    const target = findTarget(state, IQN);
    expect(target && toObservedTarget(state, target, 0)).toEqual({
      iqn: IQN,
      lunNumber: 0,
      backingPath: `/srv/bootlun/${SO}.img`,
      sizeBytes: 10737418240,
      initiators: [NODE],
      chapUsername: 'bl7c9e66797425',
      mutualChapUsername: 'bt7c9e66797425',
    });
  });

  it('reports no CHAP user while the TPG does not enforce authentication', () => {
    const state = parseRtslibDump(fixture('dump-fileio-assigned-chap.json').replace('"authentication": "1"', '"authentication": "0"'));
    const target = findTarget(state, IQN);
    expect(target && toObservedTarget(state, target, 0).chapUsername).toBeNull();
  });

  it('leaves optional sections absent when the read did not ask for them', () => {
    const state = parseRtslibDump('{"format":"bootlun-rtslib-dump/1","targets":[]}');
    expect(state).toEqual({ targets: [] });
    const saved = parseRtslibDump(`{"format":"bootlun-rtslib-dump/1","targets":[],"saved":{"path":"/x","targets":["${IQN}"]}}`);
    expect(saved.savedTargets).toEqual([IQN]);
  });

  it('rejects anything that is not our dump', () => {
    expect(() => parseRtslibDump('Traceback (most recent call last):')).toThrow('not JSON');
    expect(() => parseRtslibDump('{"format":"other","targets":[]}')).toThrow('unexpected rtslib dump at format');
    expect(() => parseRtslibDump('{"format":"bootlun-rtslib-dump/1","targets":[{"wwn":"x","tpgs":[{"tag":"1"}]}]}')).toThrow(
      /at targets\.0\.tpgs\.0\.tag/,
    );
  });

  it('rejects a dump carrying a plaintext password where a digest belongs', () => {
    const leaky = fixture('dump-fileio-assigned-chap.json').replace(/"chap_password_digest": "[0-9a-f]+"/, '"chap_password_digest": "Sup3rSecretAbcd2"');
    expect(() => parseRtslibDump(leaky)).toThrow('chap_password_digest');
  });
});
