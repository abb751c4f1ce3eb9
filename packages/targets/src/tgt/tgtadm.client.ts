import net from 'node:net';
import { TgtadmError } from './tgtadm-error';
import {
  AccountDir,
  decodeResponseHeader,
  decodeResponseText,
  encodeRequest,
  formatParams,
  Mode,
  Op,
  portalParams,
  RESPONSE_HEADER_BYTES,
  tgtdSocketPath,
  type TgtadmRequest,
} from './tgtadm.protocol';

export interface TgtadmClientOptions {
  /** tgtd's control port (`tgtd -C`); the stock service uses 0. */
  controlPort: number;
  /** Overrides the socket path (tgtd honours TGT_IPC_SOCKET the same way). */
  socketPath?: string;
  timeoutMs?: number;
}

/** One management request as sent, for tests and logs; never carries the parameter string. */
export interface TgtadmRequestRecord {
  mode: number;
  op: number;
  tid: number;
  what: string;
}

/**
 * tgtadm's job done from Node: one unix-socket connection per request, as tgtadm does
 * (tgtd answers once and closes). Secrets travel only inside the socket.
 * tgtd accepts only peers with its own uid and gid (SO_PEERCRED), so the caller must run
 * as tgtd's user (root for the stock service); a sudo prefix cannot help here.
 */
export class TgtadmClient {
  readonly socketPath: string;
  /** Called before each request is sent (tests record requests with it). */
  onRequest?: (record: TgtadmRequestRecord) => void;
  /** Requests sent that change tgtd's state (everything but show). */
  mutationCount = 0;

  constructor(private readonly options: TgtadmClientOptions) {
    // tgtd and tgtadm keep it in a C short: larger values are refused at tgtd's start.
    if (!Number.isInteger(options.controlPort) || options.controlPort < 0 || options.controlPort > 32767) {
      throw new Error(`tgt control port must be 0-32767, got ${options.controlPort}`);
    }
    this.socketPath = options.socketPath ?? tgtdSocketPath(options.controlPort);
  }

  /** Sends one request; resolves with the reply text (empty for non-show ops) or throws TgtadmError. */
  async request(req: TgtadmRequest, what: string): Promise<string> {
    this.onRequest?.({ mode: req.mode, op: req.op, tid: req.tid ?? -1, what });
    if (req.op !== Op.show) this.mutationCount += 1;
    const reply = await this.exchange(encodeRequest(req), what);
    const header = decodeResponseHeader(reply);
    if (header.errno !== 0) throw new TgtadmError(header.errno, what);
    const body = reply.subarray(RESPONSE_HEADER_BYTES);
    if (body.length < header.bodyBytes) throw new Error(`tgtd: ${what}: reply cut short (${body.length} of ${header.bodyBytes} bytes)`);
    return decodeResponseText(body.subarray(0, header.bodyBytes));
  }

  // --- show -------------------------------------------------------------------------

  /** Every target with LUNs, sessions, accounts and ACLs (`tgtadm --mode target --op show`). */
  showTargets(): Promise<string> {
    return this.request({ mode: Mode.target, op: Op.show }, 'show targets');
  }

  showAccounts(): Promise<string> {
    return this.request({ mode: Mode.account, op: Op.show }, 'show accounts');
  }

  showPortals(): Promise<string> {
    return this.request({ mode: Mode.portal, op: Op.show }, 'show portals');
  }

  /** System state; also the cheapest "is tgtd answering" probe. */
  showSystem(): Promise<string> {
    return this.request({ mode: Mode.system, op: Op.show }, 'show system');
  }

  // --- targets and LUNs ---------------------------------------------------------------

  async newTarget(tid: number, iqn: string): Promise<void> {
    await this.request({ mode: Mode.target, op: Op.new, tid, params: formatParams([['targetname', iqn]]) }, `create target ${iqn} as tid ${tid}`);
  }

  /** With `force`, tgtd closes the target's sessions instead of answering TARGET_ACTIVE. */
  async deleteTarget(tid: number, force: boolean): Promise<void> {
    await this.request({ mode: Mode.target, op: Op.delete, tid, force }, `delete tid ${tid}`);
  }

  /** `state` is `ready` or `offline`; other names are iSCSI parameters (MaxRecvDataSegmentLength, …). */
  async updateTarget(tid: number, name: string, value: string): Promise<void> {
    await this.request({ mode: Mode.target, op: Op.update, tid, params: formatParams([[name, value]]) }, `set ${name} on tid ${tid}`);
  }

