import { isIP } from 'node:net';
import { IQN_PATTERN } from '@bootlun/contracts';
import { isValidChapSecret } from './chap';

/**
 * iPXE scripts for boot-from-SAN, rendered as plain text. iPXE expands `${…}` settings,
 * splits on whitespace, treats `#` as a comment, `||`/`&&` as operators and `:` at the
 * start of a line as a label: a value that carried any of these could break the script
 * or inject commands. Every value that reaches a command is therefore checked against a
 * narrow alphabet first (IQNs, CHAP names and secrets, IP literals already have one), and
 * free text in `echo` lines is reduced to a harmless alphabet.
 */

export interface IpxeChap {
  username: string;
  secret: string;
}

export interface SanbootTarget {
  portalIp: string;
  portalPort: number;
  /** The LUN's number inside its target (tgt: 1, LIO: 0). */
  lunNumber: number;
  iqn: string;
}

export interface SanbootScriptInput {
  /** Who the script is for, shown in its comment and messages. */
  nodeLabel: string;
  lunName: string;
  initiatorIqn: string;
  target: SanbootTarget;
  /** Initiator→target CHAP (`username`/`password`); null when CHAP is off. */
  chap: IpxeChap | null;
  /** Target→initiator CHAP (`reverse-username`/`reverse-password`); only with `chap`. */
  mutualChap: IpxeChap | null;
  retry?: BootRetry;
}

export interface BootRetry {
  /** How many times `sanboot` is tried in all (1–10). */
  attempts: number;
  /** Pause between tries, in seconds (0–60). */
  delaySeconds: number;
}

export const DEFAULT_BOOT_RETRY: BootRetry = { attempts: 3, delaySeconds: 3 };

/** A value that would have gone into an iPXE command is outside its safe alphabet. Never shows the value. */
export class UnsafeScriptValueError extends Error {
  override readonly name = 'UnsafeScriptValueError';
  constructor(readonly field: string) {
    super(`refusing to render an iPXE script: ${field} contains characters that are not allowed there`);
  }
}

/** CHAP user names: what our generator emits and what initiators accept, nothing iPXE could interpret. */
const CHAP_USERNAME = /^[A-Za-z0-9._-]{1,64}$/;
const IP_CHARACTERS = /^[0-9A-Fa-f:.]+$/;
/** Characters left in `echo`/comment text; everything else becomes `?`. */
const UNSAFE_TEXT = /[^A-Za-z0-9 .,:/()_=+@-]/g;

function assertIqn(field: string, value: string): void {
  if (value.length > 223 || !IQN_PATTERN.test(value)) throw new UnsafeScriptValueError(field);
}

function assertChap(field: string, chap: IpxeChap): void {
  if (!CHAP_USERNAME.test(chap.username)) throw new UnsafeScriptValueError(`${field} user name`);
  if (!isValidChapSecret(chap.secret)) throw new UnsafeScriptValueError(`${field} secret`);
}

/** Free text for `echo` and comments: one line, `;` as `,`, and no `$ { } # | & " '` or backslash (each becomes `?`). */
export function ipxeText(text: string): string {
  return text.replace(/\s+/g, ' ').replace(/;/g, ',').replace(UNSAFE_TEXT, '?').trim().slice(0, 200);
}

/** `iscsi:<server>::<port>:<lun hex>:<target iqn>`; an IPv6 server goes in brackets. */
export function sanbootUri(target: SanbootTarget): string {
  const family = IP_CHARACTERS.test(target.portalIp) ? isIP(target.portalIp) : 0;
  if (family === 0) throw new UnsafeScriptValueError('portal address');
  if (!Number.isInteger(target.portalPort) || target.portalPort < 1 || target.portalPort > 65535) throw new UnsafeScriptValueError('portal port');
  if (!Number.isInteger(target.lunNumber) || target.lunNumber < 0 || target.lunNumber > 0x3fff) throw new UnsafeScriptValueError('LUN number');
  assertIqn('target IQN', target.iqn);
  const server = family === 6 ? `[${target.portalIp}]` : target.portalIp;
  return `iscsi:${server}::${target.portalPort}:${target.lunNumber.toString(16)}:${target.iqn}`;
}

/** The script for a node with a bootable LUN: identity, CHAP, then a bounded number of `sanboot` tries. */
export function renderSanbootScript(input: SanbootScriptInput): string {
  const retry = input.retry ?? DEFAULT_BOOT_RETRY;
  if (!Number.isInteger(retry.attempts) || retry.attempts < 1 || retry.attempts > 10) throw new RangeError('retry.attempts must be 1–10');
  if (!Number.isInteger(retry.delaySeconds) || retry.delaySeconds < 0 || retry.delaySeconds > 60) throw new RangeError('retry.delaySeconds must be 0–60');
  assertIqn('initiator IQN', input.initiatorIqn);
  if (input.mutualChap && !input.chap) throw new UnsafeScriptValueError('mutual CHAP without CHAP');
  if (input.chap) assertChap('CHAP', input.chap);
  if (input.mutualChap) assertChap('mutual CHAP', input.mutualChap);
  const uri = sanbootUri(input.target);
  const node = ipxeText(input.nodeLabel);
  const lun = ipxeText(input.lunName);

  const lines = ['#!ipxe', `# bootlun: node ${node} boots LUN ${lun} (${input.target.iqn})`, `set initiator-iqn ${input.initiatorIqn}`];
  if (input.chap) lines.push(`set username ${input.chap.username}`, `set password ${input.chap.secret}`);
  if (input.mutualChap) lines.push(`set reverse-username ${input.mutualChap.username}`, `set reverse-password ${input.mutualChap.secret}`);
  for (let attempt = 1; attempt <= retry.attempts; attempt++) {
    const onFailure = attempt < retry.attempts ? `bootlun_retry_${attempt}` : 'bootlun_failed';
    lines.push(`echo bootlun: booting ${node} from LUN ${lun} (try ${attempt} of ${retry.attempts})`);
    lines.push(`sanboot ${uri} || goto ${onFailure}`);
    lines.push(`:${onFailure}`);
    if (attempt < retry.attempts) {
      lines.push(`echo bootlun: sanboot failed, trying again in ${retry.delaySeconds} s`);
      if (retry.delaySeconds > 0) lines.push(`sleep ${retry.delaySeconds}`);
    }
  }
  lines.push(
    `echo bootlun: could not boot from LUN ${lun} after ${retry.attempts} tries. Check that the storage host is up, the LUN is assigned to this node and its CHAP credentials match`,
    'exit 1',
  );
  return lines.join('\n') + '\n';
}

/**
 * A script that only says why and exits: with status 0 (`exit`) the firmware falls
 * through to its next boot device; with a status (e.g. 1) iPXE reports a failure.
 */
export function renderExitScript(message: string, status?: number): string {
  const exit = status === undefined ? 'exit' : `exit ${Math.trunc(status)}`;
  return ['#!ipxe', `echo bootlun: ${ipxeText(message)}`, exit].join('\n') + '\n';
}
