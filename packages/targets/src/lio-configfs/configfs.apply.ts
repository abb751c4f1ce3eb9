import { randomUUID } from 'node:crypto';
import { chapDigest } from '../lio/rtslib-dump';
import type { ConfigfsPort } from './configfs.port';
import {
  aclAuthFile,
  aclDir,
  AUTH_UNSET,
  ISCSI,
  linkAlias,
  lunDir,
  mappedLunDir,
  portalDir,
  storageObjectDir,
  targetDir,
  tpgAttribute,
  tpgDir,
} from './configfs.paths';
import type { ConfigfsOp } from './configfs.plan';

/**
 * Carries out planned operations with the writes rtslib-fb makes for the same objects,
 * in its order (tcm.py, target.py). Each operation is a few mkdir/symlink/write calls;
 * a half-done one is found by the next read and finished or rebuilt by the next plan.
 */

export interface ApplyContext {
  port: ConfigfsPort;
  /** Bytes of the backing file, for fileio's fd_dev_size (the kernel requires it for files). */
  fileBytes(path: string): Promise<number>;
  /** Called with the digest of every password written, so a hidden password can still be compared. */
  wrotePassword?(iqn: string, initiator: string, file: 'password' | 'password_mutual', digest: string | null): void;
  digestKey: string;
  random?: () => string;
}

function code(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException | undefined)?.code;
}

async function tolerate(codes: string[], step: () => Promise<void>): Promise<void> {
  try {
    await step();
  } catch (err) {
    if (!codes.includes(code(err) ?? '')) throw err;
  }
}

/** Removes every symlink in `dir`, then `dir` itself. */
async function removeLinkedDir(port: ConfigfsPort, dir: string): Promise<void> {
  for (const entry of await port.list(dir)) {
    if (entry.kind === 'link') await tolerate(['ENOENT'], () => port.unlink(`${dir}/${entry.name}`));
  }
  await tolerate(['ENOENT'], () => port.rmdir(dir));
}

async function removeMappedLuns(port: ConfigfsPort, acl: string, pointingAt?: string): Promise<void> {
  for (const entry of await port.list(acl)) {
    if (entry.kind !== 'dir' || !/^lun_\d+$/.test(entry.name)) continue;
    const dir = `${acl}/${entry.name}`;
    if (pointingAt !== undefined) {
      const link = (await port.list(dir)).find((e) => e.kind === 'link');
      if (link && (await port.readlink(`${dir}/${link.name}`)) !== pointingAt) continue;
    }
    await removeLinkedDir(port, dir);
  }
}

export async function removeAcl(port: ConfigfsPort, acl: string): Promise<void> {
  await removeMappedLuns(port, acl);
  await tolerate(['ENOENT'], () => port.rmdir(acl));
}

/** rtslib's LUN.delete: the mappings to the LUN first, then its link and directory. */
export async function removeLun(port: ConfigfsPort, tpg: string, lun: string): Promise<void> {
  for (const acl of await port.list(`${tpg}/acls`)) {
    if (acl.kind === 'dir') await removeMappedLuns(port, `${tpg}/acls/${acl.name}`, lun);
  }
  await removeLinkedDir(port, lun);
}

/** rtslib's TPG.delete: disable (drops sessions), then ACLs, LUNs, portals, the TPG. */
export async function removeTpg(port: ConfigfsPort, tpg: string): Promise<void> {
  if ((await port.read(`${tpg}/enable`))?.trim() === '1') await port.write(`${tpg}/enable`, '0');
  for (const acl of await port.list(`${tpg}/acls`)) if (acl.kind === 'dir') await removeAcl(port, `${tpg}/acls/${acl.name}`);
  for (const lun of await port.list(`${tpg}/lun`)) if (lun.kind === 'dir') await removeLun(port, tpg, `${tpg}/lun/${lun.name}`);
  for (const np of await port.list(`${tpg}/np`)) if (np.kind === 'dir') await tolerate(['ENOENT'], () => port.rmdir(`${tpg}/np/${np.name}`));
  await tolerate(['ENOENT'], () => port.rmdir(tpg));
}

export async function removeIscsiTarget(port: ConfigfsPort, iqn: string): Promise<void> {
  const dir = targetDir(iqn);
  for (const tpg of await port.list(dir)) if (tpg.kind === 'dir' && /^tpgt_\d+$/.test(tpg.name)) await removeTpg(port, `${dir}/${tpg.name}`);
  await tolerate(['ENOENT'], () => port.rmdir(dir));
}

