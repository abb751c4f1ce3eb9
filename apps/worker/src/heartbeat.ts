import type { BackendCapacity, BackendRepository } from '@bootlun/core';
import type { Logger } from 'pino';

/** Least time between two capacity reads: a `df`/`vgs` on a remote host is a process there, and capacity changes slowly. */
export const DEFAULT_CAPACITY_INTERVAL_MS = 30_000;

export interface HeartbeatOptions {
  /** Measures the host's backing directory or volume group (the driver's capacity()). */
  readCapacity?: () => Promise<BackendCapacity>;
  capacityIntervalMs?: number;
}

/**
 * Marks the backend online while this worker runs; the API shows it offline once beats
 * stop. Beside the beats it measures the host's capacity (on the first beat, then at
 * most every `capacityIntervalMs`) and stores it as the backend's stats. The beat never
 * waits for a measurement: through the vm-agent transport the host runs one command at a
 * time, so a `vgs` can sit behind a long targetcli batch, and a late beat would show the
 * backend offline.
 */
export class Heartbeat {
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;
  private measuring = false;
  private lastMeasuredAt = Number.NEGATIVE_INFINITY;
  /** Beats being written: stop() waits for them, so a late 'online' can never land after the final 'offline'. */
  private readonly inFlight = new Set<Promise<void>>();

  constructor(
    private readonly backends: BackendRepository,
    private readonly backendId: string,
    private readonly intervalMs: number,
    private readonly logger: Logger,
    private readonly options: HeartbeatOptions = {},
  ) {}

  private async beat(): Promise<void> {
    this.measureIfDue();
    try {
      await this.backends.recordHeartbeat(this.backendId, 'online', new Date());
    } catch (err) {
      this.logger.warn({ err: (err as Error).message }, 'heartbeat failed');
    }
  }

  private measureIfDue(): void {
    const read = this.options.readCapacity;
    if (!read || this.stopped || this.measuring) return;
    if (Date.now() - this.lastMeasuredAt < (this.options.capacityIntervalMs ?? DEFAULT_CAPACITY_INTERVAL_MS)) return;
    this.measuring = true;
    this.lastMeasuredAt = Date.now();
    void this.measure(read).finally(() => (this.measuring = false));
  }

  private async measure(read: () => Promise<BackendCapacity>): Promise<void> {
    try {
      const capacity = await read();
      if (this.stopped) return;
      await this.backends.recordCapacity(this.backendId, capacity, new Date());
    } catch (err) {
      // The last report stays (with its time); the next attempt comes after the interval.
      if (!this.stopped) this.logger.warn({ err: (err as Error).message }, 'reading the storage capacity failed');
    }
  }

  private tick(): void {
    if (this.stopped) return;
    const beat = this.beat().finally(() => this.inFlight.delete(beat));
    this.inFlight.add(beat);
  }

  start(): void {
    this.tick();
    this.timer = setInterval(() => this.tick(), this.intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await Promise.all(this.inFlight);
    await this.backends.recordHeartbeat(this.backendId, 'offline', new Date()).catch(() => undefined);
  }
}
