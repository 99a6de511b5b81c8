#!/usr/bin/env node
// Signaling server under load: --clients WebSocket clients in --rooms rooms against one server
// process (tools/server/cli.mjs, spawned here), or against --processes N server processes
// sharing rooms over Redis (--redis).
//
//   node tools/bench/signaling-load.mjs [--clients 10000] [--rooms 2000] [--rate 2000,3500,5000]
//       [--duration 30] [--generators 1] [--processes 2 --redis | --redis-url URL] [--profile] [--write]
//
// Processes: the server(s), --generators load generator processes
// (tools/bench/signaling-load-worker.mjs, each holding whole rooms, so a message's send and its
// receipt are timed on one clock), and this one, which only coordinates and reads the
// server's /proc/<pid>/{stat,status} (and /metrics when the server has it).
//
// Phases:
//   1. ramp: every client connects from a loopback address of its own group (--per-address
//      clients per 127.x.y.z, as from many hosts), sends `join`, waits for `welcome`; at most
//      --concurrency handshakes + joins in flight per generator (--join-rate caps the starts
//      per second; 0 = as fast as the server answers).
//      From then on each client sends an app `ping` every 10 s (the client core's interval;
//      the server closes sockets silent for 30 s), which is part of every later phase's load.
//   2. idle: --idle seconds of pings only; the server's RSS against the one before the ramp
//      gives memory per idle joined connection.
//   3. one load phase per --rate step: that many relayed messages per second over all clients
//      (client after client, so each sends rate / clients per second) for --duration seconds:
//      `signal` (a trickled ICE candidate, ~150 bytes) to a random other peer of its room, or
//      with --kind broadcast a `broadcast` to the 4 others. Latency: send() call to the
//      addressee's 'message' event. Every message must arrive exactly once.
//
// --breakdown runs the server through tools/bench/signaling-load-server.mjs (startServer() with
// its defaults, as the CLI) to print process.memoryUsage() and the wasm memory per connection,
// the server's event-loop lag and GC pauses per phase; --server-ping-ms N (with --breakdown)
// changes its WebSocket-level ping period, to see what the ping sweep costs.
// --profile runs the server under `node --cpu-prof` and prints where its CPU went (the profiler
// costs time: do not take the headline figures from a profiled run). --write puts the results
// into docs/BENCHMARKS.md.

