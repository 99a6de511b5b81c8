// What the launchers of the real server parts share (tools/turn/coturn.mjs,
// tools/janus/janus.mjs, tools/redis/redis.mjs): a free port, and a private foreground process
// that runs as nobody when we are root, is stopped with SIGTERM then SIGKILL, and never
// outlives the Node process that started it (a crashed test must not leave one holding a port).

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';

export const NOBODY = 65534;

/** A TCP port that was free on `host` a moment ago (these servers cannot pick one and say it). */
export function freePort(host = '127.0.0.1') {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.once('error', reject);
    srv.listen(0, host, () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

const live = new Set();
process.on('exit', () => {
  for (const p of live) {
    try { p.kill('SIGKILL'); } catch { /* already gone */ }
  }
});

/**
 * Starts `command` in the foreground.
 *
 * @param {string} command
 * @param {string[]} args
 * @param {object} [o]
 * @param {boolean} [o.asNobody]     run as nobody (through setpriv; needs root)
 * @param {string[]} [o.ownedByNobody]  paths handed to nobody first (its folder, config ...)
 * @param {string} [o.cwd]
 * @param {number} [o.killAfterMs=2000]  SIGKILL after SIGTERM when it has not exited by then
 * @returns {{proc: import('node:child_process').ChildProcess, pid: number,
 *   exited: Promise<{code: number|null, signal: string|null}>, isDead: () => boolean,
 *   output: () => string, stop: () => Promise<{code: number|null, signal: string|null}>}}
 *   `output`: the last 8000 characters of its stdout and stderr
 */
export function startPrivate(command, args, { asNobody = false, ownedByNobody = [], cwd, killAfterMs = 2000 } = {}) {
  let cmd = command;
  let argv = args;
  if (asNobody) {
    for (const p of ownedByNobody) fs.chownSync(p, NOBODY, NOBODY);
    cmd = 'setpriv';
    argv = [`--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups', command, ...args];
  }
  const proc = spawn(cmd, argv, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const keep = (d) => { out = (out + d).slice(-8000); };
  proc.stdout.on('data', keep);
  proc.stderr.on('data', keep);
  let dead = false;
  const exited = new Promise((resolve) => proc.once('exit', (code, signal) => {
    dead = true;
    live.delete(proc);
    resolve({ code, signal });
  }));
  live.add(proc);
  let stopping = null;
  return {
    proc,
    pid: proc.pid,
    exited,
    isDead: () => dead,
    output: () => out,
    stop() {
      stopping ??= (async () => {
        if (!dead) {
          proc.kill('SIGTERM');
          const t = setTimeout(() => { if (!dead) proc.kill('SIGKILL'); }, killAfterMs);
          await exited;
          clearTimeout(t);
        }
        return exited;
      })();
      return stopping;
    },
  };
}

/**
 * A launcher's CLI: keeps the server running until SIGINT or SIGTERM, then stops it and exits
 * 0; if the server dies by itself, prints `name` and the tail of its log and exits 1.
 * @param {string} name
 * @param {{stop: () => Promise<unknown>, exited: Promise<unknown>, log: () => string}} server
 */
export async function serveUntilSignal(name, server) {
  let stopping = false;
  const quit = async () => {
    if (stopping) return;
    stopping = true;
    await server.stop();
    process.exit(0);
  };
  process.on('SIGINT', quit);
  process.on('SIGTERM', quit);
  const r = await server.exited;
  if (!stopping) {
    console.error(`${name} exited: ${JSON.stringify(r)}; log tail:\n${server.log().split('\n').slice(-20).join('\n')}`);
    process.exit(1);
  }
}
