import { uuidSchema } from '@bootlun/contracts';
import { NotFoundError, ValidationError } from '@bootlun/core';
import type { z } from 'zod';

/** Parses input once; the parsed value is what the route passes on. Issues name their fields. */
export function parse<S extends z.ZodType>(schema: S, value: unknown, where: 'body' | 'query' | 'path'): z.output<S> {
  const result = schema.safeParse(value ?? {});
  if (result.success) return result.data;
  const fields = result.error.issues.map((issue) => {
    const keys = issue.code === 'unrecognized_keys' ? issue.keys : [];
    const field = [...issue.path.map(String), ...keys].join('.') || where;
    const message = issue.code === 'unrecognized_keys' ? 'is not a known field' : issue.message;
    return { field, message };
  });
  const detail = fields.map((f) => `${f.field} ${f.message}`).join('; ');
  throw new ValidationError(`invalid ${where}: ${detail}`, fields);
}

/**
 * The id segment of `/<collection>/:id`. A segment that cannot be an id names no member of
 * the collection, so it is a 404 like an unknown id, not a 400: `/nodes/stats` is a path
 * that does not exist, not a badly spelled node id.
 */
export function pathId(value: unknown, what: string): string {
  const result = uuidSchema.safeParse(value);
  if (result.success) return result.data;
  throw new NotFoundError(what, String(value));
}
