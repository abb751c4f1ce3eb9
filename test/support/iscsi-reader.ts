import { createHash } from 'node:crypto';
import net from 'node:net';

/**
 * A minimal iSCSI initiator for tests that need a LUN's bytes as the target serves them:
 * libiscsi-bin has no tool that prints data (iscsi-perf reads and discards), and the host
 * kernel has no iSCSI initiator. One TCP connection, login without authentication or with
 * one-way CHAP (MD5, RFC 7143 section 12.1.3; the target's ACL still has to admit the
 * initiator name), then READ CAPACITY(16) and READ(16) (RFC 7143 PDUs, no digests, no
 * immediate data), and WRITE(16) answering the target's R2Ts with Data-Out.
 */

const BHS = 48;
const OP = { loginRequest: 0x03, loginResponse: 0x23, scsiCommand: 0x01, scsiResponse: 0x21, dataIn: 0x25, dataOut: 0x05, r2t: 0x31, logoutRequest: 0x06, logoutResponse: 0x26, reject: 0x3f } as const;
const MAX_RECV = 262_144;

interface Pdu {
  opcode: number;
  bhs: Buffer;
  data: Buffer;
}

class UnitAttention extends Error {}

export interface IscsiReaderTarget {
  /** `127.0.0.1:<port>` */
  portal: string;
  targetIqn: string;
  lun: number;
  initiator: string;
  /** One-way CHAP: the name and secret the target expects from this initiator. */
  chap?: { username: string; secret: string };
}

export class IscsiReader {
  private buffered = Buffer.alloc(0);
  private waiting: Array<(pdu: Pdu) => void> = [];
  private queue: Pdu[] = [];
  private failure: Error | null = null;
  private cmdSn = 1;
  private expStatSn = 0;
  private itt = 1;
  blockSize = 512;
  sizeBytes = 0;
  /** The most data the target takes in one PDU (its MaxRecvDataSegmentLength; 8192 unless it says). */
  private targetMaxRecv = 8192;

  private constructor(
    private readonly socket: net.Socket,
    private readonly target: IscsiReaderTarget,
  ) {
    socket.on('data', (chunk: Buffer) => this.receive(chunk));
    const fail = (err: Error) => {
      this.failure = err;
      for (const waiter of this.waiting.splice(0)) waiter(undefined as unknown as Pdu);
    };
    socket.on('error', fail);
    socket.on('close', () => fail(new Error('the target closed the connection')));
  }

  /** Connects, logs in and reads the capacity. */
  static async open(target: IscsiReaderTarget, timeoutMs = 20_000): Promise<IscsiReader> {
    const [host, port] = target.portal.split(':');
    const socket = net.connect({ host: host!, port: Number(port) });
    socket.setTimeout(timeoutMs, () => socket.destroy(new Error(`no answer from ${target.portal} within ${timeoutMs} ms`)));
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    const reader = new IscsiReader(socket, target);
    try {
      await reader.login();
      await reader.readCapacity();
    } catch (err) {
      socket.destroy();
      throw err;
    }
    return reader;
  }

  /** `length` bytes from byte `offset` (both multiples of the block size), read in bursts of 256 KiB. */
  async read(offset: number, length: number): Promise<Buffer> {
    if (offset % this.blockSize || length % this.blockSize) throw new Error(`offset and length must be multiples of ${this.blockSize}`);
    const parts: Buffer[] = [];
    for (let done = 0; done < length; ) {
      const bytes = Math.min(MAX_RECV, length - done);
      const cdb = Buffer.alloc(16);
      cdb[0] = 0x88; // READ(16)
      cdb.writeBigUInt64BE(BigInt((offset + done) / this.blockSize), 2);
      cdb.writeUInt32BE(bytes / this.blockSize, 10);
      parts.push(await this.command(cdb, bytes));
      done += bytes;
    }
    return Buffer.concat(parts);
  }

