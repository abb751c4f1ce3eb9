import { closeSync, openSync, readSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** Recognisable LUN contents for end-to-end tests, and a local server to import them from. */

/** A recognisable image: every 512-byte block says which block it is, in a pattern of its own. */
export function patternImage(bytes: number, label: string): Buffer {
  const out = Buffer.alloc(bytes);
  for (let block = 0; block * 512 < bytes; block++) {
    const start = block * 512;
    out.fill((block * 7 + label.length) % 251 + 1, start, Math.min(bytes, start + 512));
    out.write(`${label} block ${block}\n`, start, Math.min(64, bytes - start), 'latin1');
  }
  return out;
}

/** The image followed by zeros up to `length`. */
export const imageThenZeros = (image: Buffer, length: number) => Buffer.concat([image, Buffer.alloc(length - image.length)]);

/** `length` bytes of a file from byte `offset`, read without loading the whole file (a LUN's backing file is GiBs). */
export function readFileRange(file: string, offset: number, length: number): Buffer {
  const fd = openSync(file, 'r');
  try {
    const out = Buffer.alloc(length);
    readSync(fd, out, 0, length, offset);
    return out;
  } finally {
    closeSync(fd);
  }
}

export interface ImageServer {
  /** `http://127.0.0.1:<port>` */
  base: string;
  port: number;
  close(): Promise<void>;
}

/** An HTTP server on 127.0.0.1 (an ephemeral port); a request `handle` does not take (returns false) gets a 404. */
export async function startImageServer(handle: (url: URL, req: http.IncomingMessage, res: http.ServerResponse) => boolean): Promise<ImageServer> {
  const server = http.createServer((req, res) => {
    if (!handle(new URL(req.url!, 'http://x'), req, res)) res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    base: `http://127.0.0.1:${port}`,
    port,
    close: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/** Sends `body` with its length; true, for a handler to return: the request is answered. */
export function sendBytes(res: http.ServerResponse, body: Buffer): true {
  res.writeHead(200, { 'content-length': body.length }).end(body);
  return true;
}
