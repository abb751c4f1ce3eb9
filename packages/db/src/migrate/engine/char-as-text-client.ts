import pg from 'pg';

const PG_CHAR = 18;
const PG_TEXT = 25;

type QueryResultLike = { fields?: Array<{ dataTypeID: number }> } | undefined;

// Postgres's one-byte "char" (pg_class.relkind, pg_constraint.contype, ...) arrives as a
// one-letter string, exactly like text; adapter-pg 7.10 has no mapping for it and fails the
// schema engine's introspection queries, so we relabel the column type before it looks.
function charAsText<T>(result: T): T {
  const results = (Array.isArray(result) ? result : [result]) as QueryResultLike[];
  for (const one of results) {
    for (const field of one?.fields ?? []) {
      if (field.dataTypeID === PG_CHAR) field.dataTypeID = PG_TEXT;
    }
  }
  return result;
}

const baseQuery = pg.Client.prototype.query as (...args: unknown[]) => unknown;

/** A pg.Client for the schema engine's pools: identical except for the "char" relabelling. */
export class CharAsTextClient extends pg.Client {
  // pg.Pool calls query(text, values, callback); adapter-pg's transactions use the promise form.
  override query(...args: unknown[]): never {
    const last = args.length - 1;
    const callback = args[last];
    if (typeof callback === 'function') {
      args[last] = (error: unknown, result: unknown) => callback(error, error ? result : charAsText(result));
      return baseQuery.apply(this, args) as never;
    }
    const out = baseQuery.apply(this, args) as Promise<unknown> | undefined;
    return (out && typeof out.then === 'function' ? out.then(charAsText) : out) as never;
  }
}