/** The storage object, then its HBA when nothing else lives there (rtslib keeps one object per HBA). */
export async function removeStorageObject(port: ConfigfsPort, hba: string, name: string): Promise<void> {
  await tolerate(['ENOENT'], () => port.rmdir(storageObjectDir(hba, name)));
  await tolerate(['ENOENT', 'ENOTEMPTY', 'EBUSY'], () => port.rmdir(`core/${hba}`));
}

async function createStorageObject(ctx: ApplyContext, op: Extract<ConfigfsOp, { kind: 'create-backstore' }>): Promise<void> {
  const { port } = ctx;
  await tolerate(['EEXIST'], () => port.mkdir(`core/${op.hba}`));
  const dir = storageObjectDir(op.hba, op.name);
  await port.mkdir(dir);
  try {
    if (op.plugin === 'fileio') {
      const bytes = await ctx.fileBytes(op.path);
      await port.write(`${dir}/control`, `fd_dev_name=${op.path},fd_dev_size=${bytes}`);
      await port.write(`${dir}/udev_path`, op.path);
    } else {
      await port.write(`${dir}/udev_path`, op.path);
      await port.write(`${dir}/control`, `udev_path=${op.path}`);
      await port.write(`${dir}/control`, 'readonly=0');
    }
    await port.write(`${dir}/enable`, '1\n');
    await port.write(`${dir}/wwn/vpd_unit_serial`, `${(ctx.random ?? randomUUID)()}\n`);
  } catch (err) {
    // Like rtslib: a storage object that failed to configure is removed again.
    await removeStorageObject(port, op.hba, op.name).catch(() => undefined);
    throw err;
  }
}

export async function applyOp(ctx: ApplyContext, op: ConfigfsOp): Promise<void> {
  const { port } = ctx;
  const random = ctx.random ?? randomUUID;
  switch (op.kind) {
    case 'remove-backstore':
      return removeStorageObject(port, op.hba, op.name);
    case 'create-backstore':
      return createStorageObject(ctx, op);
    case 'create-target':
      // Creating iscsi/ is what loads iscsi_target_mod on a host that never served iSCSI.
      if (!(await port.exists(ISCSI))) await tolerate(['EEXIST'], () => port.mkdir(ISCSI));
      return tolerate(['EEXIST'], () => port.mkdir(targetDir(op.iqn)));
    case 'create-tpg':
      return tolerate(['EEXIST'], () => port.mkdir(tpgDir(op.iqn)));
    case 'remove-portal':
      return tolerate(['ENOENT'], () => port.rmdir(`${tpgDir(op.iqn)}/np/${op.ip}:${op.port}`));
    case 'set-attribute':
      return port.write(tpgAttribute(op.iqn, op.name), op.value);
    case 'enable-tpg':
      return port.write(`${tpgDir(op.iqn)}/enable`, '1');
    case 'remove-lun':
      return removeLun(port, tpgDir(op.iqn), lunDir(op.iqn, op.index));
    case 'create-lun': {
      const dir = lunDir(op.iqn, op.index);
      await tolerate(['EEXIST'], () => port.mkdir(dir));
      return port.symlink(storageObjectDir(op.hba, op.name), `${dir}/${linkAlias(random)}`);
    }
    case 'remove-acl':
      return removeAcl(port, aclDir(op.iqn, op.initiator));
    case 'create-acl':
      return tolerate(['EEXIST'], () => port.mkdir(aclDir(op.iqn, op.initiator)));
    case 'remove-mapped-lun':
      return removeLinkedDir(port, mappedLunDir(op.iqn, op.initiator, op.index));
    case 'create-mapped-lun': {
      const dir = mappedLunDir(op.iqn, op.initiator, op.index);
      await tolerate(['EEXIST'], () => port.mkdir(dir));
      await port.symlink(lunDir(op.iqn, op.tpgLun), `${dir}/${linkAlias(random)}`);
      return port.write(`${dir}/write_protect`, '0');
    }
    case 'set-auth': {
      await port.write(aclAuthFile(op.iqn, op.initiator, op.file), op.value ?? AUTH_UNSET);
      if (op.file === 'password' || op.file === 'password_mutual') {
        ctx.wrotePassword?.(op.iqn, op.initiator, op.file, op.value === null ? null : chapDigest(ctx.digestKey, op.value));
      }
      return;
    }
    case 'create-portal':
      return tolerate(['EEXIST'], () => port.mkdir(portalDir(op.iqn, op.ip, op.port)));
  }
}
