/**
 * tgtd's management protocol, as tgt 1.0.85 (Debian 12) speaks it. tgtadm is only a thin
 * client: it connects to the unix socket `/var/run/tgtd/socket.<control port>`, writes a
 * fixed 120-byte `struct tgtadm_req` followed by a NUL-terminated parameter string, and
 * reads an 8-byte `struct tgtadm_rsp` followed by `rsp.len - 8` bytes of text. Speaking it
 * here keeps CHAP secrets out of argv (tgtadm takes them only as `--password=`).
 *
 * Sources: tgt usr/tgtadm.h, usr/tgtadm_error.h, usr/tgtadm.c, usr/mgmt.c, checked
 * against the bytes the installed tgtadm 1.0.85 writes (strace) and the messages it
 * prints for each error number.
 */

/** `TGT_IPC_DIR "/socket"` plus `.<control port>` (tgtd -C / tgtadm -C). */
export function tgtdSocketPath(controlPort: number): string {
  return `/var/run/tgtd/socket.${controlPort}`;
}

/** enum tgtadm_mode. */
export const Mode = {
  system: 0,
  target: 1,
  device: 2, // "logicalunit" on tgtadm's command line
  portal: 3,
  lld: 4,
  session: 5,
  connection: 6,
  account: 7,
} as const;
export type Mode = (typeof Mode)[keyof typeof Mode];

/** enum tgtadm_op. */
export const Op = { new: 0, delete: 1, show: 2, bind: 3, unbind: 4, update: 5 } as const;
export type Op = (typeof Op)[keyof typeof Op];

/** enum tgtadm_account_dir. */
export const AccountDir = { incoming: 0, outgoing: 1 } as const;
export type AccountDir = (typeof AccountDir)[keyof typeof AccountDir];

/** enum tgtadm_errno (1.0.85 numbering; older releases lacked NO_BINDING and BINDING_EXIST). */
export const TgtadmErrno = {
  SUCCESS: 0,
  UNKNOWN_ERR: 1,
  NOMEM: 2,
  NO_DRIVER: 3,
  NO_TARGET: 4,
  NO_LUN: 5,
  NO_SESSION: 6,
  NO_CONNECTION: 7,
  NO_BINDING: 8,
  TARGET_EXIST: 9,
  LUN_EXIST: 10,
  BINDING_EXIST: 11,
  ACL_EXIST: 12,
  ACL_NOEXIST: 13,
  USER_EXIST: 14,
  NO_USER: 15,
  TOO_MANY_USER: 16,
  INVALID_REQUEST: 17,
  OUTACCOUNT_EXIST: 18,
  TARGET_ACTIVE: 19,
  LUN_ACTIVE: 20,
  DRIVER_ACTIVE: 21,
  UNSUPPORTED_OPERATION: 22,
  UNKNOWN_PARAM: 23,
  PREVENT_REMOVAL: 24,
} as const;
export type TgtadmErrnoName = keyof typeof TgtadmErrno;

/** tgtadm's own wording for each error, so messages read like the CLI's. */
const MESSAGES: Record<number, string> = {
  1: 'unknown error',
  2: 'out of memory',
  3: "can't find the driver",
  4: "can't find the target",
  5: "can't find the logical unit",
  6: "can't find the session",
  7: "can't find the connection",
  8: "can't find the binding",
  9: 'this target already exists',
  10: 'this logical unit number already exists',
  11: 'this binding already exists',
  12: 'this access control rule already exists',
  13: 'this access control rule does not exist',
  14: 'this account already exists',
  15: "can't find the account",
  16: 'too many accounts',
  17: 'invalid request',
  18: 'this target already has an outgoing account',
  19: 'this target is still active',
  20: 'this logical unit is still active',
  21: 'this driver is busy',
  22: "this operation isn't supported",
  23: 'unknown parameter',
  24: 'this device has Prevent Removal set',
};

export function tgtadmErrnoName(errno: number): string {
  const entry = Object.entries(TgtadmErrno).find(([, value]) => value === errno);
  return entry ? entry[0] : `ERRNO_${errno}`;
}

export function tgtadmMessage(errno: number): string {
  return MESSAGES[errno] ?? `unknown tgtadm error ${errno}`;
}

