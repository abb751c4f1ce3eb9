import type { BackendRepository } from '@bootlun/core';
import type { Logger } from 'pino';

/** Marks the backend online while this worker runs; the API shows it offline once beats stop. */
export class Heartbeat {
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly backends: BackendRepository,
    private readonly backendId: string,
    private readonly intervalMs: number,
    private readonly logger: Logger,
  ) {}

  private async beat(): Promise<void> {
    try {
      await this.backends.recordHeartbeat(this.backendId, 'online', new Date());
    } catch (err) {
      this.logger.warn({ err: (err as Error).message }, 'heartbeat failed');
    }
  }

  start(): void {
    void this.beat();
    this.timer = setInterval(() => void this.beat(), this.intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.backends.recordHeartbeat(this.backendId, 'offline', new Date()).catch(() => undefined);
  }
}
