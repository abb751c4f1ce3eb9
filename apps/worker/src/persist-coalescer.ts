/**
 * Saving the target configuration rewrites all of it (targetcli's saveconfig, or our
 * saveconfig.json built from the whole configfs tree), so requests are coalesced: many
 * jobs in a burst cause one save shortly after the burst, and shutdown flushes whatever is
 * pending.
 *
 * A save also costs the host seconds of CPU once it holds many targets, and on LIO it reads
 * configfs synchronously, so it is kept out of jobs: while a job runs (hold/release around
 * it) a due save waits for the job to end, the usual case being the next step of a client's
 * sequence (create, then assign) arriving right after the last one. A save never waits
 * longer than `maxDeferMs` behind a stream of jobs.
 */
export class PersistCoalescer {
  private dirtySince: number | null = null;
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private holds = 0;

  constructor(
    private readonly persist: () => Promise<void>,
    private readonly onError: (err: Error) => void,
    private readonly delayMs = 250,
    private readonly maxDeferMs = 10_000,
    private readonly now: () => number = Date.now,
  ) {}

  request(): void {
    this.dirtySince ??= this.now();
    if (!this.timer && !this.running) this.arm(this.delayMs);
  }

  /** A job starts: saves wait until it ends (or until the oldest request is maxDeferMs old). */
  hold(): void {
    this.holds++;
  }

  release(): void {
    this.holds = Math.max(0, this.holds - 1);
    if (this.holds === 0 && this.dirtySince !== null && !this.running) this.arm(this.delayMs);
  }

  private arm(ms: number): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.run(), ms);
  }

  private async run(force = false): Promise<void> {
    this.timer = null;
    if (this.dirtySince === null) return;
    const deferredMs = this.now() - this.dirtySince;
    if (!force && this.holds > 0 && deferredMs < this.maxDeferMs) {
      this.arm(this.maxDeferMs - deferredMs); // release() re-arms sooner when the job ends
      return;
    }
    this.dirtySince = null;
    this.running = this.persist().catch((err: Error) => {
      this.dirtySince ??= this.now(); // try again with the next request or the final flush
      this.onError(err);
    });
    await this.running;
    this.running = null;
    if (this.dirtySince !== null) this.arm(this.delayMs);
  }

  /** Waits for a running save and performs a pending one now, held or not. */
  async flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.running;
    if (this.dirtySince !== null) await this.run(true);
  }
}