import { execFileSync, fork, spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { writeSection } from './doc.mjs';
import { summarize } from './cpuprofile-summary.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const HOST = '127.0.0.1';
const CLK_TCK = 100; // getconf CLK_TCK on Linux x86-64
const PING_INTERVAL_MS = 10000;

const { values: opt } = parseArgs({
  options: {
    clients: { type: 'string', default: '10000' },
    rooms: { type: 'string', default: '2000' },
    rate: { type: 'string', default: '2000,3500,5000' },
    duration: { type: 'string', default: '30' },
    idle: { type: 'string', default: '10' },
    kind: { type: 'string', default: 'signal' },
    generators: { type: 'string', default: '1' },
    processes: { type: 'string', default: '1' },
    redis: { type: 'boolean', default: false }, // a private redis-server, started and stopped here
    'redis-url': { type: 'string' },               // or an existing one
    concurrency: { type: 'string', default: '200' },
    'join-rate': { type: 'string', default: '0' },
    'per-address': { type: 'string', default: '50' },
    'max-load': { type: 'string', default: '2' },
    'wait-load': { type: 'string', default: '180' },
    profile: { type: 'boolean', default: false },
    breakdown: { type: 'boolean', default: false },
    'server-ping-ms': { type: 'string' }, // --breakdown only: startServer's pingIntervalMs (an experiment)
    write: { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (opt.help) {
  console.log(fs.readFileSync(fileURLToPath(import.meta.url), 'utf8').split('\n').slice(1, 34)
    .map((l) => l.replace(/^\/\/ ?/, '')).join('\n'));
  process.exit(0);
}

const CLIENTS = Number(opt.clients);
const ROOMS = Number(opt.rooms);
const RATES = opt.rate.split(',').map(Number);
const DURATION_S = Number(opt.duration);
const IDLE_S = Number(opt.idle);
const GENERATORS = Number(opt.generators);
const PROCESSES = Number(opt.processes);
const KIND = opt.kind;
const USE_REDIS = opt.redis || opt['redis-url'] !== undefined;
if (!(CLIENTS > 0 && ROOMS > 0 && CLIENTS % ROOMS === 0)) throw new Error('--clients must be a multiple of --rooms');
if (ROOMS % GENERATORS !== 0) throw new Error('--rooms must be a multiple of --generators');
if (!['signal', 'broadcast'].includes(KIND)) throw new Error('--kind is signal or broadcast');
if (PROCESSES > 1 && !USE_REDIS) throw new Error('--processes > 1 needs --redis');
if (opt.breakdown && opt.write) throw new Error('--breakdown runs a stand-in for the CLI: not for --write');
if (opt['server-ping-ms'] && !opt.breakdown) throw new Error('--server-ping-ms needs --breakdown (the CLI has no such flag)');
const PER_ROOM = CLIENTS / ROOMS;
if (PER_ROOM < 2) throw new Error('at least 2 clients per room');

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const log = (...a) => console.error(`[${new Date().toISOString().slice(11, 19)}]`, ...a);

// ---- helpers -------------------------------------------------------------------------------

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, HOST, () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

function httpGet(url, timeoutMs = 2000) {
  return new Promise((resolve) => {
    const req = http.get(url, { timeout: timeoutMs }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => { body += d; });
      res.on('end', () => resolve({ status: res.statusCode, body }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', () => resolve(null));
  });
}

/** utime + stime in seconds, VmRSS / VmHWM in bytes. */
function procSample(pid) {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const cpuS = (Number(f[11]) + Number(f[12])) / CLK_TCK; // fields 14 and 15 of stat(5)
  const sysS = Number(f[12]) / CLK_TCK;
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (k) => Number(status.match(new RegExp(`^${k}:\\s+(\\d+) kB`, 'm'))?.[1] ?? NaN) * 1024;
  return { t: performance.now(), cpuS, sysS, rss: kb('VmRSS'), hwm: kb('VmHWM') };
}

/** Microseconds some runnable task waited for a CPU (PSI, /proc/pressure/cpu), or NaN. */
function cpuPressureUs() {
  try {
    return Number(fs.readFileSync('/proc/pressure/cpu', 'utf8').match(/^some .*total=(\d+)/m)[1]);
  } catch {
    return NaN;
  }
}

/** Unlabelled Prometheus samples from GET /metrics, or null when the server has no /metrics. */
async function metrics(server) {
  const r = await httpGet(`${server.url}metrics`);
  if (!r || r.status !== 200 || !r.body.includes('# TYPE')) return null;
  const out = {};
  for (const line of r.body.split('\n')) {
    const m = line.match(/^([a-zA-Z_:][a-zA-Z0-9_:]*)\s+([-+0-9.eE]+|NaN)$/);
    if (m) out[m[1]] = Number(m[2]);
  }
  return out;
}
const heapOf = (m) => m && (m.nodejs_heap_used_bytes ?? m.nodejs_heap_size_used_bytes ?? null);

const quantile = (sorted, q) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] : NaN);
function percentiles(arrays) {
  const n = arrays.reduce((s, a) => s + a.length, 0);
  const all = new Float64Array(n);
  let o = 0;
  for (const a of arrays) { all.set(a, o); o += a.length; }
  all.sort();
  return { n, p50: quantile(all, 0.5), p90: quantile(all, 0.9), p99: quantile(all, 0.99), max: all[n - 1] ?? NaN };
}
const ms = (x) => (Number.isFinite(x) ? (x < 10 ? x.toFixed(2) : x < 100 ? x.toFixed(1) : x.toFixed(0)) : '-');
const kib = (b) => `${(b / 1024).toFixed(1)} KiB`;
const mib = (b) => `${(b / 1048576).toFixed(1)} MiB`;

function gitCommit() {
  try {
    let c = execFileSync('git', ['-C', ROOT, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
    if (execFileSync('git', ['-C', ROOT, 'status', '--porcelain', '--', 'tools/server', 'dist', 'tools/bench/signaling-load.mjs',
      'tools/bench/signaling-load-worker.mjs'], { encoding: 'utf8' }).trim()) c += ' (+ uncommitted changes in the server or this bench)';
    return c;
  } catch {
    return '';
  }
}

// ---- processes -----------------------------------------------------------------------------

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'chorus-load-'));
const children = [];

async function startRedis() {
  if (opt['redis-url']) return { url: opt['redis-url'], pid: null, stop: async () => {} };
  const port = await freePort();
  const proc = spawn('redis-server', ['--port', String(port), '--bind', HOST, '--save', '', '--appendonly', 'no',
    '--dir', tmp, '--daemonize', 'no', '--logfile', path.join(tmp, 'redis.log')], { stdio: 'ignore' });
  children.push(proc);
  for (let i = 0; i < 100; i++) {
    const ok = await new Promise((resolve) => {
      const s = net.connect(port, HOST, () => { s.end(); resolve(true); });
      s.on('error', () => resolve(false));
    });
    if (ok) break;
    await sleep(50);
  }
  log(`redis-server pid ${proc.pid} on ${HOST}:${port}`);
  return {
    url: `redis://${HOST}:${port}`,
    pid: proc.pid,
    stop: () => new Promise((resolve) => { proc.once('exit', resolve); proc.kill('SIGTERM'); }),
  };
}

async function startServer(i, redisUrl) {
  const port = await freePort();
  // --profile --breakdown profiles each load step alone (inspector, in the stand-in server);
  // --profile alone profiles the whole server process.
  const nodeArgs = opt.profile && !opt.breakdown ? ['--cpu-prof', `--cpu-prof-dir=${path.join(tmp, `prof-${i}`)}`] : [];
  const args = [...nodeArgs, path.join(ROOT, 'tools/server/cli.mjs'), '--port', String(port), '--host', HOST];
  if (redisUrl) args.push('--redis', redisUrl);
  const out = fs.openSync(path.join(tmp, `server-${i}.log`), 'w');
  const proc = opt.breakdown
    ? fork(path.join(ROOT, 'tools/bench/signaling-load-server.mjs'), [...args.slice(nodeArgs.length + 1),
      ...(opt['server-ping-ms'] ? ['--ping-interval-ms', opt['server-ping-ms']] : [])],
      { execArgv: [...nodeArgs, '--expose-gc'], stdio: ['ignore', out, out, 'ipc'], cwd: ROOT })
    : spawn(process.execPath, args, { stdio: ['ignore', out, out], cwd: ROOT });
  children.push(proc);
  let exited = null;
  proc.once('exit', (code, signal) => { exited = { code, signal }; });
  /** --breakdown: a question to the stand-in server (signaling-load-server.mjs). */
  const ask = (cmd, extra = {}) => (opt.breakdown ? new Promise((resolve) => {
    const on = (m) => {
      if (m.ev !== cmd) return;
      proc.off('message', on);
      resolve(m[cmd]);
    };
    proc.on('message', on);
    proc.send({ cmd, ...extra });
  }) : null);
  const url = `http://${HOST}:${port}/`;
  for (let t = 0; ; t += 50) {
    if (exited) throw new Error(`server ${i} exited (${JSON.stringify(exited)}): ${fs.readFileSync(path.join(tmp, `server-${i}.log`), 'utf8').slice(-2000)}`);
    if (await httpGet(`${url}healthz`, 500)) break;
    if (t > 20000) throw new Error(`server ${i} did not answer on ${url}`);
    await sleep(50);
  }
  log(`server ${i}: pid ${proc.pid}, ${url}${redisUrl ? ` (redis ${redisUrl})` : ''}`);
  return {
    i, pid: proc.pid, url, wsUrl: `ws://${HOST}:${port}/`, proc,
    exited: () => exited,
    mem: () => ask('mem'),
    loop: () => ask('loop'),
    profStart: () => ask('prof-start'),
    profStop: (file) => ask('prof-stop', { file }),
    logFile: path.join(tmp, `server-${i}.log`),
    stop: () => new Promise((resolve) => {
      if (exited) return resolve();
      const kill = setTimeout(() => proc.kill('SIGKILL'), 15000);
      proc.once('exit', () => { clearTimeout(kill); resolve(); });
      proc.kill('SIGTERM');
    }),
  };
}

function startGenerator(g, urls) {
  const proc = fork(path.join(ROOT, 'tools/bench/signaling-load-worker.mjs'), [], {
    serialization: 'advanced', stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  children.push(proc);
  const roomsHere = ROOMS / GENERATORS;
  const waiters = new Map();
  const gen = { g, proc, pid: proc.pid, progress: { welcomed: 0, failed: 0 } };
  proc.on('message', (m) => {
    if (m.ev === 'progress') gen.progress = m;
    else if (m.ev === 'log') log(`generator ${g}: ${m.text}`);
    else if (m.ev === 'fatal') { log(`generator ${g} failed: ${m.text}`); process.exit(1); }
    else {
      const w = waiters.get(m.ev);
      waiters.delete(m.ev);
      w?.(m);
    }
  });
  proc.on('exit', (code) => { if (!gen.exiting) { log(`generator ${g} exited (${code})`); process.exit(1); } });
  gen.call = (cmd, ev, extra = {}) => new Promise((resolve) => {
    waiters.set(ev, resolve);
    proc.send({ cmd, ...extra });
  });
  gen.init = () => gen.call('init', 'ready', {
    cfg: {
      urls, rooms: roomsHere, firstRoom: g * roomsHere, perRoom: PER_ROOM, firstClient: g * roomsHere * PER_ROOM,
      roomPrefix: `load${process.pid}`, pingIntervalMs: PING_INTERVAL_MS, concurrency: Number(opt.concurrency),
      joinRate: Number(opt['join-rate']) / GENERATORS, clientsPerAddress: Number(opt['per-address']), addrBase: 77,
    },
  });
  return gen;
}

/** Samples every server's /proc once a second while `fn` runs: CPU over the span, peak RSS. */
async function measured(servers, redis, gens, fn) {
  const pids = [...servers.map((s) => s.pid), ...(redis?.pid ? [redis.pid] : [])];
  const first = new Map(pids.map((p) => [p, procSample(p)]));
  const peak = new Map(pids.map((p) => [p, first.get(p).rss]));
  const loads = [os.loadavg()[0]];
  const timer = setInterval(() => {
    for (const p of pids) peak.set(p, Math.max(peak.get(p), procSample(p).rss));
    loads.push(os.loadavg()[0]);
  }, 1000);
  await Promise.all(servers.map((s) => s.loop()));
  const t0 = performance.now();
  const psi0 = cpuPressureUs();
  try {
    const result = await fn();
    const loopStats = await Promise.all(servers.map((s) => s.loop()));
    if (opt.breakdown) {
      log(`server event loop during the phase: ${loopStats.map((l) => `delay p50 ${ms(l.p50)} p99 ${ms(l.p99)} max ${ms(l.max)} ms, ` +
        `GC ${l.gc.count} pauses, ${ms(l.gc.totalMs)} ms total, longest ${ms(l.gc.maxMs)} ms`).join('; ')}`);
    }
    const wall = (performance.now() - t0) / 1000;
    const cpu = new Map(pids.map((p) => {
      const s = procSample(p);
      const secs = (s.t - first.get(p).t) / 1000;
      return [p, { cpuPct: (100 * (s.cpuS - first.get(p).cpuS)) / secs, sysPct: (100 * (s.sysS - first.get(p).sysS)) / secs,
        peakRss: Math.max(peak.get(p), s.rss) }];
    }));
    // Share of the phase during which some task on the machine waited for a CPU.
    const pressure = (cpuPressureUs() - psi0) / 1e4 / wall;
    return { result, wall, cpu, loads, pressure };
  } finally {
    clearInterval(timer);
  }
}

// ---- the run -------------------------------------------------------------------------------

async function waitForQuietMachine() {
  const max = Number(opt['max-load']);
  const until = Date.now() + Number(opt['wait-load']) * 1000;
  let l = os.loadavg();
  while (l[0] > max && Date.now() < until) {
    log(`load average ${l.map((x) => x.toFixed(2)).join(' ')} > ${max}: waiting`);
    await sleep(15000);
    l = os.loadavg();
  }
  if (l[0] > max) log(`load average still ${l[0].toFixed(2)}: running anyway (the report says so)`);
  return l;
}

async function main() {
  const loadStart = await waitForQuietMachine();
  const started = new Date();
  log(`${CLIENTS} clients in ${ROOMS} rooms (${PER_ROOM} per room), ${PROCESSES} server process(es)` +
    `${USE_REDIS ? ' over Redis' : ''}, ${GENERATORS} generator(s); load average ${loadStart.map((x) => x.toFixed(2)).join(' ')}`);

  const redis = USE_REDIS ? await startRedis() : null;
  const servers = [];
  for (let i = 0; i < PROCESSES; i++) servers.push(await startServer(i, redis?.url));
  const gens = [];
  for (let g = 0; g < GENERATORS; g++) gens.push(startGenerator(g, servers.map((s) => s.wsUrl)));
  await Promise.all(gens.map((g) => g.init()));

  const report = { started, loadStart, servers: [], steps: [] };
  try {
    // Baseline: the idle server, a second after it answered.
    await sleep(1000);
    const before = servers.map((s) => procSample(s.pid));
    const metricsBefore = await Promise.all(servers.map(metrics));
    const memBefore = await Promise.all(servers.map((s) => s.mem()));
    log(`server RSS before: ${before.map((b) => mib(b.rss)).join(', ')}; /metrics ${metricsBefore[0] ? 'present' : 'absent'}`);

    // 1. ramp
    const progress = setInterval(() => {
      const w = gens.reduce((s, g) => s + g.progress.welcomed, 0);
      const f = gens.reduce((s, g) => s + g.progress.failed, 0);
      log(`ramp: ${w} welcomed${f ? `, ${f} failed` : ''}`);
    }, 2000);
    const ramp = await measured(servers, redis, gens, () => Promise.all(gens.map((g) => g.call('connect', 'connected').then((m) => m.result))));
    clearInterval(progress);
    const rr = ramp.result;
    const welcomed = rr.reduce((s, r) => s + r.welcomed, 0);
    const lastWelcome = Math.max(...rr.map((r) => Math.max(...r.welcomes)));
    const joinLatency = percentiles(rr.map((r) => r.welcomes.map((w, i) => w - r.starts[i])));
    const handshake = percentiles(rr.map((r) => r.opens.map((w, i) => w - r.starts[i])));
    const joinOnly = percentiles(rr.map((r) => r.welcomes.map((w, i) => w - r.opens[i])));
    // Joins per second over the ramp's middle (10%..90% of the welcomes), and overall.
    const allW = new Float64Array(welcomed);
    { let o = 0; for (const r of rr) { allW.set(r.welcomes, o); o += r.welcomes.length; } }
    allW.sort();
    const w10 = quantile(allW, 0.1);
    const w90 = quantile(allW, 0.9);
    report.ramp = {
      welcomed, failed: rr.reduce((s, r) => s + r.failed, 0), incomplete: rr.reduce((s, r) => s + r.incomplete, 0),
      allWelcomedS: lastWelcome / 1000, rateOverall: welcomed / (lastWelcome / 1000),
      rateMid: (0.8 * welcomed) / ((w90 - w10) / 1000), joinLatency, handshake, joinOnly,
      serverCpu: servers.map((s) => ramp.cpu.get(s.pid)), redisCpu: redis?.pid ? ramp.cpu.get(redis.pid) : null,
      genCpuPct: rr.map((r) => (100 * r.cpuMs) / 1000 / ramp.wall), genLoop: rr.map((r) => r.loopDelay),
      pressure: ramp.pressure,
    };
    log(`ramp: ${welcomed} welcomed in ${(lastWelcome / 1000).toFixed(1)} s (${report.ramp.rateOverall.toFixed(0)} joins/s overall, ` +
      `${report.ramp.rateMid.toFixed(0)}/s between 10% and 90%), join latency p50 ${ms(joinLatency.p50)} p99 ${ms(joinLatency.p99)} ms ` +
      `(handshake p50 ${ms(handshake.p50)} p99 ${ms(handshake.p99)}, open to welcome p50 ${ms(joinOnly.p50)} p99 ${ms(joinOnly.p99)}); ` +
      `server CPU ${servers.map((s) => ramp.cpu.get(s.pid).cpuPct.toFixed(0)).join('/')} %, generator CPU ` +
      `${report.ramp.genCpuPct.map((c) => c.toFixed(0)).join('/')} %, machine load ${ramp.loads.map((l) => l.toFixed(1)).join(' ')}`);

    // 2. idle (pings only): memory per idle joined connection.
    const idle = await measured(servers, redis, gens, async () => {
      await sleep(IDLE_S * 1000);
    });
    const after = [];
    for (let k = 0; k < 3; k++) { after.push(servers.map((s) => procSample(s.pid))); await sleep(500); }
    const metricsAfter = await Promise.all(servers.map(metrics));
    const memAfter = await Promise.all(servers.map((s) => s.mem()));
    if (opt.breakdown) {
      for (let i = 0; i < servers.length; i++) {
        const n = welcomed / PROCESSES;
        const row = ['rss', 'heapTotal', 'heapUsed', 'external', 'arrayBuffers', 'wasm']
          .map((k) => `${k} ${mib(memBefore[i][k])} -> ${mib(memAfter[i][k])} (${kib((memAfter[i][k] - memBefore[i][k]) / n)}/conn)`);
        log(`server ${i} breakdown (process.memoryUsage after a full GC, wasm memory size):\n  ${row.join('\n  ')}`);
      }
    }
    report.memory = servers.map((s, i) => {
      const rssAfter = [...after.map((a) => a[i].rss)].sort((a, b) => a - b)[1];
      const n = welcomed / PROCESSES;
      const hb = heapOf(metricsBefore[i]);
      const ha = heapOf(metricsAfter[i]);
      return {
        rssBefore: before[i].rss, rssAfter, hwm: after[2][i].hwm, perConn: (rssAfter - before[i].rss) / n, n,
        heapBefore: hb, heapAfter: ha, heapPerConn: hb != null && ha != null ? (ha - hb) / n : null,
        idleCpuPct: idle.cpu.get(s.pid).cpuPct, metrics: metricsAfter[i],
      };
    });
    for (const m of report.memory) {
      log(`memory: RSS ${mib(m.rssBefore)} -> ${mib(m.rssAfter)} = ${kib(m.perConn)} per connection` +
        `${m.heapPerConn != null ? `; V8 heap ${kib(m.heapPerConn)} per connection` : ''}; idle CPU ${m.idleCpuPct.toFixed(1)} %`);
    }

    // 3. load steps
    for (let k = 0; k < RATES.length; k++) {
      const rate = RATES[k];
      if (opt.profile && opt.breakdown) await Promise.all(servers.map((s) => s.profStart()));
      const step = await measured(servers, redis, gens, () => Promise.all(gens.map((g) => g.call('load', 'loaded', {
        rate: rate / GENERATORS, durationMs: DURATION_S * 1000, drainMs: 5000, kind: KIND, phase: k + 1,
      }).then((m) => m.result))));
      if (opt.profile && opt.breakdown) {
        for (const s of servers) {
          const file = path.join(os.tmpdir(), `chorus-load-server-${s.i}-rate${rate}-${process.pid}.cpuprofile`);
          await s.profStop(file);
          const sum = summarize(file, 25);
          console.log(`\nserver ${s.i} CPU profile of the ${rate}/s step (${file}): ${((sum.totalMs - sum.idleMs) / 1000).toFixed(1)} s busy of ${(sum.totalMs / 1000).toFixed(1)} s`);
          for (const g of sum.groups.filter((x) => x.share >= 0.005)) console.log(`  ${(g.share * 100).toFixed(1).padStart(5)}%  ${g.group}`);
          for (const r of sum.rows) console.log(`  ${(r.share * 100).toFixed(1).padStart(5)}%  ${r.name}  ${r.where}`);
        }
      }
      const rs = step.result;
      const sum = (key) => rs.reduce((s, r) => s + r[key], 0);
      const lat = percentiles(rs.map((r) => r.latency));
      const pong = percentiles(rs.map((r) => r.pongRtt));
      const row = {
        rate, sent: sum('sent'), expected: sum('expected'), received: sum('received'), missing: sum('missing'),
        duplicates: sum('duplicates'), achieved: sum('sent') / Math.max(...rs.map((r) => r.sendSeconds)),
        delivered: sum('received') / Math.max(...rs.map((r) => r.receiveSeconds)),
        pings: sum('pings'), pongs: sum('pongs'), lat, pong,
        serverCpu: servers.map((s) => step.cpu.get(s.pid)), redisCpu: redis?.pid ? step.cpu.get(redis.pid) : null,
        genCpuPct: rs.map((r) => (100 * r.cpuMs) / 1000 / r.sendSeconds), genLoop: rs.map((r) => r.loopDelay),
        loads: step.loads, pressure: step.pressure,
      };
      report.steps.push(row);
      log(`rate ${rate}/s: sent ${row.sent} (${row.achieved.toFixed(0)}/s), received ${row.received}/${row.expected} ` +
        `(${row.delivered.toFixed(0)}/s from first send to last receipt), ` +
        `latency p50 ${ms(lat.p50)} p90 ${ms(lat.p90)} p99 ${ms(lat.p99)} max ${ms(lat.max)} ms; ` +
        `server CPU ${row.serverCpu.map((c) => c.cpuPct.toFixed(0)).join('/')} %, generator CPU ${row.genCpuPct.map((c) => c.toFixed(0)).join('/')} %, ` +
        `generator event-loop lag p99 ${row.genLoop.map((l) => ms(l.p99)).join('/')} ms, CPU pressure ${row.pressure.toFixed(0)} %`);
      await sleep(2000);
    }
    report.errors = {};
    for (const g of gens) {
      const { errors } = await g.call('errors', 'errors');
      for (const [k, v] of Object.entries(errors)) report.errors[k] = (report.errors[k] ?? 0) + v;
    }
    report.serverExits = servers.map((s) => s.exited());
  } finally {
    for (const g of gens) { g.exiting = true; g.proc.send({ cmd: 'exit' }); }
    await Promise.all(gens.map((g) => new Promise((r) => (g.proc.exitCode !== null ? r() : g.proc.once('exit', r)))));
    await Promise.all(servers.map((s) => s.stop()));
    if (redis) await redis.stop();
  }
  report.loadEnd = os.loadavg();
  report.serverLogLines = servers.map((s) => fs.readFileSync(s.logFile, 'utf8').split('\n').filter(Boolean).length);
  if (Object.keys(report.errors ?? {}).length || report.serverExits?.some(Boolean)) {
    // Something went wrong: keep the servers' logs for a look.
    for (const s of servers) {
      const keep = path.join(os.tmpdir(), `chorus-load-server-${s.i}-${process.pid}.log`);
      fs.copyFileSync(s.logFile, keep);
      log(`server ${s.i} log (${report.serverLogLines[s.i]} lines) kept in ${keep}`);
    }
    if (redis?.pid && fs.existsSync(path.join(tmp, 'redis.log'))) {
      const keep = path.join(os.tmpdir(), `chorus-load-redis-${process.pid}.log`);
      fs.copyFileSync(path.join(tmp, 'redis.log'), keep);
      log(`redis log kept in ${keep}`);
    }
  }
  if (opt.profile) {
    for (const s of servers) {
      const dir = path.join(tmp, `prof-${s.i}`);
      for (const f of fs.existsSync(dir) ? fs.readdirSync(dir) : []) {
        const sum = summarize(path.join(dir, f), 30);
        const keep = path.join(os.tmpdir(), `chorus-load-server-${s.i}-${process.pid}.cpuprofile`);
        fs.copyFileSync(path.join(dir, f), keep);
        console.log(`\nserver ${s.i} CPU profile (${keep}): ${((sum.totalMs - sum.idleMs) / 1000).toFixed(1)} s busy of ${(sum.totalMs / 1000).toFixed(1)} s`);
        for (const g of sum.groups) console.log(`  ${(g.share * 100).toFixed(1).padStart(5)}%  ${g.group}`);
        for (const r of sum.rows) console.log(`  ${(r.share * 100).toFixed(1).padStart(5)}%  ${r.name}  ${r.where}`);
      }
    }
  }
  fs.rmSync(tmp, { recursive: true, force: true });
  output(report);
}

// ---- report --------------------------------------------------------------------------------

function output(r) {
  const errorCount = Object.values(r.errors).reduce((s, v) => s + v, 0);
  const drops = r.steps.reduce((s, x) => s + x.missing + x.duplicates, 0) + r.ramp.failed + r.ramp.incomplete;
  const mode = PROCESSES > 1 ? `${PROCESSES} server processes over Redis` : 'one server process';
  const cpuList = (arr) => arr.map((c) => `${c.cpuPct.toFixed(0)} % (sys ${c.sysPct.toFixed(0)})`).join(' + ');
  const genDesc = GENERATORS === 1 ? 'one load generator process' : `${GENERATORS} load generator processes (${CLIENTS / GENERATORS} clients each)`;

  const rampTable = [
    '| clients welcomed | all welcomed after | joins/s (overall) | joins/s (10%-90% of welcomes) | connect to welcome p50 / p99 / max | of which WebSocket handshake p50 / p99 | server CPU during ramp | generator CPU | failed |',
    '|---|---|---|---|---|---|---|---|---|',
    `| ${r.ramp.welcomed} / ${CLIENTS} | ${r.ramp.allWelcomedS.toFixed(1)} s | ${r.ramp.rateOverall.toFixed(0)} | ${r.ramp.rateMid.toFixed(0)} | ` +
    `${ms(r.ramp.joinLatency.p50)} / ${ms(r.ramp.joinLatency.p99)} / ${ms(r.ramp.joinLatency.max)} ms | ` +
    `${ms(r.ramp.handshake.p50)} / ${ms(r.ramp.handshake.p99)} ms | ${cpuList(r.ramp.serverCpu)} | ` +
    `${r.ramp.genCpuPct.map((c) => `${c.toFixed(0)} %`).join(' + ')} | ${r.ramp.failed + r.ramp.incomplete} |`,
  ];
  const memTable = [
    '| server | idle joined connections | VmRSS before | VmRSS after | **RSS per connection** | V8 heap used per connection (/metrics, no GC forced) | VmHWM | CPU while idle (pings only) |',
    '|---|---|---|---|---|---|---|---|',
    ...r.memory.map((m, i) => `| ${i} | ${m.n} | ${mib(m.rssBefore)} | ${mib(m.rssAfter)} | **${kib(m.perConn)}** | ` +
      `${m.heapPerConn != null ? `${kib(m.heapPerConn)} (${mib(m.heapBefore)} -> ${mib(m.heapAfter)})` : 'no /metrics'} | ${mib(m.hwm)} | ${m.idleCpuPct.toFixed(1)} % |`),
  ];
  if (r.memory.length > 1) {
    // Each process holds its own sockets and the core state of the rooms it hosts, including
    // seats whose socket is on the other process: the sum over processes per client is the cost.
    const tot = (k) => r.memory.reduce((s, m) => s + m[k], 0);
    const n = tot('n');
    const hb = tot('heapBefore');
    const ha = tot('heapAfter');
    memTable.push(`| all | ${n} | ${mib(tot('rssBefore'))} | ${mib(tot('rssAfter'))} | **${kib((tot('rssAfter') - tot('rssBefore')) / n)}** | ` +
      `${Number.isFinite(ha - hb) ? kib((ha - hb) / n) : '-'} | - | - |`);
  }
  const stepTable = [
    `| relayed ${KIND}s/s (per client: one every) | + pings/s | sent | received / expected | delivered/s | **p50** | **p90** | **p99** | **max** | server CPU | ${USE_REDIS ? 'redis CPU | ' : ''}generator CPU / event-loop lag p99 | CPU pressure |`,
    `|---|---|---|---|---|---|---|---|---|---|${USE_REDIS ? '---|' : ''}---|---|`,
    ...r.steps.map((s) => `| ${s.rate} (${(CLIENTS / s.rate).toFixed(1)} s) | ${(CLIENTS / (PING_INTERVAL_MS / 1000)).toFixed(0)} | ${s.sent} | ${s.received} / ${s.expected} | ${s.delivered.toFixed(0)} | ` +
      `**${ms(s.lat.p50)} ms** | **${ms(s.lat.p90)} ms** | **${ms(s.lat.p99)} ms** | **${ms(s.lat.max)} ms** | ${cpuList(s.serverCpu)} | ` +
      `${USE_REDIS ? `${s.redisCpu ? s.redisCpu.cpuPct.toFixed(0) : '-'} % | ` : ''}${s.genCpuPct.map((c) => `${c.toFixed(0)} %`).join(' + ')} / ` +
      `${s.genLoop.map((l) => `${ms(l.p99)} ms`).join(', ')} | ${s.pressure.toFixed(0)} % |`),
  ];
  const headline = r.steps[0];
  // With several processes, the cost of a client is the sum over the processes.
  const memWorst = r.memory.reduce((s, m) => s + m.rssAfter - m.rssBefore, 0) / r.memory.reduce((s, m) => s + m.n, 0);
  const verdicts = [
    `p99 relay latency < 20 ms at ${CLIENTS} clients (${headline.rate} ${KIND}s/s): ${headline.lat.p99 < 20 ? 'met' : 'NOT met'} (${ms(headline.lat.p99)} ms)`,
    ...r.steps.slice(1).map((s) => `at ${s.rate}/s: p99 ${ms(s.lat.p99)} ms (${s.lat.p99 < 20 ? 'under' : 'over'} 20 ms)`),
    `server memory per idle connection < 16 KiB: ${memWorst < 16384 ? 'met' : 'NOT met'} (${kib(memWorst)} RSS)`,
    `errors/drops: ${errorCount + drops === 0 ? 'none' : `${JSON.stringify(r.errors)}, ${drops} dropped/failed`}`,
  ];
  const loads = r.steps.flatMap((s) => s.loads);
  const loadLine = `Load average (1, 5, 15 min) at start ${r.loadStart.map((x) => x.toFixed(2)).join(', ')}; ` +
    `CPU pressure (share of the time some task waited for a CPU, /proc/pressure/cpu) during the ramp ${r.ramp.pressure.toFixed(0)} %; ` +
    `1-min during the load steps ${Math.min(...loads).toFixed(2)}-${Math.max(...loads).toFixed(2)}; at the end ${r.loadEnd.map((x) => x.toFixed(2)).join(', ')}.`;

  console.log(`\n${rampTable.join('\n')}\n\n${memTable.join('\n')}\n\n${stepTable.join('\n')}\n`);
  console.log(`pong RTT p50/p99: ${r.steps.map((s) => `${ms(s.pong.p50)}/${ms(s.pong.p99)} ms`).join(', ')}; pings ${r.steps.map((s) => `${s.pongs}/${s.pings}`).join(', ')}`);
  console.log(verdicts.join('\n'));
  console.log(loadLine);
  if (r.serverExits.some(Boolean)) console.log(`server exited during the run: ${JSON.stringify(r.serverExits)}`);

  if (!opt.write) return;
  const args = process.argv.slice(2).filter((a) => a !== '--write' && a !== '--profile');
  const cmd = `node tools/bench/signaling-load.mjs${args.length ? ` ${args.join(' ')}` : ''} --write`;
  const name = PROCESSES > 1 ? 'signaling-load-redis' : 'signaling-load';
  const commit = gitCommit();
  const cpu = os.cpus();
  const section = [
    `<!-- ${name}:begin (written by tools/bench/signaling-load.mjs --write) -->`,
    PROCESSES > 1 ? `## Signaling server under load: ${PROCESSES} processes over Redis` : '## Signaling server under load: one process',
    '',
    `Command: \`${cmd}\``,
    '',
    `Measured ${r.started.toISOString().slice(0, 10)}${commit ? ` at commit ${commit}` : ''} on ${cpu.length} cores (${cpu[0]?.model?.trim()}), ` +
    `Node ${process.version}, shared with other work. ${loadLine}`,
    '',
    `${CLIENTS} WebSocket clients (\`ws\`) in ${ROOMS} rooms of ${PER_ROOM}, against ${mode} (\`node tools/server/cli.mjs\`` +
    `${USE_REDIS ? ', clients of each room spread over the processes, a private redis-server on loopback' : ''}), from ${genDesc}; ` +
    `every process on this machine, over loopback, each client from a source address of its own (${opt['per-address']} per 127.77.x.y). ` +
    `Ramp: at most ${opt.concurrency} handshakes + joins in flight per generator${Number(opt['join-rate']) ? `, ${opt['join-rate']} starts/s` : ''}. ` +
    'Every joined client sends an app `ping` every 10 s (the client core\'s interval; the server closes sockets silent for 30 s). ' +
    `Memory: VmRSS of the server process from /proc/<pid>/status before the ramp and after ${IDLE_S} s of idle joined clients ` +
    '(pings only), divided by the connections. CPU: utime + stime from /proc/<pid>/stat over the phase (100 % = one core). ' +
    `Load steps of ${DURATION_S} s each: each step's rate of relayed \`${KIND}\` messages over all clients, client after client, ` +
    (KIND === 'signal' ? 'each a trickled ICE candidate (~150 bytes) to a random other peer of its room' : 'each to the other peers of its room') +
    ', on top of the pings; latency from the sender\'s `send()` to the addressee\'s `message` event, both in one generator process (one clock). ' +
    'Every message must arrive exactly once.',
    '',
    'Joins:',
    '',
    ...rampTable,
    '',
    'Memory per idle joined connection:',
    '',
    ...memTable,
    '',
    `Relay latency under load (${DURATION_S} s per step):`,
    '',
    ...stepTable,
    '',
    ...verdicts.map((v) => `- ${v}`),
    `<!-- ${name}:end -->`,
  ].join('\n');
  writeSection(section, name);
  console.log('\nwritten to docs/BENCHMARKS.md');
}

process.on('SIGINT', () => { for (const c of children) try { c.kill('SIGKILL'); } catch { /* gone */ } process.exit(130); });
main().catch((e) => {
  console.error(e);
  for (const c of children) try { c.kill('SIGKILL'); } catch { /* gone */ }
  process.exit(1);
});
