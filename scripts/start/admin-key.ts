/**
 * The first admin API key, so a fresh `npm start` is usable at once: created through the
 * same use case as `npm run apikey`, written to DATA_DIR/admin-api-key (mode 0600; only a
 * hash is in the database, this file is the one copy). Later starts check that the file's
 * key still works and only replace it when it does not (a new database, a revoked key).
 */
import fs from 'node:fs';
import { authenticateApiKey, ConflictError, createApiKey, UnauthorizedError, type ApiKeyRepository } from '@bootlun/core';
import { writeSecretFile } from './data-dir';
import { warn } from './log';

const KEY_NAME = 'local-admin';

async function stillValid(repo: ApiKeyRepository, file: string): Promise<boolean> {
  if (!fs.existsSync(file)) return false;
  try {
    await authenticateApiKey(repo, fs.readFileSync(file, 'utf8').trim());
    return true;
  } catch (err) {
    if (!(err instanceof UnauthorizedError)) throw err;
    warn(`${file} holds a key this database does not accept (${err.message}); writing a new one`);
    return false;
  }
}

/** Ensures `file` holds a working admin key; returns true when it was created now. */
export async function ensureAdminKey(repo: ApiKeyRepository, file: string): Promise<boolean> {
  if (await stillValid(repo, file)) return false;
  let created;
  try {
    created = await createApiKey(repo, { name: KEY_NAME, role: 'admin' });
  } catch (err) {
    if (!(err instanceof ConflictError)) throw err;
    // The name is taken by a key whose secret we no longer have: keep it, add another.
    created = await createApiKey(repo, { name: `${KEY_NAME}-${Date.now().toString(36)}`, role: 'admin' });
  }
  writeSecretFile(file, `${created.token}\n`);
  return true;
}
