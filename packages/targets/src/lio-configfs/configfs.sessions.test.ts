import type { ConfigfsEntry, ConfigfsPort } from './configfs.port';
import { readLiveSessions } from './configfs.sessions';

const IQN = 'iqn.2026-12.io.bootlun:lun-a';
const TPG = `iscsi/${IQN}/tpgt_1`;

/** Only what the reader touches: directory listings and file contents, by path. */
function tree(files: Record<string, string>, dirs: Record<string, string[]>): ConfigfsPort {
  return {
    root: '/sys/kernel/config/target',
    list: async (dir: string): Promise<ConfigfsEntry[]> => (dirs[dir] ?? []).map((name) => ({ name, kind: 'dir' })),
    read: async (file: string) => files[file] ?? null,
  } as unknown as ConfigfsPort;
}

describe('LIO live sessions from configfs', () => {
  it("names an ACL's initiator while its info shows a session, and the dynamic sessions", async () => {
    const port = tree(
      {
        // The kernel's info of an ACL with a session, and without one.
        [`${TPG}/acls/iqn.2026-12.io.node:a/info`]: 'InitiatorName: iqn.2026-12.io.node:a\nInitiatorAlias: \nLIO Session ID: 3   ISID: 0x00023d000001  TSIH: 3  SessionType: Normal\n',
        [`${TPG}/acls/iqn.2026-12.io.node:b/info`]: 'No active iSCSI Session for Initiator Endpoint: iqn.2026-12.io.node:b\n',
        [`${TPG}/dynamic_sessions`]: 'iqn.2026-12.io.node:c\n',
      },
      { [`${TPG}/acls`]: ['iqn.2026-12.io.node:a', 'iqn.2026-12.io.node:b'] },
    );
    expect(await readLiveSessions(port, IQN)).toEqual(['iqn.2026-12.io.node:a', 'iqn.2026-12.io.node:c']);
  });

  it('a target that is not there, or has no sessions, has none', async () => {
    expect(await readLiveSessions(tree({}, {}), IQN)).toEqual([]);
    expect(await readLiveSessions(tree({ [`${TPG}/acls/iqn.2026-12.io.node:b/info`]: 'No active iSCSI Session for Initiator Endpoint: iqn.2026-12.io.node:b\n', [`${TPG}/dynamic_sessions`]: '' }, { [`${TPG}/acls`]: ['iqn.2026-12.io.node:b'] }), IQN)).toEqual([]);
  });
});
