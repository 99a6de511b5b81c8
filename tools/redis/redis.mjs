#!/usr/bin/env node
// Starts Debian's redis-server as a private foreground process for tests, benchmarks and
// development of scale-out (tools/server/cluster/): no persistence, its own temp folder, a
// loopback port, never the machine's own redis service.
//
//   import { startRedis } from './tools/redis/redis.mjs';
//   const redis = await startRedis();   // { url: 'redis://127.0.0.1:PORT', stop() }
//
// CLI: node tools/redis/redis.mjs [--port N]   prints the URL, runs until Ctrl-C.

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const REDIS_SERVER = process.env.CHORUS_REDIS_SERVER || '/usr/bin/redis-server';

/** A port that was free a moment ago (redis-server cannot be asked to pick one and say it). */
export function freePort(host = '127.0.0.1') {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, host, () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

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
  const child = spawn(REDIS_SERVER, args, { stdio: 'ignore' });
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  const startedAt = Date.now();
  for (;;) {
    if (await answersPing(port, host)) break;
    if (child.exitCode !== null || Date.now() - startedAt > 5000) {
      child.kill('SIGKILL');
      const log = fs.existsSync(path.join(dir, 'redis.log')) ? fs.readFileSync(path.join(dir, 'redis.log'), 'utf8') : '';
      throw new Error(`redis-server did not start on ${host}:${port}\n${log.slice(-2000)}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  let stopping = null;
  return {
    url: `redis://${host}:${port}`,
    port,
    pid: child.pid,
    stop() {
      stopping ??= (async () => {
        child.kill('SIGTERM');
        const t = setTimeout(() => child.kill('SIGKILL'), 2000);
        await exited;
        clearTimeout(t);
        fs.rmSync(dir, { recursive: true, force: true });
      })();
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
