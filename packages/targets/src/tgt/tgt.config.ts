/**
 * The config file the stock tgt service loads after tgtd starts (`tgt-admin -e`, reading
 * /etc/tgt/targets.conf and its `include /etc/tgt/conf.d/*.conf`). It is how our targets
 * survive a tgtd restart. tgt-admin's rules that shape it:
 *  - without an `initiator-address` line it binds `ALL`, and tgtd (1.0.85, measured)
 *    admits an initiator whose address OR name matches: `ALL` would admit everyone. So
 *    every target gets an address no TCP peer can have, plus its `initiator-name`s (none
 *    for a target nobody may use). converge() later drops that inert address entry.
 *  - LUNs are numbered from 1 in `backing-store` order (LUN 0 is tgt's controller).
 *  - it runs `tgtadm --password=SECRET` through the shell: secrets pass tgt.validate.ts.
 */

export interface TgtConfigTarget {
  iqn: string;
  backingStore: string;
  /** Initiator-name ACL; empty means nobody may log in. */
  initiators: string[];
  incoming: { username: string; secret: string } | null;
  outgoing: { username: string; secret: string } | null;
}

/** Never a peer address (0.0.0.0/32): keeps tgt-admin from binding `ALL`, admits nobody. */
export const NOBODY_ADDRESS = '0.0.0.0/32';

const HEADER = [
  '# Written by bootlun (tgt driver, persist()). Do not edit: rewritten on every change.',
  '# Loaded by the tgt service (tgt-admin -e) when tgtd starts. Contains CHAP secrets: mode 0600.',
];

export function renderTgtConfig(targets: readonly TgtConfigTarget[]): string {
  const lines = [...HEADER, ''];
  for (const target of [...targets].sort((a, b) => a.iqn.localeCompare(b.iqn))) {
    lines.push(`<target ${target.iqn}>`);
    lines.push('    driver iscsi');
    lines.push('    bs-type rdwr');
    lines.push(`    backing-store ${target.backingStore}`);
    lines.push(`    initiator-address ${NOBODY_ADDRESS}`);
    for (const initiator of [...target.initiators].sort()) lines.push(`    initiator-name ${initiator}`);
    if (target.incoming) lines.push(`    incominguser ${target.incoming.username} ${target.incoming.secret}`);
    if (target.outgoing) lines.push(`    outgoinguser ${target.outgoing.username} ${target.outgoing.secret}`);
    lines.push('</target>', '');
  }
  return lines.join('\n');
}

/**
 * CHAP user → secret from a file this module wrote: the only place a restarted worker
 * can learn secrets of targets it has not converged since (tgtd never shows them).
 */
export function parseTgtConfigSecrets(text: string): Map<string, string> {
  const secrets = new Map<string, string>();
  for (const line of text.split('\n')) {
    const m = /^\s*(?:incoming|outgoing)user\s+(\S+)\s+(\S+)\s*$/.exec(line);
    if (m) secrets.set(m[1]!, m[2]!);
  }
  return secrets;
}
