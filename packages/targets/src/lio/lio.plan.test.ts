import { readFileSync } from 'node:fs';
import path from 'node:path';
import { PermanentTargetError, type DesiredTarget } from '@bootlun/core';
import { backingFor } from '../backing';
import { parseRtslibDump } from './lio.parse';
import { backstoreConflict, lioTargetSpec, planTarget, sizeShortfall, storageObjectName } from './lio.plan';

const fixture = (name: string) => readFileSync(path.join(__dirname, '../../../../test/fixtures/lio', name), 'utf8');
const state = (name: string) => parseRtslibDump(fixture(name));

const KEY = '11'.repeat(32);
const ID = '7c9e6679-7425-40de-944b-e07fc1f90ae7';
const SO = `bootlun-${ID}`;
const IQN = 'iqn.2025-01.org.example.boot:web01';
const TPG = `/iscsi/${IQN}/tpg1`;
const NODE = 'iqn.2025-01.org.example.node:52-54-00-12-34-56';
const STRANGER = 'iqn.1993-08.org.debian:01:5d3f2a9b7c1e';
const CHAP = { username: 'bl7c9e66797425', secret: 'Sup3rSecretAbcd2' };
const MUTUAL = { username: 'bt7c9e66797425', secret: 'MutualSecret9xyz' };
const PORTAL = { ip: '192.0.2.10', port: 3260 };

const spec = (over: Partial<DesiredTarget> = {}) =>
  lioTargetSpec(
    { iqn: IQN, sizeBytes: 10 * 2 ** 30, backing: backingFor('file', '/srv/bootlun', ID), createBacking: true, initiators: [NODE], chap: null, mutualChap: null, ...over },
    PORTAL,
  );
const lines = (steps: { lines: string[] }[]) => steps.flatMap((s) => s.lines);

