#!/usr/bin/env node
// Starts Debian's redis-server as a private foreground process for tests, benchmarks and
// development of scale-out (tools/server/cluster/): no persistence, its own temp folder, a
// loopback port, never the machine's own redis service.
//
//   import { startRedis } from './tools/redis/redis.mjs';
//   const redis = await startRedis();   // { url: 'redis://127.0.0.1:PORT', stop() }
//
// CLI: node tools/redis/redis.mjs [--port N]   prints the URL, runs until Ctrl-C.

import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, startPrivate } from '../lib/private-process.mjs';

export { freePort };

export const REDIS_SERVER = process.env.CHORUS_REDIS_SERVER || '/usr/bin/redis-server';

function answersPing(port, host) {
  return new Promise((resolve) => {
    const sock = net.connect(port, host);
    let got = '';
    const done = (ok) => { sock.destroy(); resolve(ok); };
    sock.setTimeout(300, () => done(false));
    sock.on('error', () => done(false));
    sock.on('connect', () => sock.write('PING\r\n'));
    sock.on('data', (d) => { got += d; if (got.includes('+PONG')) done(true); });
  });
}

/**
 * @param {object} [o]
 * @param {number} [o.port]  default: a free one
 * @param {string} [o.host='127.0.0.1']
 * @returns {Promise<{url: string, port: number, pid: number, stop: () => Promise<void>}>}
 */
export async function startRedis({ port, host = '127.0.0.1' } = {}) {
  port ??= await freePort(host);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'chorus-redis-'));
  const args = ['--port', String(port), '--bind', host, '--save', '', '--appendonly', 'no',
    '--dir', dir, '--daemonize', 'no', '--logfile', path.join(dir, 'redis.log')];
  const server = startPrivate(REDIS_SERVER, args);
  const startedAt = Date.now();
  for (;;) {
    if (await answersPing(port, host)) break;
    if (server.isDead() || Date.now() - startedAt > 5000) {
      await server.stop();
      const logFile = path.join(dir, 'redis.log');
      const log = fs.existsSync(logFile) ? fs.readFileSync(logFile, 'utf8') : server.output();
      fs.rmSync(dir, { recursive: true, force: true });
      throw new Error(`redis-server did not start on ${host}:${port}\n${log.slice(-2000)}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  let stopping = null;
  return {
    url: `redis://${host}:${port}`,
    port,
    pid: server.pid,
    stop() {
      stopping ??= server.stop().then(() => fs.rmSync(dir, { recursive: true, force: true }));
      return stopping;
    },
  };
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const i = process.argv.indexOf('--port');
  const redis = await startRedis({ port: i > 0 ? Number(process.argv[i + 1]) : undefined });
  console.log(redis.url);
  const stop = () => redis.stop().then(() => process.exit(0));
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}
