import { accessSync, closeSync, constants as fsConstants, lstatSync, mkdirSync, openSync, promises as fs, readdirSync, readlinkSync, readSync, rmdirSync, symlinkSync, unlinkSync, writeSync } from 'node:fs';
import path from 'node:path';

/**
 * The one door through which the configfs driver touches LIO: a handful of directory,
 * symlink and small-file operations on paths relative to the LIO root
 * (`/sys/kernel/config/target`). Injectable so unit tests run against a plain directory
 * tree that plays the kernel's part (see configfs.fake.ts).
 */

export type ConfigfsEntryKind = 'dir' | 'file' | 'link';

export interface ConfigfsEntry {
  name: string;
  kind: ConfigfsEntryKind;
}

export interface ConfigfsPort {
  /** The absolute root, for messages. */
  readonly root: string;
  /** Entries of a directory; a missing directory has none. */
  list(dir: string): Promise<ConfigfsEntry[]>;
  /** A file's text, or null when it does not exist. Other errors (EPERM on a write-only file) throw. */
  read(file: string): Promise<string | null>;
  write(file: string, value: string): Promise<void>;
  mkdir(dir: string): Promise<void>;
  rmdir(dir: string): Promise<void>;
  /** Creates `link` pointing at the object `target` (both relative to the root). */
  symlink(target: string, link: string): Promise<void>;
  unlink(link: string): Promise<void>;
  /** Where `link` points, relative to the root (null when it points outside of it). */
  readlink(link: string): Promise<string | null>;
  exists(entry: string): Promise<boolean>;
  /** Names of the regular files in `dir` the owner may write (what rtslib saves as attributes and parameters). */
  writableFiles(dir: string): Promise<string[]>;
}

/** Where LIO lives on every distribution (rtslib's CFSNode.configfs_dir). */
export const CONFIGFS_TARGET_ROOT = '/sys/kernel/config/target';

function errno(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException | undefined)?.code;
}

/** Rejects any relative path that could leave the root. */
export function checkRelative(p: string): string {
  if (p === '' || p.startsWith('/') || p.split('/').some((part) => part === '..' || part === '.' || part === '')) {
    throw new Error(`invalid configfs path ${JSON.stringify(p)}`);
  }
  return p;
}

const READ_BUFFER = Buffer.alloc(64 * 1024);

/**
 * node:fs on the real configfs (or on any directory standing in for it). The calls are
 * synchronous on purpose: every one is a small in-kernel operation, and going through
 * libuv's thread pool per file made a full read of the tree several times slower (measured
 * in the emulated storage VM); the worker runs one job at a time anyway.
 */
export class NodeConfigfs implements ConfigfsPort {
  constructor(readonly root: string = CONFIGFS_TARGET_ROOT) {}

  private abs(p: string): string {
    return path.join(this.root, checkRelative(p));
  }

  async list(dir: string): Promise<ConfigfsEntry[]> {
    let entries;
    try {
      entries = readdirSync(dir === '' ? this.root : this.abs(dir), { withFileTypes: true });
    } catch (err) {
      if (errno(err) === 'ENOENT' || errno(err) === 'ENOTDIR') return [];
      throw err;
    }
    return entries
      .map((e): ConfigfsEntry => ({ name: e.name, kind: e.isSymbolicLink() ? 'link' : e.isDirectory() ? 'dir' : 'file' }))
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  async read(file: string): Promise<string | null> {
    let fd: number;
    try {
      fd = openSync(this.abs(file), 'r');
    } catch (err) {
      if (errno(err) === 'ENOENT') return null;
      throw err;
    }
    // open/read/close without readFileSync's fstat: an attribute is at most a page, and a
    // save reads thousands of them (every syscall is dear under emulation).
    try {
      const chunks: Buffer[] = [];
      for (;;) {
        const n = readSync(fd, READ_BUFFER, 0, READ_BUFFER.length, null);
        if (n === 0) break;
        chunks.push(Buffer.from(READ_BUFFER.subarray(0, n)));
      }
      return Buffer.concat(chunks).toString('utf8');
    } finally {
      closeSync(fd);
    }
  }

  async write(file: string, value: string): Promise<void> {
    // One write(2) per value: configfs hands each write to the kernel's store function as is.
    // No O_CREAT: configfs has no files but the kernel's, and a stand-in tree must not grow any.
    const fd = openSync(this.abs(file), fsConstants.O_WRONLY | fsConstants.O_TRUNC);
    try {
      writeSync(fd, value);
    } finally {
      closeSync(fd);
    }
  }

  async mkdir(dir: string): Promise<void> {
    mkdirSync(this.abs(dir));
  }

  async rmdir(dir: string): Promise<void> {
    rmdirSync(this.abs(dir));
  }

  async symlink(target: string, link: string): Promise<void> {
    symlinkSync(this.abs(target), this.abs(link));
  }

  async unlink(link: string): Promise<void> {
    unlinkSync(this.abs(link));
  }

  async readlink(link: string): Promise<string | null> {
    const absLink = this.abs(link);
    const resolved = path.resolve(path.dirname(absLink), readlinkSync(absLink));
    const rel = path.relative(this.root, resolved);
    // configfs answers readlink with a path relative to the link (../../../core/…); both forms resolve here.
    return rel.startsWith('..') || path.isAbsolute(rel) ? null : rel.split(path.sep).join('/');
  }

  async writableFiles(dir: string): Promise<string[]> {
    const files = (await this.list(dir)).filter((e) => e.kind === 'file');
    return files.filter((f) => (lstatSync(this.abs(`${dir}/${f.name}`)).mode & 0o200) !== 0).map((f) => f.name);
  }

  async exists(entry: string): Promise<boolean> {
    try {
      lstatSync(this.abs(entry));
      return true;
    } catch (err) {
      if (errno(err) === 'ENOENT') return false;
      throw err;
    }
  }
}

/** The same check without a promise, for choosing a driver at start. */
export function configfsWritableSync(root: string = CONFIGFS_TARGET_ROOT): boolean {
  try {
    accessSync(path.join(root, 'core'), fsConstants.W_OK);
    return true;
  } catch {
    return false;
  }
}

/** Whether this process may change LIO through configfs here (root, configfs mounted, target_core_mod loaded). */
export async function configfsWritable(root: string = CONFIGFS_TARGET_ROOT): Promise<boolean> {
  try {
    await fs.access(path.join(root, 'core'), fs.constants.W_OK);
    return true;
  } catch {
    return false;
  }
}
