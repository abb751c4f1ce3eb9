import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { lockPathOf, withFileLock } from './file-lock';

describe('withFileLock', () => {
  let dir: string;
  let file: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'bootlun-lock-'));
    file = path.join(dir, 'saveconfig.json');
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('runs holders one at a time and removes the lock after each', async () => {
    const events: string[] = [];
    const holder = (name: string) =>
      withFileLock(file, async () => {
        events.push(`${name} in`);
        await new Promise((resolve) => setTimeout(resolve, 40));
        events.push(`${name} out`);
      });
    await Promise.all([holder('a'), holder('b'), holder('c')]);
    for (let i = 0; i < events.length; i += 2) expect(events[i + 1]).toBe(events[i]!.replace(' in', ' out'));
    expect(existsSync(lockPathOf(file))).toBe(false);
  });

  it('releases the lock when the holder throws', async () => {
    await expect(withFileLock(file, async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(existsSync(lockPathOf(file))).toBe(false);
  });

  it('breaks a lock left by a process that died', async () => {
    const dead = spawnSync('true').pid;
    await writeFile(lockPathOf(file), `${dead} abc\n`);
    await expect(withFileLock(file, async () => 'ran', 2_000)).resolves.toBe('ran');
  });

  it('waits for a live holder in another process and names it on timeout', async () => {
    const sleeper = spawn('sleep', ['30']);
    try {
      await writeFile(lockPathOf(file), `${sleeper.pid} abc\n`);
      await expect(withFileLock(file, async () => 'ran', 200)).rejects.toThrow(new RegExp(`held by ${sleeper.pid} abc`));
      expect(existsSync(lockPathOf(file))).toBe(true);
    } finally {
      sleeper.kill();
    }
  });
});
