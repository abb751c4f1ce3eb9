import {
  AccountDir,
  decodeResponseHeader,
  decodeResponseText,
  encodeRequest,
  formatParams,
  Mode,
  Op,
  portalParams,
  REQUEST_HEADER_BYTES,
  tgtadmErrnoName,
  tgtadmMessage,
  tgtdSocketPath,
} from './tgtadm.protocol';

/** Bytes the installed tgtadm 1.0.85 wrote (strace -xx of `tgtadm -C 77 --lld iscsi …`). */
function header(fields: { mode: number; op: number; len: number; tid: number; lun: 'none' | number; acDir?: number; force?: number }): string {
  const u32 = (n: number) => Buffer.from(new Uint32Array([n >>> 0]).buffer).toString('hex');
  const lld = Buffer.alloc(64);
  lld.write('iscsi');
  const lun = fields.lun === 'none' ? 'ff'.repeat(8) : Buffer.from(new BigUint64Array([BigInt(fields.lun)]).buffer).toString('hex');
  return [
    u32(fields.mode),
    u32(fields.op),
    lld.toString('hex'),
    u32(fields.len),
    u32(fields.tid),
    '00'.repeat(8), // sid
    lun,
    u32(0), // cid
    u32(0), // host_no
    u32(0), // device_type: disk
    u32(fields.acDir ?? 0),
    u32(0), // pack
    u32(fields.force ?? 0),
  ].join('');
}

const cstring = (s: string) => Buffer.from(`${s}\0`).toString('hex');

describe('encodeRequest', () => {
  it('matches tgtadm for `--mode target --op new --tid 1 --targetname iqn.2024-01.test:t1`', () => {
    const bytes = encodeRequest({ mode: Mode.target, op: Op.new, tid: 1, params: 'targetname=iqn.2024-01.test:t1' });
    expect(bytes.toString('hex')).toBe(header({ mode: 1, op: 0, len: 151, tid: 1, lun: 'none' }) + cstring('targetname=iqn.2024-01.test:t1'));
  });

  it('matches tgtadm for a logical unit with backing store and bstype', () => {
    const params = formatParams([
      ['path', '/tmp/tgtprobe/lun.img'],
      ['bstype', 'rdwr'],
    ]);
    const bytes = encodeRequest({ mode: Mode.device, op: Op.new, tid: 1, lun: 1n, params });
    expect(bytes.toString('hex')).toBe(header({ mode: 2, op: 0, len: 159, tid: 1, lun: 1 }) + cstring('path=/tmp/tgtprobe/lun.img,bstype=rdwr'));
  });

  it('matches tgtadm for a new account (no tid: -1) and for binding it outgoing', () => {
    const created = encodeRequest({ mode: Mode.account, op: Op.new, params: formatParams([['user', 'u1'], ['password', 'secretpass12']]) });
    expect(created.toString('hex')).toBe(header({ mode: 7, op: 0, len: 150, tid: -1, lun: 'none' }) + cstring('user=u1,password=secretpass12'));

    const bound = encodeRequest({ mode: Mode.account, op: Op.bind, tid: 1, accountDir: AccountDir.outgoing, params: 'user=u1' });
    expect(bound.toString('hex')).toBe(header({ mode: 7, op: 3, len: 128, tid: 1, lun: 'none', acDir: 1 }) + cstring('user=u1'));
  });

  it('matches tgtadm for a forced target delete and for show (header only)', () => {
    expect(encodeRequest({ mode: Mode.target, op: Op.delete, tid: 1, force: true }).toString('hex')).toBe(
      header({ mode: 1, op: 1, len: 120, tid: 1, lun: 'none', force: 1 }),
    );
    const show = encodeRequest({ mode: Mode.target, op: Op.show });
    expect(show.length).toBe(REQUEST_HEADER_BYTES);
    expect(show.toString('hex')).toBe(header({ mode: 1, op: 2, len: 120, tid: -1, lun: 'none' }));
  });

  it('refuses a parameter string tgtd would not accept', () => {
    expect(() => encodeRequest({ mode: Mode.target, op: Op.show, params: 'x'.repeat(9000) })).toThrow(/8192/);
  });
});

describe('formatParams', () => {
  it('joins key=value pairs with commas', () => {
    expect(formatParams([['initiator-name', 'iqn.2024-05.org.example:a']])).toBe('initiator-name=iqn.2024-05.org.example:a');
  });

  it('rejects a comma inside a value tgtd would split, but lets a trailing password keep one', () => {
    expect(() => formatParams([['targetname', 'iqn.a,b']])).toThrow(/','/);
    expect(() => formatParams([['user', 'a,b'], ['password', 'x']])).toThrow(/user/);
    expect(formatParams([['user', 'u'], ['password', 'p,q=r']])).toBe('user=u,password=p,q=r');
  });

  it('rejects NUL anywhere', () => {
    expect(() => formatParams([['user', 'a\0b']])).toThrow(/NUL/);
  });
});

describe('portalParams', () => {
  it('uses tgtadm --param form with its trailing comma', () => {
    expect(portalParams('127.0.0.1', 13261)).toBe('portalOps portal=127.0.0.1:13261,');
  });
});

describe('responses', () => {
  it('decodes the header: error number and the length of the text after it', () => {
    expect(decodeResponseHeader(Buffer.from('0000000008000000', 'hex'))).toEqual({ errno: 0, bodyBytes: 0 });
    expect(decodeResponseHeader(Buffer.from('090000000800000000', 'hex'))).toEqual({ errno: 9, bodyBytes: 0 });
    expect(decodeResponseHeader(Buffer.from('000000001e000000', 'hex'))).toEqual({ errno: 0, bodyBytes: 22 });
  });

  it('rejects a short or corrupt header', () => {
    expect(() => decodeResponseHeader(Buffer.alloc(4))).toThrow(/short/);
    expect(() => decodeResponseHeader(Buffer.from('0000000004000000', 'hex'))).toThrow(/corrupt/);
  });

  it('strips the NUL tgtd ends its text with', () => {
    expect(decodeResponseText(Buffer.from('Account list:\n    u1\n\0'))).toBe('Account list:\n    u1\n');
    expect(decodeResponseText(Buffer.alloc(0))).toBe('');
  });

  it('names errors as tgtadm does', () => {
    expect(tgtadmErrnoName(9)).toBe('TARGET_EXIST');
    expect(tgtadmMessage(9)).toBe('this target already exists');
    expect(tgtadmErrnoName(15)).toBe('NO_USER');
    expect(tgtadmMessage(13)).toBe('this access control rule does not exist');
    expect(tgtadmErrnoName(99)).toBe('ERRNO_99');
  });

  it('finds the socket of a control port', () => {
    expect(tgtdSocketPath(0)).toBe('/var/run/tgtd/socket.0');
  });
});