/** tgtd's request is `mode, op, lld[64], len, tid, sid, lun, cid, host_no, device_type, ac_dir, pack, force`. */
export const REQUEST_HEADER_BYTES = 120;
export const RESPONSE_HEADER_BYTES = 8;
const LLD_BYTES = 64;
/** mgmt.c refuses request bodies above MAX_MGT_BUFSIZE (8 KiB). */
export const MAX_PARAMS_BYTES = 8 * 1024;
/** tgtadm leaves `lun` at UINT64_MAX unless --lun is given; tid -1 means "none" (all targets for show). */
export const NO_LUN = 0xffff_ffff_ffff_ffffn;
export const NO_TID = -1;
const TYPE_DISK = 0;

export interface TgtadmRequest {
  mode: Mode;
  op: Op;
  /** Target id; -1 for "no target" (show all, accounts, portals). */
  tid?: number;
  lun?: bigint;
  sid?: bigint;
  cid?: number;
  accountDir?: AccountDir;
  /** Target delete: close sessions instead of refusing with TARGET_ACTIVE. */
  force?: boolean;
  /** Parameters as tgtadm formats them (see `formatParams`); empty for none. */
  params?: string;
}

/**
 * Parameters are `key=value` joined by ',' (tgtd splits several of them on ',' and '='),
 * so a value must not contain ',' except the last one of an account (tgtd takes the
 * password as everything after `password=`). NUL would end the string early.
 */
export function formatParams(pairs: ReadonlyArray<readonly [string, string]>): string {
  return pairs
    .map(([key, value], i) => {
      if (value.includes('\0') || key.includes('\0')) throw new Error(`tgtadm parameter ${key} contains NUL`);
      const isPassword = key === 'password' && i === pairs.length - 1;
      if (!isPassword && value.includes(',')) throw new Error(`tgtadm parameter ${key} must not contain ','`);
      return `${key}=${value}`;
    })
    .join(',');
}

/** `portalOps portal=IP:PORT,` — tgtadm's form for --param on portal mode (the trailing ',' is tgtadm's). */
export function portalParams(address: string, port: number): string {
  if (/[,\s\0]/.test(address)) throw new Error(`invalid portal address ${address}`);
  return `portalOps portal=${address}:${port},`;
}

/** The bytes tgtadm writes: header then the parameter string with its NUL (omitted when empty). */
export function encodeRequest(req: TgtadmRequest): Buffer {
  const params = req.params ? Buffer.from(`${req.params}\0`, 'utf8') : Buffer.alloc(0);
  if (params.length > MAX_PARAMS_BYTES) throw new Error(`tgtadm parameters exceed ${MAX_PARAMS_BYTES} bytes`);
  const header = Buffer.alloc(REQUEST_HEADER_BYTES); // zeroed: sid, cid, host_no, pack default to 0
  header.writeUInt32LE(req.mode, 0);
  header.writeUInt32LE(req.op, 4);
  header.write('iscsi', 8, LLD_BYTES - 1, 'ascii');
  header.writeUInt32LE(REQUEST_HEADER_BYTES + params.length, 72);
  header.writeInt32LE(req.tid ?? NO_TID, 76);
  header.writeBigUInt64LE(req.sid ?? 0n, 80);
  header.writeBigUInt64LE(req.lun ?? NO_LUN, 88);
  header.writeUInt32LE(req.cid ?? 0, 96);
  header.writeUInt32LE(0, 100); // host_no
  header.writeUInt32LE(TYPE_DISK, 104);
  header.writeUInt32LE(req.accountDir ?? AccountDir.incoming, 108);
  header.writeUInt32LE(0, 112); // pack
  header.writeUInt32LE(req.force ? 1 : 0, 116);
  return Buffer.concat([header, params]);
}

export interface ResponseHeader {
  errno: number;
  /** Bytes of text that follow the header. */
  bodyBytes: number;
}

/** `struct tgtadm_rsp { uint32_t err; uint32_t len; }`; `len` counts the header too. */
export function decodeResponseHeader(buf: Buffer): ResponseHeader {
  if (buf.length < RESPONSE_HEADER_BYTES) throw new Error(`short tgtd response header (${buf.length} bytes)`);
  const errno = buf.readUInt32LE(0);
  const len = buf.readUInt32LE(4);
  // On error tgtd leaves len at the header size; a shorter len would be corrupt.
  if (len < RESPONSE_HEADER_BYTES) throw new Error(`corrupt tgtd response length ${len}`);
  return { errno, bodyBytes: len - RESPONSE_HEADER_BYTES };
}

/** The text of a show reply: tgtd sends it NUL-terminated. */
export function decodeResponseText(body: Buffer): string {
  const nul = body.indexOf(0);
  return body.toString('utf8', 0, nul === -1 ? body.length : nul);
}
