/**
 * The supervisor's own voice on the terminal, and the prefixing of its children's output,
 * so one terminal shows API, worker, tgtd and Postgres without mixing up who said what.
 */
import type { Readable } from 'node:stream';

export function say(message: string): void {
  process.stdout.write(`[start] ${message}\n`);
}

export function warn(message: string): void {
  process.stderr.write(`[start] ${message}\n`);
}

/** Copies a child's stream line by line to `out`, each line prefixed with `[label] `. */
export function prefixLines(stream: Readable | null, label: string, out: NodeJS.WriteStream): void {
  if (!stream) return;
  let pending = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    pending += chunk;
    const lines = pending.split('\n');
    pending = lines.pop() ?? '';
    for (const line of lines) out.write(`[${label}] ${line}\n`);
  });
  stream.on('end', () => {
    if (pending) out.write(`[${label}] ${pending}\n`);
    pending = '';
  });
}
