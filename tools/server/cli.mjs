#!/usr/bin/env node
// chorus-rtc-server: the signaling server plus the demo pages on one HTTP port.
//
//   chorus-rtc-server [--port 8080] [--host ADDR] [--max-peers N] [--max-message-bytes N]
//                     [--ice-servers JSON] [--max-talk-ms N] [--no-dispatchers]

import { parseArgs } from 'node:util';
import { startServer } from './server.mjs';

const USAGE = `Usage: chorus-rtc-server [options]

  --port N               HTTP + WebSocket port (default: $CHORUS_PORT or 8080; 0 = any free port)
  --host ADDR            listen address (default: every address, IPv6 and IPv4)
  --max-peers N          most peers in one room (default 50)
  --max-message-bytes N  largest signaling message accepted, in bytes (default 65536)
  --ice-servers JSON     RTCIceServer list given to clients, e.g.
                         '[{"urls":"stun:stun.example.org:3478"}]' (default [])
  --max-talk-ms N        push-to-talk: a floor grant ends after N ms (default 60000)
  --no-dispatchers       push-to-talk: refuse joins with the dispatcher role (who may
                         preempt a talker); until tokens carry roles, anyone may claim it
  -h, --help             show this text
`;

function fail(message) {
  process.stderr.write(`chorus-rtc-server: ${message}\n\n${USAGE}`);
  process.exit(2);
}

function parseInteger(name, text, min, max) {
  if (!/^\d+$/.test(String(text).trim())) fail(`${name} must be a whole number, got "${text}"`);
  const n = Number(text);
  if (n < min || n > max) fail(`${name} must be between ${min} and ${max}, got ${n}`);
  return n;
}

let args;
try {
  args = parseArgs({
    options: {
      port: { type: 'string' },
      host: { type: 'string' },
      'max-peers': { type: 'string' },
      'max-message-bytes': { type: 'string' },
      'ice-servers': { type: 'string' },
      'max-talk-ms': { type: 'string' },
      'no-dispatchers': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
    allowPositionals: false,
  }).values;
} catch (err) {
  fail(err.message);
}

if (args.help) {
  process.stdout.write(USAGE);
  process.exit(0);
}

const port = parseInteger('--port', args.port ?? process.env.CHORUS_PORT ?? '8080', 0, 65535);
const config = {};
if (args['max-peers'] !== undefined) {
  config.maxPeersPerRoom = parseInteger('--max-peers', args['max-peers'], 1, 1000000);
}
if (args['max-message-bytes'] !== undefined) {
  config.maxMessageBytes = parseInteger('--max-message-bytes', args['max-message-bytes'], 64, 8 * 1024 * 1024);
}
if (args['ice-servers'] !== undefined) {
  let ice;
  try {
    ice = JSON.parse(args['ice-servers']);
  } catch (err) {
    fail(`--ice-servers is not valid JSON: ${err.message}`);
  }
  if (!Array.isArray(ice) || !ice.every((s) => s && typeof s === 'object' && !Array.isArray(s))) {
    fail('--ice-servers must be a JSON array of RTCIceServer objects');
  }
  config.iceServers = ice;
}

if (args['max-talk-ms'] !== undefined || args['no-dispatchers']) {
  config.floor = {};
  if (args['max-talk-ms'] !== undefined) {
    config.floor.maxTalkMs = parseInteger('--max-talk-ms', args['max-talk-ms'], 1, 0x7fffffff);
  }
  if (args['no-dispatchers']) config.floor.dispatchers = false;
}

// The server's own handlers never let an error escape; this is the last line of defence so a
// bug in one connection's handling cannot take down every other room.
process.on('uncaughtException', (err) => {
  console.error('[chorus-server] uncaught exception (continuing):', err);
});
process.on('unhandledRejection', (err) => {
  console.error('[chorus-server] unhandled rejection (continuing):', err);
});

// Signal handlers go in before the server starts, so a signal during start-up also ends the
// process cleanly.
let server = null;
let stopping = false;
async function stop() {
  if (stopping) return;
  stopping = true;
  const force = setTimeout(() => process.exit(0), 3000);
  force.unref();
  try {
    await server?.close();
  } catch (err) {
    console.error('[chorus-server] error while closing:', err);
  }
  process.exit(0);
}
process.on('SIGINT', stop);
process.on('SIGTERM', stop);

try {
  server = await startServer({ port, host: args.host, config });
} catch (err) {
  console.error(`chorus-rtc-server: could not start: ${err.message}`);
  process.exit(1);
}
if (stopping) await server.close();
else console.log(`chorus-rtc signaling + demo listening on ${server.url}`);
