/**
 * Parsers for the text tgtd returns to `show` requests (the same text `tgtadm --op show`
 * prints). The layout is tgt's `tgt_target_show_all`: "Target <tid>: <name>" at column 0,
 * sections indented by 4 spaces, their items by 8, LUN attributes by 12.
 */

export interface TgtLun {
  lun: number;
  /** "controller" for LUN 0, "disk" for ours. */
  type: string;
  /** As tgt prints it: its own rounding of decimal megabytes (see `tgtShownMegabytes`). */
  sizeMb: number;
  backingStoreType: string | null;
  backingStorePath: string | null;
}

export interface TgtSession {
  nexus: number;
  initiator: string;
}

export interface TgtTarget {
  tid: number;
  iqn: string;
  /** "ready" or "offline". */
  state: string;
  sessions: TgtSession[];
  luns: TgtLun[];
  incomingUsers: string[];
  outgoingUser: string | null;
  /** Address ACL entries (`ALL`, an IP or a network). */
  aclAddresses: string[];
  /** Initiator-name ACL entries. */
  aclInitiators: string[];
}

/**
 * tgt lists address and initiator-name ACLs together under "ACL information:" (addresses
 * first). They are told apart by form: addresses are `ALL` or made of IP characters.
 */
export function isAddressAcl(entry: string): boolean {
  return entry === 'ALL' || /^[0-9a-fA-F.:[\]/]+$/.test(entry);
}

type Section = 'system' | 'nexus' | 'lun' | 'account' | 'acl' | null;

const SECTIONS: Record<string, Section> = {
  'System information:': 'system',
  'I_T nexus information:': 'nexus',
  'LUN information:': 'lun',
  'Account information:': 'account',
  'ACL information:': 'acl',
};

function indentOf(line: string): number {
  return line.length - line.trimStart().length;
}

function afterColon(text: string): string {
  return text.slice(text.indexOf(':') + 1).trim();
}

/** Parses `show target` (all targets). Unknown lines are ignored so newer tgt output still parses. */
export function parseTargets(text: string): TgtTarget[] {
  const targets: TgtTarget[] = [];
  let target: TgtTarget | null = null;
  let section: Section = null;
  let lun: TgtLun | null = null;
  let session: TgtSession | null = null;

  for (const raw of text.split('\n')) {
    if (raw.trim() === '') continue;
    const indent = indentOf(raw);
    const line = raw.trim();

    const head = /^Target (\d+): (.+)$/.exec(raw);
    if (head && indent === 0) {
      target = {
        tid: Number(head[1]),
        iqn: head[2]!.trim(),
        state: '',
        sessions: [],
        luns: [],
        incomingUsers: [],
        outgoingUser: null,
        aclAddresses: [],
        aclInitiators: [],
      };
      targets.push(target);
      section = null;
      lun = null;
      session = null;
      continue;
    }
    if (!target) continue;

    if (indent === 4) {
      section = SECTIONS[line] ?? null;
      continue;
    }

    switch (section) {
      case 'system':
        if (line.startsWith('State:')) target.state = afterColon(line);
        break;
      case 'nexus': {
        const nexus = /^I_T nexus: (\d+)$/.exec(line);
        if (nexus) {
          session = { nexus: Number(nexus[1]), initiator: '' };
          target.sessions.push(session);
        } else if (session && line.startsWith('Initiator:')) {
          // "Initiator: <name> alias: <alias>"
          session.initiator = afterColon(line).replace(/\s+alias:.*$/, '');
        }
        break;
      }
      case 'lun':
        if (indent === 8 && line.startsWith('LUN:')) {
          lun = { lun: Number(afterColon(line)), type: '', sizeMb: 0, backingStoreType: null, backingStorePath: null };
          target.luns.push(lun);
        } else if (lun) {
          parseLunAttribute(lun, line);
        }
        break;
      case 'account':
        if (line.endsWith(' (outgoing)')) target.outgoingUser = line.slice(0, -' (outgoing)'.length);
        else target.incomingUsers.push(line);
        break;
      case 'acl':
        if (isAddressAcl(line)) target.aclAddresses.push(line);
        else target.aclInitiators.push(line);
        break;
      default:
        break;
    }
  }
  return targets;
}

function parseLunAttribute(lun: TgtLun, line: string): void {
  if (line.startsWith('Type:')) lun.type = afterColon(line);
  else if (line.startsWith('Size:')) {
    const size = /^Size: (\d+) MB/.exec(line);
    if (size) lun.sizeMb = Number(size[1]);
  } else if (line.startsWith('Backing store type:')) {
    lun.backingStoreType = nullIfNone(afterColon(line));
  } else if (line.startsWith('Backing store path:')) {
    lun.backingStorePath = nullIfNone(afterColon(line));
  }
}

function nullIfNone(value: string): string | null {
  return value === '' || value === 'None' ? null : value;
}

/** `show account`: "Account list:" then one user name per line (empty text when there are none). */
export function parseAccounts(text: string): string[] {
  return text
    .split('\n')
    .filter((line) => /^\s+\S/.test(line))
    .map((line) => line.trim());
}

export interface TgtPortal {
  address: string;
  port: number;
}

/** `show portal`: "Portal: <address>:<port>,<tpgt>" per line; IPv6 addresses come bracketless. */
export function parsePortals(text: string): TgtPortal[] {
  const portals: TgtPortal[] = [];
  for (const line of text.split('\n')) {
    const m = /^Portal: (.+):(\d+),\d+$/.exec(line.trim());
    if (m) portals.push({ address: m[1]!, port: Number(m[2]) });
  }
  return portals;
}

/**
 * The "Size: N MB" tgt prints for a LUN of `bytes` (usr/target.c print_disksize: an
 * approximation of decimal megabytes in 512-byte sectors). Show never gives bytes, so
 * comparing against this is how a stale LUN size is recognised.
 */
export function tgtShownMegabytes(bytes: number): number {
  const sectors = BigInt(Math.floor(bytes)) / 512n;
  return Number((sectors - (sectors / 625n - 974n)) / 1950n);
}
