import { readFileSync } from 'node:fs';
import path from 'node:path';
import { qemuImgConvertArgv, qemuImgInfoArgv } from './qemu-img.commands';
import { parseQemuImgInfo } from './qemu-img.parse';

const fixture = (name: string) => readFileSync(path.join(__dirname, '../../../../test/fixtures/qemu-img', name), 'utf8');

describe('qemu-img info (captured output)', () => {
  it('reads the virtual size of a self-contained qcow2', () => {
    expect(parseQemuImgInfo(fixture('info-plain.json'))).toEqual({ virtualSize: 1048576, refusal: null });
  });

  it('refuses an overlay on a backing file', () => {
    expect(parseQemuImgInfo(fixture('info-backing-file.json'))).toMatchObject({ virtualSize: 2097152, refusal: expect.stringMatching(/backing file/) });
  });

  it('refuses an external data file', () => {
    expect(parseQemuImgInfo(fixture('info-data-file.json')).refusal).toMatch(/external data file/);
  });

  it('throws on something that is not a qcow2 description', () => {
    expect(() => parseQemuImgInfo('{"format": "raw", "virtual-size": 1}')).toThrow(/not qcow2/);
    expect(() => parseQemuImgInfo('{"format": "qcow2"}')).toThrow(/no virtual size/);
    expect(() => parseQemuImgInfo('not json')).toThrow();
  });
});

describe('qemu-img argv', () => {
  it('names the source format and never creates the target', () => {
    expect(qemuImgInfoArgv('/srv/luns/.import-x.qcow2')).toEqual(['qemu-img', 'info', '--output=json', '-f', 'qcow2', '--', '/srv/luns/.import-x.qcow2']);
    expect(qemuImgConvertArgv('/a.qcow2', '/srv/luns/bootlun-x.img', { targetIsZero: true })).toEqual(['qemu-img', 'convert', '-q', '-f', 'qcow2', '-O', 'raw', '-n', '--target-is-zero', '--', '/a.qcow2', '/srv/luns/bootlun-x.img']);
    expect(qemuImgConvertArgv('/a.qcow2', '/dev/vg0/bootlun-x', { targetIsZero: false })).not.toContain('--target-is-zero');
  });
});
