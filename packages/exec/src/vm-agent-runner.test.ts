import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { CommandError } from './command-error';
import { parseCommandTransport, VmAgentRunner } from './vm-agent-runner';

/** A fake guest agent on a unix socket: records requests, answers with `reply`. */
function fakeAgent(socketPath: string, reply: (req: Record<string, unknown>) => Record<string, unknown> | null) {
  const requests: Array<Record<string, unknown>> = [];
  const server: Server = createServer((c) => {
    let buf = '';
    c.setEncoding('utf8').on('data', (d: string) => {
      buf += d;
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const req = JSON.parse(buf.slice(0, nl));
        buf = buf.slice(nl + 1);
        requests.push(req);
        const r = reply(req);
        if (r) c.write(JSON.stringify({ id: req.id, ...r }) + '\n');
      }
    });
  });
  return { server, requests, listening: new Promise<void>((resolve) => server.listen(socketPath, resolve)) };
}

const b64 = (s: string) => Buffer.from(s).toString('base64');

describe('VmAgentRunner', () => {
  let dir: string;
  let sock: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'vm-agent-'));
    sock = path.join(dir, 'agent.sock');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('sends argv as an array and stdin in the body, and returns code, stdout and stderr', async () => {
    const agent = fakeAgent(sock, () => ({ code: 3, stdout: b64('out'), stderr: b64('err'), duration_ms: 5 }));
    await agent.listening;
    const runner = new VmAgentRunner(sock);
    const result = await runner.run({ argv: ['targetcli'], stdin: 'set auth password=Sup3rSecretAbcd2\n', redact: ['Sup3rSecretAbcd2'], timeoutMs: 1000 });
    expect(result).toMatchObject({ argv: ['targetcli'], code: 3, stdout: 'out', stderr: 'err' });
    expect(agent.requests[0]).toMatchObject({ op: 'exec', argv: ['targetcli'], timeout_ms: 1000 });
    expect(Buffer.from(agent.requests[0]!.stdin as string, 'base64').toString()).toContain('Sup3rSecretAbcd2');
    expect(JSON.stringify(agent.requests[0]!.argv)).not.toContain('Sup3rSecretAbcd2');
    runner.close();
    agent.server.close();
  });

  it('turns agent timeouts and spawn failures into CommandErrors, with secrets masked', async () => {
    const agent = fakeAgent(sock, (req) => ((req.argv as string[])[0] === 'slow' ? { error: 'timeout', message: 't', stderr: b64('Sup3rSecretAbcd2') } : { error: 'spawn', message: 'nope: No such file' }));
    await agent.listening;
    const runner = new VmAgentRunner(sock);
    const slow = runner.run({ argv: ['slow'], redact: ['Sup3rSecretAbcd2'], timeoutMs: 10 });
    await expect(slow).rejects.toBeInstanceOf(CommandError);
    await expect(slow).rejects.toMatchObject({ reason: 'timeout', stderr: '***' });
    await expect(runner.run({ argv: ['nope'] })).rejects.toMatchObject({ reason: 'spawn' });
    runner.close();
    agent.server.close();
  });

  it('fails as a spawn error when no agent listens', async () => {
    await expect(new VmAgentRunner(sock).run({ argv: ['true'] })).rejects.toMatchObject({ reason: 'spawn' });
  });

  it('parses COMMAND_TRANSPORT', () => {
    expect(parseCommandTransport(undefined)).toEqual({ kind: 'local' });
    expect(parseCommandTransport('local')).toEqual({ kind: 'local' });
    expect(parseCommandTransport('vm-agent:/run/a.sock')).toEqual({ kind: 'vm-agent', socketPath: '/run/a.sock' });
    expect(() => parseCommandTransport('ssh:host')).toThrow(/COMMAND_TRANSPORT/);
  });
});
