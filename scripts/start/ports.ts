/**
 * Port choice for the embedded services. `npm start` must come up on a machine where the
 * defaults are taken (a system Postgres, another tgtd, a second checkout), so every port
 * is probed and, when taken, the next free one is used.
 */
import net from 'node:net';

/** True when nothing listens on host:port (we can bind it ourselves). */
export function isTcpPortFree(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen({ port, host, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/** The first free port among `preferred`, preferred+1, … (`span` tries), else one the kernel hands out. */
export async function pickTcpPort(preferred: number, host = '127.0.0.1', span = 20): Promise<number> {
  for (let port = preferred; port < preferred + span && port <= 65535; port++) {
    if (await isTcpPortFree(port, host)) return port;
  }
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen({ port: 0, host }, () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no free port'))));
    });
  });
}

/** True when a process answers on the unix socket (a stale socket file left by a killed daemon does not count). */
export function isUnixSocketLive(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(path);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
