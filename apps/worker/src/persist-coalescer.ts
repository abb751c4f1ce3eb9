/**
 * Saving the target configuration rewrites all of it (targetcli's saveconfig grows with
 * every object on the host), so requests are coalesced: many jobs in a burst cause one
 * save shortly after the burst, and shutdown flushes whatever is pending.
 */
export class PersistCoalescer {
  private dirty = false;
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;

  constructor(
    private readonly persist: () => Promise<void>,
    private readonly onError: (err: Error) => void,
    private readonly delayMs = 250,
  ) {}

  request(): void {
    this.dirty = true;
    if (!this.timer && !this.running) this.timer = setTimeout(() => void this.run(), this.delayMs);
  }

  private async run(): Promise<void> {
    this.timer = null;
    if (!this.dirty) return;
    this.dirty = false;
    this.running = this.persist().catch((err: Error) => {
      this.dirty = true; // try again with the next request or the final flush
      this.onError(err);
    });
    await this.running;
    this.running = null;
    if (this.dirty) this.request();
  }

  /** Waits for a running save and performs a pending one now. */
  async flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.running;
    if (this.dirty) await this.run();
  }
}
