import { PermanentTargetError } from '@bootlun/core';
import { RecordingRunner } from '@bootlun/exec';
import { assertBackingLocation, backingFor } from './backing';
import { LioDriver } from './lio/lio.driver';
import { TgtDriver } from './tgt/tgt.driver';

const LUN = '0b7e2f4c-1d2e-4f5a-8b9c-0123456789ab';

describe('drivers apply the backingstore_path rule the API applies', () => {
  it('backingFor refuses a location the API would refuse, without quoting control characters', () => {
    expect(backingFor('file', '/srv/luns', LUN)).toEqual({ kind: 'file', path: `/srv/luns/bootlun-${LUN}.img` });
    expect(backingFor('block', 'vg0', LUN)).toEqual({ kind: 'block', volumeGroup: 'vg0', volumeName: `bootlun-${LUN}` });
    expect(() => backingFor('file', '/etc', LUN)).toThrow(PermanentTargetError);
    expect(() => backingFor('file', '/', LUN)).toThrow(/backingstore_path "\/" must not be a system directory/);
    expect(() => backingFor('file', '/srv/$(reboot)', LUN)).toThrow(/only letters/);
    expect(() => backingFor('block', 'vg 0', LUN)).toThrow(/volume group/);
    try {
      assertBackingLocation('file', '/srv/a\nb');
      throw new Error('expected a refusal');
    } catch (err) {
      expect(err).toBeInstanceOf(PermanentTargetError);
      expect((err as Error).message).not.toContain('\n');
    }
  });

  it('the LIO driver lists nothing in a refused location and runs no command there', async () => {
    const runner = new RecordingRunner();
    const driver = new LioDriver({ runner, portalIp: '192.0.2.10', portalPort: 3260, backingstoreType: 'file', backingstorePath: '/etc' });
    await expect(driver.listBackings()).rejects.toThrow(PermanentTargetError);
    expect(runner.calls).toEqual([]);
  });

  it('the tgt driver lists nothing in a refused location and runs no command there', async () => {
    const runner = new RecordingRunner();
    const driver = new TgtDriver({ controlPort: 0, portalIp: '127.0.0.1', portalPort: 3260, backingDir: '/srv/luns dir', configFile: '/nonexistent/bootlun-0.conf', runner, iqnPrefix: 'iqn.2026-11.io.bootlun' });
    await expect(driver.listBackings()).rejects.toThrow(PermanentTargetError);
    expect(runner.calls).toEqual([]);
  });
});
