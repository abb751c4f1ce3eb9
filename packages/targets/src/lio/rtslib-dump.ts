import { createHmac, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';

/**
 * The read side of the LIO driver: rtslib-dump.py, run as `python3 -I -` with the script
 * on stdin (nothing but the interpreter in argv). rtslib is what targetcli itself is built
 * on, so it sees exactly what targetcli sees, starts far faster than targetcli, and
 * prints JSON instead of a tree drawn for humans.
 */

export interface DumpRequest {
  /** Describe only these target IQNs; omit for all iSCSI targets. */
  wwns?: readonly string[];
  /** Describe only targets whose IQN starts with this. */
  wwnPrefix?: string;
  /** Include the backstores (storage objects). */
  storageObjects: boolean;
  /** Also list the targets saved in this saveconfig file. */
  saveconfigPath?: string;
  /** Hex key for the CHAP password digests; fresh for every read. */
  hmacKey: string;
}

/** `-I`: ignore PYTHON* variables and the user's site-packages — this runs as root. */
export const DUMP_ARGV: readonly string[] = ['python3', '-I', '-'];

let scriptBody: string | undefined;

/** The script is kept as a .py file so it can be read, linted and tested as Python. */
function dumpScriptBody(): string {
  scriptBody ??= readFileSync(path.join(__dirname, 'rtslib-dump.py'), 'utf8');
  return scriptBody;
}

/** The full stdin for one read: a parameter line, then the script. */
export function dumpScript(request: DumpRequest): string {
  const params = {
    wwns: request.wwns ? [...request.wwns] : null,
    wwn_prefix: request.wwnPrefix ?? null,
    storage_objects: request.storageObjects,
    saveconfig_path: request.saveconfigPath ?? null,
    hmac_key: request.hmacKey,
  };
  // base64 keeps every value out of Python's quoting rules.
  const encoded = Buffer.from(JSON.stringify(params), 'utf8').toString('base64');
  return `PARAMS_B64 = "${encoded}"\n${dumpScriptBody()}`;
}

export function freshDigestKey(): string {
  return randomBytes(32).toString('hex');
}

/** The digest the dump prints for a CHAP password, computed on our side for comparison. */
export function chapDigest(hmacKey: string, secret: string): string {
  return createHmac('sha256', Buffer.from(hmacKey, 'hex')).update(secret, 'utf8').digest('hex');
}
