import { checkWwn } from '../lio/lio.commands';
import type { ConfigfsPort } from './configfs.port';
import { tpgDir } from './configfs.paths';

/**
 * Initiators logged in to target `iqn`, as the kernel tells them in configfs: an ACL's
 * `info` reads "No active iSCSI Session for Initiator Endpoint: ..." unless its initiator
 * has a session (then it describes it; rtslib reads it the same way), and the TPG's `dynamic_sessions`
 * lists initiators admitted without an ACL (demo mode), one per line. A missing target
 * has none.
 */
function hasSession(info: string | null): boolean {
  const text = info?.trim() ?? '';
  return text !== '' && !text.startsWith('No active');
}

export async function readLiveSessions(port: ConfigfsPort, iqn: string): Promise<string[]> {
  const tpg = tpgDir(checkWwn(iqn.toLowerCase()));
  const acls = (await port.list(`${tpg}/acls`)).filter((e) => e.kind === 'dir');
  const logged = await Promise.all(acls.map(async (acl) => hasSession(await port.read(`${tpg}/acls/${acl.name}/info`)) ? acl.name : null));
  const dynamic = ((await port.read(`${tpg}/dynamic_sessions`)) ?? '').split('\n').map((line) => line.trim()).filter(Boolean);
  return [...new Set([...logged.filter((name): name is string => name !== null), ...dynamic])];
}
