import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PermanentTargetError } from '@bootlun/core';
import { assertSavedMatchesLive, STALE_TEMP_MS, writeSecretFileAtomically } from './atomic-file';

describe('writeSecretFileAtomically', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(path.join(os.tmpdir(), 'atomic-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('replaces the file with mode 0600 and leaves no temp file', async () => {
    const file = path.join(dir, 'saveconfig.json');
    writeFileSync(file, 'old', { mode: 0o644 });
    await writeSecretFileAtomically(file, '{"new":true}', 'LIO saveconfig file');
    expect(readFileSync(file, 'utf8')).toBe('{"new":true}');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readdirSync(dir)).toEqual(['saveconfig.json']);
  });

  it("removes a killed writer's old temp file but not one another writer may still be writing", async () => {
    const file = path.join(dir, 'saveconfig.json');
    const stale = path.join(dir, '.saveconfig.json.aaaaaaaaaaaa.tmp');
    const young = path.join(dir, '.saveconfig.json.bbbbbbbbbbbb.tmp');
    const unrelated = path.join(dir, '.other.json.cccccccccccc.tmp');
    for (const f of [stale, young, unrelated]) writeFileSync(f, 'partial');
    const past = (Date.now() - STALE_TEMP_MS - 5_000) / 1000;
    utimesSync(stale, past, past);
    utimesSync(unrelated, past, past);
    await writeSecretFileAtomically(file, 'x', 'LIO saveconfig file');
    expect(readdirSync(dir).sort()).toEqual(['.other.json.cccccccccccc.tmp', '.saveconfig.json.bbbbbbbbbbbb.tmp', 'saveconfig.json']);
  });

  it('a missing directory is a permanent failure naming the file', async () => {
    await expect(writeSecretFileAtomically(path.join(dir, 'nope', 'f.conf'), 'x', 'tgt config file')).rejects.toThrow(PermanentTargetError);
    await expect(writeSecretFileAtomically(path.join(dir, 'nope', 'f.conf'), 'x', 'tgt config file')).rejects.toThrow(/cannot write the tgt config file/);
  });
});

describe('assertSavedMatchesLive', () => {
  const check = (before: string[], after: string[], saved: string[]) => () => assertSavedMatchesLive('/etc/x.json', { before, after }, saved);

  it('accepts a save that equals the host', () => {
    expect(check(['a', 'b'], ['a', 'b'], ['a', 'b'])).not.toThrow();
  });

  it('leaves a target made or removed during the save to the next save', () => {
    // b removed by the next job while we saved; c made meanwhile.
    expect(check(['a', 'b'], ['a', 'c'], ['a', 'b'])).not.toThrow();
  });

  it('refuses a file missing a target that was live throughout, or naming one that never was', () => {
    expect(check(['a', 'b'], ['a', 'b'], ['a'])).toThrow(/not saved: b/);
    expect(check(['a'], ['a'], ['a', 'z'])).toThrow(/saved but gone: z/);
  });
});
