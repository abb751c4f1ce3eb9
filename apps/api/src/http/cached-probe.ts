/**
 * Wraps a probe so that concurrent callers share one run, and its result is reused for
 * `ttlMs` after it settles. A burst of readiness requests (a load balancer, a thundering
 * herd after a restart) then costs the dependencies one check, not one per request.
 * `run` must not reject: a probe reports failure in its result.
 */
export function cachedProbe<T>(run: () => Promise<T>, ttlMs: number, now: () => number = Date.now): () => Promise<T> {
  let inFlight: Promise<T> | null = null;
  let last: { value: T; at: number } | null = null;
  return () => {
    if (last && now() - last.at < ttlMs) return Promise.resolve(last.value);
    if (inFlight) return inFlight;
    inFlight = run().then(
      (value) => {
        last = { value, at: now() };
        inFlight = null;
        return value;
      },
      (err: unknown) => {
        inFlight = null;
        throw err;
      },
    );
    return inFlight;
  };
}