  /**
   * Writes `data` at byte `offset` (both multiples of the block size) with WRITE(16): no
   * immediate or unsolicited data, so each burst is sent as the target asks for it (R2T),
   * in Data-Out PDUs no larger than the target takes.
   */
  async write(offset: number, data: Buffer): Promise<void> {
    if (offset % this.blockSize || data.length % this.blockSize) throw new Error(`offset and length must be multiples of ${this.blockSize}`);
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.writeOnce(offset, data);
      } catch (err) {
        if (!(err instanceof UnitAttention) || attempt >= 3) throw err;
      }
    }
  }

  private async writeOnce(offset: number, data: Buffer): Promise<void> {
    const itt = this.itt++;
    const cdb = Buffer.alloc(16);
    cdb[0] = 0x8a; // WRITE(16)
    cdb.writeBigUInt64BE(BigInt(offset / this.blockSize), 2);
    cdb.writeUInt32BE(data.length / this.blockSize, 10);
    const bhs = Buffer.alloc(BHS);
    bhs[0] = OP.scsiCommand;
    bhs[1] = 0x80 | 0x20 | 0x01; // final, write, simple task
    bhs[8] = (this.target.lun >> 8) & 0x3f;
    bhs[9] = this.target.lun & 0xff;
    bhs.writeUInt32BE(itt, 16);
    bhs.writeUInt32BE(data.length, 20);
    bhs.writeUInt32BE(this.cmdSn++, 24);
    bhs.writeUInt32BE(this.expStatSn, 28);
    cdb.copy(bhs, 32);
    this.send(bhs, Buffer.alloc(0));
    for (;;) {
      const pdu = await this.next();
      if (pdu.opcode === OP.reject) throw new Error(`the target rejected the command (reason ${pdu.bhs[2]})`);
      if (pdu.bhs.readUInt32BE(16) !== itt) continue;
      if (pdu.opcode === OP.r2t) {
        const [ttt, start, length] = [pdu.bhs.readUInt32BE(20), pdu.bhs.readUInt32BE(40), pdu.bhs.readUInt32BE(44)];
        for (let sent = 0, dataSn = 0; sent < length; dataSn++) {
          const size = Math.min(this.targetMaxRecv, length - sent);
          const out = Buffer.alloc(BHS);
          out[0] = OP.dataOut;
          out[1] = sent + size === length ? 0x80 : 0;
          out[8] = bhs[8]!;
          out[9] = bhs[9]!;
          out.writeUInt32BE(itt, 16);
          out.writeUInt32BE(ttt, 20);
          out.writeUInt32BE(this.expStatSn, 28);
          out.writeUInt32BE(dataSn, 36);
          out.writeUInt32BE(start + sent, 40);
          this.send(out, data.subarray(start + sent, start + sent + size));
          sent += size;
        }
      } else if (pdu.opcode === OP.scsiResponse) {
        if (pdu.bhs[3] === 0x02 && pdu.data.length >= 5 && (pdu.data[4]! & 0x0f) === 0x06) {
          this.expStatSn = pdu.bhs.readUInt32BE(24) + 1;
          throw new UnitAttention();
        }
        this.finish(pdu.bhs, pdu.bhs[3]!, Buffer.alloc(0), 0, pdu.bhs[2]!);
        return;
      }
    }
  }

  async close(): Promise<void> {
    try {
      const bhs = Buffer.alloc(BHS);
      bhs[0] = 0x40 | OP.logoutRequest;
      bhs[1] = 0x80; // close the session
      bhs.writeUInt32BE(this.itt++, 16);
      bhs.writeUInt32BE(this.cmdSn, 24);
      bhs.writeUInt32BE(this.expStatSn, 28);
      this.send(bhs, Buffer.alloc(0));
      await this.next(OP.logoutResponse);
    } catch {
      // Closing anyway.
    }
    this.socket.destroy();
  }

  private async login(): Promise<void> {
    const chap = this.target.chap;
    const security = ['InitiatorName=' + this.target.initiator, 'SessionType=Normal', 'TargetName=' + this.target.targetIqn, `AuthMethod=${chap ? 'CHAP' : 'None'}`];
    const operational = [
      'HeaderDigest=None',
      'DataDigest=None',
      `MaxRecvDataSegmentLength=${MAX_RECV}`,
      'InitialR2T=Yes',
      'ImmediateData=No',
      `MaxBurstLength=${MAX_RECV}`,
      'FirstBurstLength=65536',
      'DefaultTime2Wait=0',
      'DefaultTime2Retain=0',
      'MaxOutstandingR2T=1',
      'DataPDUInOrder=Yes',
      'DataSequenceInOrder=Yes',
      'ErrorRecoveryLevel=0',
      'MaxConnections=1',
    ];
    let tsih = 0;
    // Security stage to operational stage, then to full feature phase; a stage answered
    // without the transit bit is asked again (empty) until the target moves on. With CHAP
    // the security stage asks to move on only with the response to the target's challenge.
    for (const [csg, nsg, keys] of [
      [0, 1, security],
      [1, 3, operational],
    ] as const) {
      let text: readonly string[] = keys;
      let transitAsked = !(chap && csg === 0);
      for (let round = 0; ; round++) {
        const bhs = Buffer.alloc(BHS);
        bhs[0] = 0x40 | OP.loginRequest;
        bhs[1] = transitAsked ? 0x80 | (csg << 2) | nsg : csg << 2;
        Buffer.from([0x00, 0x02, 0x3d, 0x00, 0x00, 0x01]).copy(bhs, 8); // ISID
        bhs.writeUInt16BE(tsih, 14);
        bhs.writeUInt32BE(0x10, 16); // ITT, the same through the login
        bhs.writeUInt32BE(this.cmdSn, 24);
        bhs.writeUInt32BE(this.expStatSn, 28);
        this.send(bhs, Buffer.from(text.map((k) => `${k}\0`).join('')));
        const res = await this.next(OP.loginResponse);
        const declared = parseKeys(res.data).get('MaxRecvDataSegmentLength');
        if (declared) this.targetMaxRecv = Number(declared);
        const statusClass = res.bhs[36]!;
        if (statusClass !== 0) throw new Error(`login refused by ${this.target.targetIqn}: status class ${statusClass}, detail ${res.bhs[37]} (${res.data.toString('latin1').replace(/\0/g, ' ')})`);
        this.expStatSn = res.bhs.readUInt32BE(24) + 1;
        tsih = res.bhs.readUInt16BE(14);
        const transit = (res.bhs[1]! & 0x80) !== 0;
        if (transit && (res.bhs[1]! & 0x03) === nsg) break;
        if (round > 4) throw new Error(`the target does not leave login stage ${csg}`);
        text = [];
        if (chap && csg === 0) {
          const answer = parseKeys(res.data);
          if (answer.get('AuthMethod') === 'CHAP' && !answer.has('CHAP_C')) text = ['CHAP_A=5'];
          const challenge = answer.get('CHAP_C');
          const id = answer.get('CHAP_I');
          if (challenge !== undefined && id !== undefined) {
            text = [`CHAP_N=${chap.username}`, `CHAP_R=0x${chapResponse(Number(id), chap.secret, challenge)}`];
            transitAsked = true;
          }
        }
      }
    }
  }

  private async readCapacity(): Promise<void> {
    const cdb = Buffer.alloc(16);
    cdb[0] = 0x9e; // SERVICE ACTION IN(16)
    cdb[1] = 0x10; // READ CAPACITY(16)
    cdb.writeUInt32BE(32, 10);
    const data = await this.command(cdb, 32);
    this.blockSize = data.readUInt32BE(8);
    this.sizeBytes = Number(data.readBigUInt64BE(0) + 1n) * this.blockSize;
  }

  /**
   * One SCSI command that reads `length` bytes. The first command of a session usually
   * meets a UNIT ATTENTION (the target reports its power-on once per initiator): asked again.
   */
  private async command(cdb: Buffer, length: number): Promise<Buffer> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.commandOnce(cdb, length);
      } catch (err) {
        if (!(err instanceof UnitAttention) || attempt >= 3) throw err;
      }
    }
  }

  private async commandOnce(cdb: Buffer, length: number): Promise<Buffer> {
    const itt = this.itt++;
    const bhs = Buffer.alloc(BHS);
    bhs[0] = OP.scsiCommand;
    bhs[1] = 0x80 | 0x40 | 0x01; // final, read, simple task
    bhs[8] = (this.target.lun >> 8) & 0x3f;
    bhs[9] = this.target.lun & 0xff;
    bhs.writeUInt32BE(itt, 16);
    bhs.writeUInt32BE(length, 20);
    bhs.writeUInt32BE(this.cmdSn++, 24);
    bhs.writeUInt32BE(this.expStatSn, 28);
    cdb.copy(bhs, 32);
    this.send(bhs, Buffer.alloc(0));

    const out = Buffer.alloc(length);
    let received = 0;
    for (;;) {
      const pdu = await this.next();
      if (pdu.opcode === OP.reject) throw new Error(`the target rejected the command (reason ${pdu.bhs[2]})`);
      if (pdu.bhs.readUInt32BE(16) !== itt) continue;
      if (pdu.opcode === OP.dataIn) {
        pdu.data.copy(out, pdu.bhs.readUInt32BE(40));
        received += pdu.data.length;
        if (pdu.bhs[1]! & 0x01) return this.finish(pdu.bhs, pdu.bhs[3]!, out, received);
      } else if (pdu.opcode === OP.scsiResponse) {
        // CHECK CONDITION carries the sense data (after its 2-byte length); key 6 is UNIT ATTENTION.
        if (pdu.bhs[3] === 0x02 && pdu.data.length >= 5 && (pdu.data[4]! & 0x0f) === 0x06) {
          this.expStatSn = pdu.bhs.readUInt32BE(24) + 1;
          throw new UnitAttention();
        }
        return this.finish(pdu.bhs, pdu.bhs[3]!, out, received, pdu.bhs[2]!);
      }
    }
  }

  private finish(bhs: Buffer, status: number, out: Buffer, received: number, response = 0): Buffer {
    this.expStatSn = bhs.readUInt32BE(24) + 1;
    if (response !== 0 || status !== 0) throw new Error(`SCSI command failed: response ${response}, status 0x${status.toString(16)}`);
    if (received !== out.length) throw new Error(`read ${received} of ${out.length} bytes`);
    return out;
  }

  private send(bhs: Buffer, data: Buffer): void {
    bhs.writeUIntBE(data.length, 5, 3);
    const pad = (4 - (data.length % 4)) % 4;
    this.socket.write(Buffer.concat([bhs, data, Buffer.alloc(pad)]));
  }

  private receive(chunk: Buffer): void {
    this.buffered = Buffer.concat([this.buffered, chunk]);
    while (this.buffered.length >= BHS) {
      const ahs = this.buffered[4]! * 4;
      const dsl = this.buffered.readUIntBE(5, 3);
      const total = BHS + ahs + dsl + ((4 - (dsl % 4)) % 4);
      if (this.buffered.length < total) return;
      const bhs = Buffer.from(this.buffered.subarray(0, BHS));
      const pdu = { opcode: bhs[0]! & 0x3f, bhs, data: Buffer.from(this.buffered.subarray(BHS + ahs, BHS + ahs + dsl)) };
      this.buffered = this.buffered.subarray(total);
      const waiter = this.waiting.shift();
      if (waiter) waiter(pdu);
      else this.queue.push(pdu);
    }
  }

  private async next(opcode?: number): Promise<Pdu> {
    for (;;) {
      if (this.failure && this.queue.length === 0) throw this.failure;
      const pdu = this.queue.shift() ?? (await new Promise<Pdu>((resolve) => this.waiting.push(resolve)));
      if (!pdu) throw this.failure ?? new Error('connection lost');
      if (opcode === undefined || pdu.opcode === opcode) return pdu;
      if (pdu.opcode === OP.reject) throw new Error(`the target rejected a PDU (reason ${pdu.bhs[2]})`);
    }
  }
}

