import { connect, type Socket } from 'node:net';
import type { Logger } from 'pino';
import { CommandError } from './command-error';
import type { CommandResult, CommandRunner, CommandSpec } from './command-runner';
import { redactor } from './redact';

/**
 * A command runner whose commands run on another machine: the storage-host VM's agent
 * (test/vm/guest/bootlun-agent.py), reached through a unix socket that carries JSON lines
 * (qemu's virtio-serial chardev, or the multiplexing proxy of test/vm/storage-vm.ts).
 * argv is sent as an array and executed without a shell; stdin (where secrets travel)
 * is sent base64-encoded in the request body, never in argv. Worker setting:
 * COMMAND_TRANSPORT=vm-agent:<socket path>.
 */

export interface AgentRequest {
  op?: 'exec' | 'ping' | 'poweroff';
  argv?: readonly string[];
  stdin?: string;
  timeout_ms?: number;
}

export interface AgentReply {
  id: number;
  code?: number;
  stdout?: string;
  stderr?: string;
  duration_ms?: number;
  error?: 'spawn' | 'timeout' | 'bad-request';
  message?: string;
  pong?: boolean;
  boot_id?: string;
}

/** One JSON-lines connection; replies are matched to requests by id. Reconnects on the next request after a close. */
export class VmAgentClient {
  private socket: Socket | null = null;
  private connecting: Promise<Socket> | null = null;
  private nextId = 1;
  private buffer = '';
  private readonly pending = new Map<number, { resolve: (r: AgentReply) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }>();

  constructor(private readonly socketPath: string) {}

  async request(body: AgentRequest, timeoutMs: number): Promise<AgentReply> {
    const socket = await this.connect();
    const id = this.nextId++;
    return new Promise<AgentReply>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`vm agent at ${this.socketPath}: no reply within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, { resolve, reject, timer });
      socket.write(JSON.stringify({ ...body, id }) + '\n');
    });
  }

  close(): void {
    this.socket?.destroy();
    this.socket = null;
  }

  private connect(): Promise<Socket> {
    if (this.socket && !this.socket.destroyed) return Promise.resolve(this.socket);
    this.connecting ??= new Promise<Socket>((resolve, reject) => {
      const socket = connect(this.socketPath);
      socket.setEncoding('utf8');
      socket.once('connect', () => {
        this.socket = socket;
        this.connecting = null;
        resolve(socket);
      });
      socket.on('data', (chunk: string) => this.onData(chunk));
      socket.on('error', (err) => {
        if (this.connecting && this.socket !== socket) {
          this.connecting = null;
          reject(new Error(`vm agent at ${this.socketPath}: ${err.message}`));
        }
      });
      socket.on('close', () => {
        if (this.socket === socket) this.socket = null;
        this.buffer = '';
        for (const [id, p] of this.pending) {
          clearTimeout(p.timer);
          p.reject(new Error(`vm agent at ${this.socketPath}: connection closed`));
          this.pending.delete(id);
        }
      });
    });
    return this.connecting;
  }

  private onData(chunk: string): void {
    this.buffer += chunk;
    let nl: number;
    while ((nl = this.buffer.indexOf('\n')) >= 0) {
      const line = this.buffer.slice(0, nl);
      this.buffer = this.buffer.slice(nl + 1);
      let reply: AgentReply;
      try {
        reply = JSON.parse(line) as AgentReply;
      } catch {
        continue;
      }
      const p = this.pending.get(reply.id);
      if (!p) continue; // a late reply to a request that timed out
      this.pending.delete(reply.id);
      clearTimeout(p.timer);
      p.resolve(reply);
    }
  }
}

export interface VmAgentRunnerOptions {
  logger?: Logger;
  defaultTimeoutMs?: number;
}

/** Extra time the host waits beyond the command's own timeout, which the agent enforces. */
const TRANSPORT_MARGIN_MS = 15_000;

export class VmAgentRunner implements CommandRunner {
  private readonly client: VmAgentClient;

  constructor(
    readonly socketPath: string,
    private readonly options: VmAgentRunnerOptions = {},
  ) {
    this.client = new VmAgentClient(socketPath);
  }

  async run(spec: CommandSpec): Promise<CommandResult> {
    const argv = [...spec.argv];
    const redact = redactor(spec.redact ?? []);
    const shownArgv = argv.map(redact);
    if (argv.length === 0) throw new Error('empty argv');
    if (spec.cwd || spec.env) throw new Error('the vm-agent transport supports neither cwd nor env');
    const timeoutMs = spec.timeoutMs ?? this.options.defaultTimeoutMs ?? 60_000;
    const started = Date.now();
    let reply: AgentReply;
    try {
      reply = await this.client.request(
        { op: 'exec', argv, stdin: Buffer.from(spec.stdin ?? '', 'utf8').toString('base64'), timeout_ms: timeoutMs },
        timeoutMs + TRANSPORT_MARGIN_MS,
      );
    } catch (err) {
      throw new CommandError(redact(`${shownArgv[0]}: ${(err as Error).message}`), shownArgv, null, '', 'spawn');
    }
    const durationMs = Date.now() - started;
    const stderr = Buffer.from(reply.stderr ?? '', 'base64').toString('utf8');
    if (reply.error === 'timeout') {
      throw new CommandError(`${shownArgv.join(' ')} timed out after ${timeoutMs} ms`, shownArgv, null, redact(stderr), 'timeout');
    }
    if (reply.error) {
      throw new CommandError(redact(`${shownArgv[0]}: ${reply.message ?? reply.error}`), shownArgv, null, '', 'spawn');
    }
    const code = reply.code ?? 128;
    this.options.logger?.debug({ argv: shownArgv, code, durationMs, guestMs: reply.duration_ms }, 'command finished (vm agent)');
    return { argv, code, stdout: Buffer.from(reply.stdout ?? '', 'base64').toString('utf8'), stderr, durationMs };
  }

  close(): void {
    this.client.close();
  }
}

/** Parses COMMAND_TRANSPORT: unset or "local" → null (spawn here); "vm-agent:<path>" → the socket path. */
export function parseCommandTransport(value: string | undefined): { kind: 'local' } | { kind: 'vm-agent'; socketPath: string } {
  if (!value || value === 'local') return { kind: 'local' };
  const match = /^vm-agent:(\/.+)$/.exec(value);
  if (!match?.[1]) throw new Error(`COMMAND_TRANSPORT must be "local" or "vm-agent:<absolute socket path>", got ${JSON.stringify(value)}`);
  return { kind: 'vm-agent', socketPath: match[1] };
}
