#!/usr/bin/env node
'use strict';
/**
 * qemu `guestfwd=tcp:<addr>:<port>-cmd:node tcp-relay.js <port>`: qemu starts one of
 * these per guest connection with the connection on stdin/stdout; it relays the bytes to
 * 127.0.0.1:<port> on the host (no nc/socat needed). It exits when either side is done,
 * and at the latest 2 s after the guest side closed, so no relay outlives its VM.
 */
const net = require('node:net');

const port = Number(process.argv[2]);
if (!Number.isInteger(port) || port < 1 || port > 65535) {
  process.stderr.write('usage: tcp-relay.js <port on 127.0.0.1>\n');
  process.exit(2);
}
const upstream = net.connect({ host: '127.0.0.1', port });
const quit = (code) => {
  upstream.destroy();
  process.exit(code);
};
upstream.on('error', (err) => {
  process.stderr.write(`tcp-relay: 127.0.0.1:${port}: ${err.message}\n`);
  quit(1);
});
upstream.on('close', () => quit(0));
process.stdin.on('error', () => quit(0));
process.stdout.on('error', () => quit(0));
process.stdin.on('end', () => setTimeout(() => quit(0), 2_000).unref());
process.stdin.pipe(upstream);
upstream.pipe(process.stdout);
