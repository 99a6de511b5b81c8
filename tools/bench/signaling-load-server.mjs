// Diagnostic stand-in for tools/server/cli.mjs (signaling-load.mjs --breakdown): the same
// startServer() with default options, forked with an IPC channel that answers
//   {cmd:'mem'}   process.memoryUsage() after a full GC (with --expose-gc) plus the size of
//                 the room machine's wasm memory, so the bench can say where per-connection
//                 memory goes;
//   {cmd:'loop'}  the event loop's delay and the GC pauses since the last 'loop', so it can
//                 say whether the server stalled;
//   {cmd:'prof-start'}, {cmd:'prof-stop', file}  a CPU profile of one phase (--profile).
// The headline figures come from the real CLI, not from this.
//
//   (forked by signaling-load.mjs) signaling-load-server.mjs --port N --host ADDR [--redis URL] [--ping-interval-ms N]

import fs from 'node:fs';
import inspector from 'node:inspector';
import { monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { startServer, instantiateCore } from '../server/server.mjs';

const { values } = parseArgs({
  options: {
    port: { type: 'string' }, host: { type: 'string' }, redis: { type: 'string' }, 'ping-interval-ms': { type: 'string' },
  },
});
let module = null;
const server = await startServer({
  port: Number(values.port),
  host: values.host,
  loadModule: async () => (module = await instantiateCore()),
  ...(values.redis ? { redis: values.redis } : {}),
  // An experiment: the WebSocket-level ping period (startServer's default when absent).
  ...(values['ping-interval-ms'] ? { pingIntervalMs: Number(values['ping-interval-ms']) } : {}),
});

const loop = monitorEventLoopDelay({ resolution: 5 });
const lag = (ns) => Math.max(0, ns / 1e6 - 5);
loop.enable();
let gc = { count: 0, totalMs: 0, maxMs: 0 };
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) {
    gc.count++;
    gc.totalMs += e.duration;
    gc.maxMs = Math.max(gc.maxMs, e.duration);
  }
}).observe({ entryTypes: ['gc'] });

// {cmd:'prof-start'} / {cmd:'prof-stop', file}: a CPU profile of just one phase (inspector).
let session = null;
const post = (method, params) => new Promise((resolve, reject) =>
  session.post(method, params, (err, res) => (err ? reject(err) : resolve(res))));

process.on('message', async (m) => {
  if (m.cmd === 'prof-start') {
    session = new inspector.Session();
    session.connect();
    await post('Profiler.enable');
    await post('Profiler.setSamplingInterval', { interval: 500 });
    await post('Profiler.start');
    process.send({ ev: 'prof-start', 'prof-start': true });
  } else if (m.cmd === 'prof-stop') {
    const { profile } = await post('Profiler.stop');
    fs.writeFileSync(m.file, JSON.stringify(profile));
    session.disconnect();
    session = null;
    process.send({ ev: 'prof-stop', 'prof-stop': m.file });
  }
  else if (m.cmd === 'mem') {
    globalThis.gc?.();
    process.send({ ev: 'mem', mem: { ...process.memoryUsage(), wasm: module?.HEAP8?.buffer.byteLength ?? null } });
  } else if (m.cmd === 'loop') {
    process.send({
      ev: 'loop',
      // A sample is the interval between two 5 ms timer ticks: minus 5 ms, the lag.
      loop: { p50: lag(loop.percentile(50)), p99: lag(loop.percentile(99)), max: lag(loop.max), gc },
    });
    loop.reset();
    gc = { count: 0, totalMs: 0, maxMs: 0 };
  }
});
process.on('SIGTERM', () => server.close().then(() => process.exit(0)));
process.send({ ev: 'listening', url: server.url });
