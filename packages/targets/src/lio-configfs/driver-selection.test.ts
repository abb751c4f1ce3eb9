import { RecordingRunner } from '@bootlun/exec';
import { createTargetDriver, lioInterface } from '../driver-factory';
import { LioDriver } from '../lio/lio.driver';
import { LioConfigfsDriver } from './lio-configfs.driver';

const config = {
  driver: 'lio' as const,
  portal_ip: '192.0.2.10',
  portal_port: 3260,
  iqn_prefix: 'iqn.2026-11.com.example',
  backingstore_type: 'file' as const,
  backingstore_path: '/srv/luns',
  tgt_control_port: 0,
};
const host = { backendName: 'store1', tgtConfigDir: '/etc/tgt/conf.d' };

describe('which LIO interface a worker uses', () => {
  it('configfs by default when the worker is on the host as root and configfs is writable', () => {
    expect(lioInterface({}, { localFiles: true, configfsWritable: () => true })).toBe('configfs');
    expect(createTargetDriver(config, new RecordingRunner(), { ...host, localFiles: true, configfsWritable: () => true })).toBeInstanceOf(LioConfigfsDriver);
  });

  it('targetcli by default through the command agent or sudo, or where configfs is not writable', () => {
    expect(lioInterface({}, { localFiles: false, configfsWritable: () => true })).toBe('targetcli');
    expect(lioInterface({}, { localFiles: true, configfsWritable: () => false })).toBe('targetcli');
    expect(createTargetDriver(config, new RecordingRunner(), { ...host, localFiles: false })).toBeInstanceOf(LioDriver);
  });

  it('honours an explicit choice, and refuses configfs where it cannot work instead of falling back', () => {
    expect(lioInterface({ lio_interface: 'targetcli' }, { localFiles: true, configfsWritable: () => true })).toBe('targetcli');
    expect(lioInterface({ lio_interface: 'configfs' }, { localFiles: true, configfsWritable: () => true })).toBe('configfs');
    expect(() => lioInterface({ lio_interface: 'configfs' }, { localFiles: false, configfsWritable: () => true })).toThrow(/needs the worker on the storage host/);
  });
});