  async newLun(tid: number, lun: number, backingStore: string, bsType: string): Promise<void> {
    const params = formatParams([
      ['path', backingStore],
      ['bstype', bsType],
    ]);
    await this.request({ mode: Mode.device, op: Op.new, tid, lun: BigInt(lun), params }, `add LUN ${lun} (${backingStore}) to tid ${tid}`);
  }

  async deleteLun(tid: number, lun: number): Promise<void> {
    await this.request({ mode: Mode.device, op: Op.delete, tid, lun: BigInt(lun) }, `delete LUN ${lun} of tid ${tid}`);
  }

  // --- ACLs ---------------------------------------------------------------------------

  async bindInitiatorName(tid: number, initiator: string): Promise<void> {
    await this.request({ mode: Mode.target, op: Op.bind, tid, params: formatParams([['initiator-name', initiator]]) }, `allow ${initiator} on tid ${tid}`);
  }

  async unbindInitiatorName(tid: number, initiator: string): Promise<void> {
    await this.request({ mode: Mode.target, op: Op.unbind, tid, params: formatParams([['initiator-name', initiator]]) }, `disallow ${initiator} on tid ${tid}`);
  }

  /** `ALL`, an address or a CIDR network. */
  async bindAddress(tid: number, address: string): Promise<void> {
    await this.request({ mode: Mode.target, op: Op.bind, tid, params: formatParams([['initiator-address', address]]) }, `allow address ${address} on tid ${tid}`);
  }

  async unbindAddress(tid: number, address: string): Promise<void> {
    await this.request({ mode: Mode.target, op: Op.unbind, tid, params: formatParams([['initiator-address', address]]) }, `disallow address ${address} on tid ${tid}`);
  }

  // --- CHAP accounts ------------------------------------------------------------------

  /** The password goes only into the socket; the error text names the user alone. */
  async newAccount(user: string, password: string): Promise<void> {
    const params = formatParams([
      ['user', user],
      ['password', password],
    ]);
    await this.request({ mode: Mode.account, op: Op.new, params }, `create account ${user}`);
  }

  /** tgtd also unbinds the account from every target. */
  async deleteAccount(user: string): Promise<void> {
    await this.request({ mode: Mode.account, op: Op.delete, params: formatParams([['user', user]]) }, `delete account ${user}`);
  }

  async bindAccount(tid: number, user: string, direction: 'incoming' | 'outgoing'): Promise<void> {
    const accountDir = AccountDir[direction];
    await this.request({ mode: Mode.account, op: Op.bind, tid, accountDir, params: formatParams([['user', user]]) }, `bind ${direction} account ${user} to tid ${tid}`);
  }

  async unbindAccount(tid: number, user: string, direction: 'incoming' | 'outgoing'): Promise<void> {
    const accountDir = AccountDir[direction];
    await this.request({ mode: Mode.account, op: Op.unbind, tid, accountDir, params: formatParams([['user', user]]) }, `unbind ${direction} account ${user} from tid ${tid}`);
  }

  // --- portals ------------------------------------------------------------------------

  async newPortal(address: string, port: number): Promise<void> {
    await this.request({ mode: Mode.portal, op: Op.new, params: portalParams(address, port) }, `add portal ${address}:${port}`);
  }

  /** Writes the request and collects everything until tgtd closes the connection. */
  private exchange(request: Buffer, what: string): Promise<Buffer> {
    const timeoutMs = this.options.timeoutMs ?? 10_000;
    return new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      const socket = net.createConnection({ path: this.socketPath });
      const fail = (message: string) => {
        socket.destroy();
        reject(new Error(`tgtd: ${what}: ${message}`));
      };
      socket.setTimeout(timeoutMs, () => fail(`no reply within ${timeoutMs} ms on ${this.socketPath}`));
      socket.on('connect', () => socket.write(request)); // no half-close: tgtadm never sends FIN first
      socket.on('data', (chunk: Buffer) => chunks.push(chunk));
      socket.on('error', (err: NodeJS.ErrnoException) => {
        if (err.code === 'ENOENT' || err.code === 'ECONNREFUSED') fail(`tgtd is not listening on ${this.socketPath} (${err.code})`);
        else if (err.code === 'EACCES') fail(`no permission to open ${this.socketPath}; run as tgtd's user`);
        else fail(err.message);
      });
      socket.on('end', () => {
        socket.destroy();
        const reply = Buffer.concat(chunks);
        if (reply.length === 0) {
          // tgtd drops peers whose uid/gid differ from its own without a reply.
          reject(new Error(`tgtd: ${what}: connection closed without a reply (is this process running as tgtd's user?)`));
          return;
        }
        resolve(reply);
      });
    });
  }
}
