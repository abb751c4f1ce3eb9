import type { Queue } from 'bullmq';
import { queueNameFor } from './job-catalog';
import type { QueueConnection } from './queue-connection';

/** One Queue object per storage backend, created on first use (new backends need no restart). */
export class QueueRegistry {
  private readonly queues = new Map<string, Queue>();

  constructor(readonly connection: QueueConnection) {}

  forBackend(backendId: string): Queue {
    const name = queueNameFor(backendId);
    let queue = this.queues.get(name);
    if (!queue) {
      queue = this.connection.queue(name);
      queue.on('error', () => undefined);
      this.queues.set(name, queue);
    }
    return queue;
  }

  all(): Queue[] {
    return [...this.queues.values()];
  }

  async close(): Promise<void> {
    await Promise.allSettled([...this.queues.values()].map((q) => q.close()));
    this.queues.clear();
    await this.connection.close();
  }
}