describe('planTarget', () => {
  it('builds a whole target on an empty host, locking the TPG down before the portal opens', () => {
    const steps = planTarget(spec({ chap: CHAP }), state('dump-empty.json'), KEY);
    expect(lines(steps)).toEqual([
      `/backstores/fileio create name=${SO} file_or_dev=/srv/bootlun/${SO}.img`,
      `/iscsi create ${IQN}`,
      `${TPG} set attribute generate_node_acls=0 authentication=1 demo_mode_write_protect=0`,
      `${TPG}/luns create /backstores/fileio/${SO} lun=0 add_mapped_luns=false`,
      `${TPG}/acls create ${NODE} add_mapped_luns=false`,
      `${TPG}/acls/${NODE} create mapped_lun=0 tpg_lun_or_backstore=0`,
      `${TPG}/acls/${NODE} set auth userid=bl7c9e66797425 password=Sup3rSecretAbcd2`,
      `${TPG}/portals create 192.0.2.10 3260`,
    ]);
    expect(steps.map((s) => s.description).join('\n')).not.toContain(CHAP.secret);
  });

  it('is empty for every state that already matches', () => {
    expect(planTarget(spec({ initiators: [] }), state('dump-fileio-unassigned.json'), KEY)).toEqual([]);
    expect(planTarget(spec(), state('dump-fileio-assigned.json'), KEY)).toEqual([]);
    expect(planTarget(spec({ chap: CHAP }), state('dump-fileio-assigned-chap.json'), KEY)).toEqual([]);
    expect(planTarget(spec({ chap: CHAP, mutualChap: MUTUAL }), state('dump-fileio-assigned-mutual-chap.json'), KEY)).toEqual([]);
    const block = spec({ backing: backingFor('block', 'vg0', ID) });
    expect(planTarget(block, state('dump-block-assigned.json'), KEY)).toEqual([]);
  });

  it('repairs targetcli defaults: wildcard portal, generated ACLs, auto-mapped LUNs, strangers', () => {
    const steps = planTarget(spec(), state('dump-drift.json'), KEY);
    expect(lines(steps)).toEqual([
      `${TPG}/portals delete 0.0.0.0 3260`,
      `${TPG} set attribute generate_node_acls=0 demo_mode_write_protect=0`,
      `${TPG}/luns delete 1`,
      `${TPG}/acls delete ${STRANGER}`,
      `${TPG}/portals create 192.0.2.10 3260`,
    ]);
  });

  it('re-exports LUN 0 and re-maps it when LUN 0 points at another backstore', () => {
    const wrong = fixture('dump-fileio-assigned.json').replace(`"name": "${SO}"\n              }`, '"name": "scratch"\n              }');
    expect(lines(planTarget(spec(), parseRtslibDump(wrong), KEY))).toEqual([
      `${TPG}/luns delete 0`,
      `${TPG}/luns create /backstores/fileio/${SO} lun=0 add_mapped_luns=false`,
      `${TPG}/acls/${NODE} create mapped_lun=0 tpg_lun_or_backstore=0`,
    ]);
  });

  it('replaces a write-protected mapping', () => {
    const readOnly = fixture('dump-fileio-assigned.json').replace('"write_protect": false', '"write_protect": true');
    expect(lines(planTarget(spec(), parseRtslibDump(readOnly), KEY))).toEqual([
      `${TPG}/acls/${NODE} delete 0`,
      `${TPG}/acls/${NODE} create mapped_lun=0 tpg_lun_or_backstore=0`,
    ]);
  });

  it('re-sends CHAP credentials when the secret changed, judged by digest only', () => {
    const rotated = spec({ chap: { ...CHAP, secret: 'NewSecret4567abc' } });
    expect(lines(planTarget(rotated, state('dump-fileio-assigned-chap.json'), KEY))).toEqual([
      `${TPG}/acls/${NODE} set auth userid=bl7c9e66797425 password=NewSecret4567abc`,
    ]);
    // A different digest key means the digests cannot be matched: credentials are sent again.
    expect(planTarget(spec({ chap: CHAP }), state('dump-fileio-assigned-chap.json'), '22'.repeat(32))).toHaveLength(1);
  });

  it('normalises IQNs to lower case as rtslib stores them', () => {
    const upper = spec({ iqn: IQN.toUpperCase(), initiators: [NODE.toUpperCase(), NODE] });
    expect(upper.iqn).toBe(IQN);
    expect(upper.initiators).toEqual([NODE]);
  });

  it('refuses mutual CHAP without initiator CHAP', () => {
    expect(() => spec({ mutualChap: MUTUAL })).toThrow(PermanentTargetError);
  });
});

describe('backstore checks', () => {
  it('names backstores after the LUN id, whatever the backing', () => {
    expect(storageObjectName(backingFor('file', '/srv/bootlun', ID))).toBe(SO);
    expect(storageObjectName(backingFor('block', 'vg0', ID))).toBe(SO);
  });

  it('flags a backstore of ours that points somewhere else', () => {
    expect(backstoreConflict(spec(), state('dump-fileio-assigned.json'))).toBeNull();
    expect(backstoreConflict(spec({ backing: backingFor('file', '/srv/other', ID) }), state('dump-fileio-assigned.json'))).toBe(
      `backstore ${SO} uses /srv/bootlun/${SO}.img, expected /srv/other/${SO}.img`,
    );
    expect(backstoreConflict(spec({ backing: backingFor('block', 'vg0', ID) }), state('dump-fileio-assigned.json'))).toBe(
      `backstore ${SO} exists as fileio, expected block`,
    );
  });

  it('reports an exported size below the wanted one', () => {
    expect(sizeShortfall(spec(), state('dump-fileio-assigned.json'))).toBeNull();
    expect(sizeShortfall(spec({ sizeBytes: 20 * 2 ** 30 }), state('dump-fileio-assigned.json'))).toBe(
      `backstore ${SO} exports 10737418240 bytes, wanted 21474836480`,
    );
  });
});
