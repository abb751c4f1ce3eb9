import { PermanentTargetError } from '@bootlun/core';
import {
  batchScript,
  clearAclAuth,
  createAcl,
  createBlockBackstore,
  createFileioBackstore,
  createLun,
  createMappedLun,
  createPortal,
  createTarget,
  deleteAcl,
  deleteBackstore,
  deletePortal,
  deleteTarget,
  setAclChap,
  setAclMutualChap,
  setTpgAttributes,
} from './lio.commands';

const IQN = 'iqn.2025-01.org.example.boot:web01';
const NODE = 'iqn.2025-01.org.example.node:52-54-00-12-34-56';
const SO = 'bootlun-7c9e6679-7425-40de-944b-e07fc1f90ae7';

describe('targetcli batch', () => {
  it('sets the safety preferences first, one per line, and ends with exit', () => {
    expect(batchScript(['/iscsi create iqn.2025-01.org.example.boot:web01'])).toBe(
      [
        'set global loglevel_file=warning',
        'set global auto_save_on_exit=false',
        'set global auto_add_mapped_luns=false',
        'set global auto_add_default_portal=false',
        '/iscsi create iqn.2025-01.org.example.boot:web01',
        'exit',
        '',
      ].join('\n'),
    );
  });
});

describe('targetcli lines', () => {
  it('builds backstores without a size and with absolute paths', () => {
    expect(createFileioBackstore(SO, `/srv/bootlun/${SO}.img`)).toBe(`/backstores/fileio create name=${SO} file_or_dev=/srv/bootlun/${SO}.img`);
    expect(createBlockBackstore(SO, `/dev/vg0/${SO}`)).toBe(`/backstores/block create name=${SO} dev=/dev/vg0/${SO}`);
    expect(deleteBackstore('block', SO)).toBe(`/backstores/block delete ${SO}`);
  });

  it('builds target, portal and attribute lines', () => {
    expect(createTarget(IQN)).toBe(`/iscsi create ${IQN}`);
    expect(deleteTarget(IQN)).toBe(`/iscsi delete ${IQN}`);
    expect(createPortal(IQN, '192.0.2.10', 3260)).toBe(`/iscsi/${IQN}/tpg1/portals create 192.0.2.10 3260`);
    expect(deletePortal(IQN, '[2001:db8::10]', 3260)).toBe(`/iscsi/${IQN}/tpg1/portals delete 2001:db8::10 3260`);
    expect(setTpgAttributes(IQN, [['generate_node_acls', '0'], ['authentication', '1']])).toBe(
      `/iscsi/${IQN}/tpg1 set attribute generate_node_acls=0 authentication=1`,
    );
  });

  it('never lets a LUN or an ACL pick up mappings implicitly', () => {
    expect(createLun(IQN, 'fileio', SO, 0)).toBe(`/iscsi/${IQN}/tpg1/luns create /backstores/fileio/${SO} lun=0 add_mapped_luns=false`);
    expect(createAcl(IQN, NODE)).toBe(`/iscsi/${IQN}/tpg1/acls create ${NODE} add_mapped_luns=false`);
    expect(createMappedLun(IQN, NODE, 0, 0)).toBe(`/iscsi/${IQN}/tpg1/acls/${NODE} create mapped_lun=0 tpg_lun_or_backstore=0`);
    expect(deleteAcl(IQN, NODE)).toBe(`/iscsi/${IQN}/tpg1/acls delete ${NODE}`);
  });

  it('sets CHAP on the ACL and clears each value on a line of its own', () => {
    expect(setAclChap(IQN, NODE, 'bl7c9e66797425', 'Sup3rSecretAbcd2')).toBe(
      `/iscsi/${IQN}/tpg1/acls/${NODE} set auth userid=bl7c9e66797425 password=Sup3rSecretAbcd2`,
    );
    expect(setAclMutualChap(IQN, NODE, 'bt7c9e66797425', 'MutualSecret9xyz')).toBe(
      `/iscsi/${IQN}/tpg1/acls/${NODE} set auth mutual_userid=bt7c9e66797425 mutual_password=MutualSecret9xyz`,
    );
    expect(clearAclAuth(IQN, NODE, 'password')).toBe(`/iscsi/${IQN}/tpg1/acls/${NODE} set auth password=`);
  });

  it('refuses values that could break out of a line or that targetcli cannot parse', () => {
    expect(() => createTarget(`${IQN}\n/iscsi delete ${IQN}`)).toThrow(PermanentTargetError);
    expect(() => createTarget('IQN.2025-01.ORG.EXAMPLE:X')).toThrow('invalid iSCSI name');
    expect(() => createFileioBackstore(SO, '/srv/boot lun/x.img')).toThrow('invalid backing path');
    expect(() => createFileioBackstore(SO, '/srv/../etc/shadow')).toThrow('invalid backing path');
    expect(() => createPortal(IQN, 'example.org', 3260)).toThrow('invalid portal address');
    expect(() => setAclChap(IQN, NODE, 'user name', 'Sup3rSecretAbcd2')).toThrow('invalid CHAP user name');
  });

  it('never echoes a rejected secret', () => {
    const secret = 'bad secret|{x}';
    let message = '';
    try {
      setAclChap(IQN, NODE, 'bl7c9e66797425', secret);
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toBe('invalid CHAP secret: not accepted by targetcli');
  });
});