/** The key=value pairs of a login response's text, NUL-separated. */
function parseKeys(data: Buffer): Map<string, string> {
  const keys = new Map<string, string>();
  for (const pair of data.toString('latin1').split('\0')) {
    const eq = pair.indexOf('=');
    if (eq > 0) keys.set(pair.slice(0, eq), pair.slice(eq + 1));
  }
  return keys;
}

/** CHAP with MD5 (RFC 1994): MD5 over the identifier byte, the secret and the challenge, in hex. */
function chapResponse(id: number, secret: string, challenge: string): string {
  const hex = challenge.replace(/^0x/i, '');
  return createHash('md5').update(Buffer.from([id])).update(secret, 'latin1').update(Buffer.from(hex, 'hex')).digest('hex');
}

/** Writes `data` at `offset` of a LUN through the target, in one session. */
export async function writeLun(target: IscsiReaderTarget, offset: number, data: Buffer): Promise<void> {
  const writer = await IscsiReader.open(target);
  try {
    await writer.write(offset, data);
  } finally {
    await writer.close();
  }
}

/** Reads `length` bytes at `offset` of a LUN through the target, in one session. */
export async function readLun(target: IscsiReaderTarget, offset: number, length: number): Promise<Buffer> {
  const reader = await IscsiReader.open(target);
  try {
    return await reader.read(offset, length);
  } finally {
    await reader.close();
  }
}
