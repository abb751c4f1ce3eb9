import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { TgtadmError } from './tgtadm-error';
import { TgtadmClient } from './tgtadm.client';
import { REQUEST_HEADER_BYTES } from './tgtadm.protocol';

/**
 * Framing only, against a stand-in socket that answers like tgtd (header, text, close).
 * Whether tgtd accepts what the client sends is proven by the e2e test on a real tgtd.
 */
type Answer = (request: Buffer) => Buffer[] | 'close';

function reply(errno: number, text?: string): Buffer[] {
  const body = text === undefined ? Buffer.alloc(0) : Buffer.from(`${text}\0`);
  const head = Buffer.alloc(8);
  head.writeUInt32LE(errno, 0);
  head.writeUInt32LE(8 + body.length, 4);
  return [head, body];
}

describe('TgtadmClient', () => {
  let dir: string;
  let server: net.Server;
  let received: Buffer[];
  let answer: Answer;

  beforeEach(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'tgtadm-client-'));
    received = [];
    server = net.createServer((socket) => {
      let data = Buffer.alloc(0);
      socket.on('data', (chunk: Buffer) => {
        data = Buffer.concat([data, chunk]);
        if (data.length < REQUEST_HEADER_BYTES || data.length < data.readUInt32LE(72)) return;
        received.push(data);
        const out = answer(data);
        if (out === 'close') return void socket.destroy();
        // Split the reply so the client has to reassemble it.
        for (const part of out) socket.write(part);
        socket.end();
      });
    });
    await new Promise<void>((resolve) => server.listen(path.join(dir, 'socket.0'), resolve));
  });

  afterEach(async () => {
    await new Promise((resolve) => server.close(resolve));
    rmSync(dir, { recursive: true, force: true });
  });

  const client = () => new TgtadmClient({ controlPort: 0, socketPath: path.join(dir, 'socket.0'), timeoutMs: 2_000 });

  it('sends header and parameters, and returns the text of a show', async () => {
    answer = () => reply(0, 'Account list:\n    u1\n');
    await expect(client().showAccounts()).resolves.toBe('Account list:\n    u1\n');
    expect(received[0]!.length).toBe(REQUEST_HEADER_BYTES);
    expect(received[0]!.readUInt32LE(0)).toBe(7);
    expect(received[0]!.readUInt32LE(4)).toBe(2);
  });

  it('puts the password only in the parameter string and counts mutations', async () => {
    answer = () => reply(0);
    const c = client();
    await c.newAccount('bl1', 'Secret1Secret1');
    expect(received[0]!.subarray(REQUEST_HEADER_BYTES).toString()).toBe('user=bl1,password=Secret1Secret1\0');
    expect(c.mutationCount).toBe(1);
    await c.showTargets();
    expect(c.mutationCount).toBe(1);
  });

  it("turns tgtd's error number into a TgtadmError without the secret", async () => {
    answer = () => reply(14);
    const err = await client()
      .newAccount('bl1', 'Secret1Secret1')
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TgtadmError);
    expect((err as TgtadmError).code).toBe('USER_EXIST');
    expect((err as TgtadmError).message).toBe('tgtd: create account bl1: this account already exists');
    expect((err as TgtadmError).message).not.toContain('Secret1');
  });

  it('reports a connection closed without a reply (tgtd does that to peers of another uid)', async () => {
    answer = () => 'close';
    await expect(client().showTargets()).rejects.toThrow(/closed without a reply/);
  });

  it('refuses a control port tgtd cannot have (it keeps it in a C short)', () => {
    expect(() => new TgtadmClient({ controlPort: 42105 })).toThrow(/0-32767/);
    expect(new TgtadmClient({ controlPort: 0 }).socketPath).toBe('/var/run/tgtd/socket.0');
  });

  it('reports a missing tgtd', async () => {
    const absent = new TgtadmClient({ controlPort: 0, socketPath: path.join(dir, 'nobody-here') });
    await expect(absent.showTargets()).rejects.toThrow(/not listening .*ENOENT/);
  });

  it('rejects a reply shorter than its header says', async () => {
    answer = () => {
      const [head] = reply(0, 'abc');
      return [head!, Buffer.from('a')];
    };
    await expect(client().showTargets()).rejects.toThrow(/cut short/);
  });
});
