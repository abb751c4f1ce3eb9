import type { ApiKeyRole } from '@bootlun/contracts';
import { authenticateApiKey, ForbiddenError, ROLE_RANK, UnauthorizedError, type ApiKeyRepository } from '@bootlun/core';
import type { RequestHandler } from 'express';

declare module 'express-serve-static-core' {
  interface Request {
    auth?: { keyId: string; name: string; role: ApiKeyRole };
  }
}

/** Reads `Authorization: Bearer <key>` (or basic auth with the key as password, for browsers on Bull Board). */
function tokenFrom(header: string | undefined): string | null {
  if (!header) return null;
  const [scheme, value] = header.split(' ', 2);
  if (scheme?.toLowerCase() === 'bearer' && value) return value.trim();
  if (scheme?.toLowerCase() === 'basic' && value) {
    const decoded = Buffer.from(value, 'base64').toString('utf8');
    return decoded.slice(decoded.indexOf(':') + 1);
  }
  return null;
}

/** 401 without a valid key; sets req.auth. Touches last_used_at at most once a minute per key. */
export function authenticate(repo: ApiKeyRepository): RequestHandler {
  const lastTouch = new Map<string, number>();
  return async (req, _res, next) => {
    const token = tokenFrom(req.header('authorization'));
    if (!token) throw new UnauthorizedError();
    const key = await authenticateApiKey(repo, token);
    req.auth = { keyId: key.id, name: key.name, role: key.role };
    const now = Date.now();
    if ((lastTouch.get(key.id) ?? 0) < now - 60_000) {
      lastTouch.set(key.id, now);
      repo.touch(key.id, new Date(now)).catch(() => undefined);
    }
    next();
  };
}

/** 403 when the authenticated key's role is below `role`. */
export function requireRole(role: ApiKeyRole): RequestHandler {
  return (req, _res, next) => {
    if (!req.auth) throw new UnauthorizedError();
    if (ROLE_RANK[req.auth.role] < ROLE_RANK[role]) {
      throw new ForbiddenError(`this action needs the ${role} role; the key "${req.auth.name}" has ${req.auth.role}`);
    }
    next();
  };
}
