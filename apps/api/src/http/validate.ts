import { ValidationError } from '@bootlun/core';
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
