import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { ImageImportError, type Backing, type ImageImportHooks, type ImportProgress } from '@bootlun/core';
import { CommandError, RecordingRunner, SpawnRunner, type CommandSpec } from '@bootlun/exec';
import { downloadPathFor, LocalImageImporter } from './local-image-importer';

/**
 * The importer against a real HTTP server on 127.0.0.1 and a real backing file: bytes,
 * sizes, checksums, progress and the failure rules. (qcow2 conversion itself runs in the
 * end-to-end test, with the real qemu-img.)
 */
const MIB = 1024 * 1024;
const LUN_BYTES = 4 * MIB;
const image = randomBytes(3 * MIB + 123);
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

let server: http.Server;
let base: string;
let dir: string;
let backing: Backing & { kind: 'file' };

beforeAll(async () => {
  server = http.createServer((req, res) => {
    const url = new URL(req.url!, 'http://x');
    const send = (body: Buffer) => res.writeHead(200, { 'content-length': body.length }).end(body);
    switch (url.pathname) {
      case '/image.raw':
        return send(image);
      case '/big.raw':
        return send(Buffer.alloc(LUN_BYTES + 1));
      case '/big-chunked.raw': {
        // No Content-Length: the size is only known by counting.
        res.writeHead(200, { 'transfer-encoding': 'chunked' });
        for (let i = 0; i < 5; i++) res.write(Buffer.alloc(MIB, 1));
        return res.end();
      }
      case '/chunked.raw':
        res.writeHead(200);
        res.write(image.subarray(0, MIB));
        return res.end(image.subarray(MIB));
      case '/private.raw': {
        const expected = `Basic ${Buffer.from('alice:s3cr@t').toString('base64')}`;
        if (req.headers.authorization !== expected) return res.writeHead(401, { 'www-authenticate': 'Basic' }).end();
        return send(image);
      }
      case '/moved':
        return res.writeHead(302, { location: '/image.raw' }).end();
      case '/elsewhere':
        return res.writeHead(302, { location: 'ftp://127.0.0.1/x' }).end();
      case '/broken':
        return res.writeHead(500).end('oops');
      case '/gzip.raw':
        return res.writeHead(200, { 'content-encoding': 'gzip', 'content-length': 3 }).end('abc');
      case '/short.raw':
        res.writeHead(200, { 'content-length': 1000 });
        res.write(Buffer.alloc(10));
        return setTimeout(() => res.socket?.destroy(), 20);
      default:
        return res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'bootlun-import-'));
  backing = { kind: 'file', path: path.join(dir, 'bootlun-00000000-0000-4000-8000-000000000001.img') };
  // What the LUN held before: every byte 0xee, so untouched and zeroed parts are told apart.
  writeFileSync(backing.path, Buffer.alloc(LUN_BYTES, 0xee));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function recorder() {
  const reports: ImportProgress[] = [];
  const hooks: ImageImportHooks = { progress: async (p) => void reports.push(p), checkpoint: async () => undefined };
  return { reports, hooks };
}

const importer = (runner = new RecordingRunner()) => new LocalImageImporter({ runner, transfer: { progressEveryPercent: 10 } });
const untouched = () => readFileSync(backing.path).equals(Buffer.alloc(LUN_BYTES, 0xee));

async function failure(promise: Promise<unknown>): Promise<ImageImportError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ImageImportError);
  return err as ImageImportError;
}

describe('LocalImageImporter, raw', () => {
  it('writes the image from byte 0, the rest of the LUN reads as zeros, the size is unchanged', async () => {
    const { reports, hooks } = recorder();
    const result = await importer().importImage({ source: { url: `${base}/image.raw`, format: 'raw', sha256: sha(image) }, backing, sizeBytes: LUN_BYTES }, hooks);
    expect(result).toEqual({ format: 'raw', downloadedBytes: image.length, sha256: sha(image), imageBytes: image.length });
    const lun = readFileSync(backing.path);
    expect(lun.length).toBe(LUN_BYTES);
    expect(lun.subarray(0, image.length).equals(image)).toBe(true);
    expect(lun.subarray(image.length).equals(Buffer.alloc(LUN_BYTES - image.length))).toBe(true);
    // Announced before writing, then every 10 % at most, then done.
    expect(reports[0]).toEqual({ stage: 'write', bytes: 0, totalBytes: image.length });
    expect(reports.length).toBeLessThanOrEqual(12);
    expect(reports.at(-1)).toEqual({ stage: 'write', bytes: image.length, totalBytes: image.length });
  });

  it('streams a reply without Content-Length, follows a redirect and sends URL credentials as Basic auth', async () => {
    for (const url of [`${base}/chunked.raw`, `${base}/moved`, base.replace('http://', 'http://alice:s3cr%40t@') + '/private.raw']) {
      const result = await importer().importImage({ source: { url, format: 'raw', sha256: null }, backing, sizeBytes: LUN_BYTES }, recorder().hooks);
      expect(result.sha256).toBe(sha(image));
      expect(readFileSync(backing.path).subarray(0, image.length).equals(image)).toBe(true);
    }
  });

  it('refuses an announced image larger than the LUN before writing, naming both sizes', async () => {
    const { reports, hooks } = recorder();
    const err = await failure(importer().importImage({ source: { url: `${base}/big.raw`, format: 'raw', sha256: null }, backing, sizeBytes: LUN_BYTES }, hooks));
    expect(err.message).toBe(`the image (${LUN_BYTES + 1} bytes) is larger than the LUN (${LUN_BYTES} bytes)`);
    expect(err.permanent).toBe(true);
    expect(reports).toEqual([]);
    expect(untouched()).toBe(true);
  });

  it('stops an unannounced image at the LUN size, and never grows the file', async () => {
    const err = await failure(importer().importImage({ source: { url: `${base}/big-chunked.raw`, format: 'raw', sha256: null }, backing, sizeBytes: LUN_BYTES }, recorder().hooks));
    expect(err.message).toBe(`the image is larger than the LUN (${LUN_BYTES} bytes): more than ${LUN_BYTES} bytes arrived`);
    expect(err.permanent).toBe(true);
    expect(statSync(backing.path).size).toBe(LUN_BYTES);
  });

  it('fails permanently on a checksum mismatch, with both digests', async () => {
    const wrong = 'f'.repeat(64);
    const err = await failure(importer().importImage({ source: { url: `${base}/image.raw`, format: 'raw', sha256: wrong }, backing, sizeBytes: LUN_BYTES }, recorder().hooks));
    expect(err.message).toBe(`SHA-256 mismatch: expected ${wrong}, the ${image.length} bytes received hash to ${sha(image)} (already written into the LUN)`);
    expect(err.permanent).toBe(true);
  });

  it('tells permanent HTTP failures from retryable ones and never shows credentials or the query string', async () => {
    const secretUrl = (p: string) => base.replace('http://', 'http://alice:wrong-pw@') + `${p}?token=topsecret`;
    const cases: Array<[string, RegExp, boolean]> = [
      ['/nothing-here', /answered HTTP 404/, true],
      ['/private.raw', /answered HTTP 401/, true],
      ['/broken', /answered HTTP 500/, false],
      ['/gzip.raw', /Content-Encoding gzip/, true],
      ['/elsewhere', /redirects to a ftp: URL/, true],
      ['/short.raw', /failed after 10 bytes|ended after 10 of the 1000 bytes/, false],
    ];
    for (const [p, message, permanent] of cases) {
      const err = await failure(importer().importImage({ source: { url: secretUrl(p), format: 'raw', sha256: null }, backing, sizeBytes: LUN_BYTES }, recorder().hooks));
      expect(err.message).toMatch(message);
      expect(err.permanent).toBe(permanent);
      expect(err.message).not.toMatch(/wrong-pw|alice|topsecret/);
    }
    const refused = await failure(importer().importImage({ source: { url: 'http://127.0.0.1:1/x.raw', format: 'raw', sha256: null }, backing, sizeBytes: LUN_BYTES }, recorder().hooks));
    expect(refused).toMatchObject({ permanent: false, message: expect.stringMatching(/cannot fetch http:\/\/127\.0\.0\.1:1\/x\.raw: .*ECONNREFUSED/) });
  });

  it('never creates a missing backing store', async () => {
    rmSync(backing.path);
    const err = await failure(importer().importImage({ source: { url: `${base}/image.raw`, format: 'raw', sha256: null }, backing, sizeBytes: LUN_BYTES }, recorder().hooks));
    expect(err).toMatchObject({ permanent: true, message: expect.stringMatching(/is missing; an import never creates one/) });
    expect(existsSync(backing.path)).toBe(false);
  });

  it('lets a cancellation through unchanged', async () => {
    class Cancelled extends Error {}
    let calls = 0;
    const hooks: ImageImportHooks = { progress: async () => undefined, checkpoint: async () => { calls += 1; throw new Cancelled('cancelled'); } };
    await expect(new LocalImageImporter({ runner: new RecordingRunner(), transfer: { checkpointEveryMs: 0 } }).importImage({ source: { url: `${base}/image.raw`, format: 'raw', sha256: null }, backing, sizeBytes: LUN_BYTES }, hooks)).rejects.toBeInstanceOf(Cancelled);
    expect(calls).toBe(1);
    // Cancelled before anything was written.
    expect(untouched()).toBe(true);
  });
});

describe('LocalImageImporter, qcow2 (qemu-img stubbed)', () => {
  const plainInfo = readFileSync(path.join(__dirname, '../../../../test/fixtures/qemu-img/info-plain.json'), 'utf8');
  const overlayInfo = readFileSync(path.join(__dirname, '../../../../test/fixtures/qemu-img/info-backing-file.json'), 'utf8');

  it('downloads beside the backing file (0600), converts into it, and removes the download', async () => {
    let modeSeen = 0;
    const runner = new RecordingRunner((spec) => {
      if (spec.argv[1] === 'info') {
        modeSeen = statSync(spec.argv.at(-1)!).mode & 0o777;
        expect(readFileSync(spec.argv.at(-1)!).equals(image)).toBe(true);
        return { stdout: plainInfo };
      }
      return undefined;
    });
    const { reports, hooks } = recorder();
    const result = await importer(runner).importImage({ source: { url: `${base}/image.raw`, format: 'qcow2', sha256: sha(image) }, backing, sizeBytes: LUN_BYTES }, hooks);
    const download = downloadPathFor(backing, '/unused');
    expect(path.dirname(download)).toBe(dir);
    expect(runner.commandLines).toEqual([`qemu-img info --output=json -f qcow2 -- ${download}`, `qemu-img convert -q -f qcow2 -O raw -n --target-is-zero -- ${download} ${backing.path}`]);
    expect(modeSeen).toBe(0o600);
    expect(result).toEqual({ format: 'qcow2', downloadedBytes: image.length, sha256: sha(image), imageBytes: 1048576 });
    expect(readdirSync(dir)).toEqual([path.basename(backing.path)]);
    expect(reports.map((r) => r.stage).filter((s, i, all) => all.indexOf(s) === i)).toEqual(['download', 'inspect', 'convert']);
    // Emptied for the conversion (the stub wrote nothing): reads as zeros, same size.
    expect(readFileSync(backing.path).equals(Buffer.alloc(LUN_BYTES))).toBe(true);
  });

  it('stops a running conversion when the operation is cancelled, and removes the download', async () => {
    class Cancelled extends Error {}
    const real = new SpawnRunner();
    // qemu-img info answers from the fixture; the convert is a real program that would run for a minute.
    const runner = { run: (spec: CommandSpec) => (spec.argv[1] === 'info' ? Promise.resolve({ argv: spec.argv, code: 0, stdout: plainInfo, stderr: '', durationMs: 0 }) : real.run({ ...spec, argv: ['sleep', '61.25'] })) };
    let converting = false;
    const hooks: ImageImportHooks = {
      progress: async (p) => void (converting = p.stage === 'convert'),
      checkpoint: async () => {
        if (converting) throw new Cancelled('operation cancelled');
      },
    };
    const started = Date.now();
    await expect(new LocalImageImporter({ runner }).importImage({ source: { url: `${base}/image.raw`, format: 'qcow2', sha256: null }, backing, sizeBytes: LUN_BYTES }, hooks)).rejects.toBeInstanceOf(Cancelled);
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(() => execFileSync('pgrep', ['-f', 'sleep 61.25'])).toThrow(); // nothing left running
    expect(readdirSync(dir)).toEqual([path.basename(backing.path)]);
  });

  it('fails permanently without qemu-img, leaving the LUN untouched and no download behind', async () => {
    const runner = { run: async () => Promise.reject(new CommandError('qemu-img: spawn qemu-img ENOENT', ['qemu-img'], null, '', 'spawn')) };
    const err = await failure(new LocalImageImporter({ runner }).importImage({ source: { url: `${base}/image.raw`, format: 'qcow2', sha256: null }, backing, sizeBytes: LUN_BYTES }, recorder().hooks));
    expect(err).toMatchObject({ permanent: true, message: expect.stringMatching(/qemu-img is not installed on the storage host \(Debian: apt-get install qemu-utils\)/) });
    expect(untouched()).toBe(true);
    expect(readdirSync(dir)).toEqual([path.basename(backing.path)]);
  });

  it('refuses an image with a backing file, and one larger than the LUN, before touching the LUN', async () => {
    const overlay = new RecordingRunner(() => ({ stdout: overlayInfo }));
    expect((await failure(importer(overlay).importImage({ source: { url: `${base}/image.raw`, format: 'qcow2', sha256: null }, backing, sizeBytes: LUN_BYTES }, recorder().hooks))).message).toMatch(/refused: it has a backing file/);
    const small = new RecordingRunner(() => ({ stdout: plainInfo }));
    const err = await failure(importer(small).importImage({ source: { url: `${base}/image.raw`, format: 'qcow2', sha256: null }, backing, sizeBytes: MIB - 512 }, recorder().hooks));
    expect(err).toMatchObject({ permanent: true, message: `the qcow2 image's virtual size (1048576 bytes) is larger than the LUN (${MIB - 512} bytes)` });
    expect(overlay.commandLines).toHaveLength(1);
    expect(untouched()).toBe(true);
  });

  it('checks the checksum of the qcow2 file before touching the LUN', async () => {
    const runner = new RecordingRunner(() => ({ stdout: plainInfo }));
    const err = await failure(importer(runner).importImage({ source: { url: `${base}/image.raw`, format: 'qcow2', sha256: '0'.repeat(64) }, backing, sizeBytes: LUN_BYTES }, recorder().hooks));
    expect(err.message).toMatch(/SHA-256 mismatch: .*\(the LUN was not touched\)/);
    expect(runner.calls).toEqual([]);
    expect(untouched()).toBe(true);
    expect(readdirSync(dir)).toEqual([path.basename(backing.path)]);
  });
});
