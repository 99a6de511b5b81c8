#!/usr/bin/env node
// chorus-rtc-server: the signaling server plus the demo pages on one HTTP port.
// Configuration: flags or CHORUS_* environment variables (config.mjs; --help lists them).
// Logs: one line per event on stdout, JSON unless stdout is a terminal (log.mjs).
// SIGTERM / SIGINT: graceful shutdown (clients are told 1012 and reconnect elsewhere); a second
// signal stops at once. --start-janus: a private Janus is started first (start-janus.mjs) and
// stopped after the server.

import { parseConfig, ConfigError, USAGE } from './config.mjs';
import { createLogger } from './log.mjs';
import { startServer } from './server.mjs';
import { startPrivateJanus } from './start-janus.mjs';

let cfg;
try {
  cfg = parseConfig(process.argv.slice(2), process.env, { stdoutIsTTY: Boolean(process.stdout.isTTY) });
} catch (err) {
  if (!(err instanceof ConfigError)) throw err;
  process.stderr.write(`chorus-rtc-server: ${err.message}\n\n${USAGE}`);
  process.exit(2);
}
if (cfg.help) {
  process.stdout.write(USAGE);
  process.exit(0);
}

const log = createLogger({ ...cfg.logging, fields: { pid: process.pid } });
for (const w of cfg.warnings) log.warn(w);

// The server's own handlers never let an error escape; this is the last line of defence so a
// bug in one connection's handling cannot take down every other room.
process.on('uncaughtException', (err) => log.error('uncaught exception (continuing)', err));
process.on('unhandledRejection', (err) => log.error('unhandled rejection (continuing)',
  err instanceof Error ? err : { reason: String(err) }));

// Signal handlers go in before the server starts, so a signal during start-up also ends the
// process cleanly.
let server = null;
let janus = null;     // the private Janus of --start-janus
let signals = 0;
async function stopJanus() {
  const j = janus;
  janus = null;
  if (!j) return;
  try {
    await j.stop();
    log.info('janus stopped', { pid: j.pid });
  } catch (err) {
    log.error('error while stopping janus', err);
  }
}
async function stop(signal) {
  signals++;
  if (signals > 1) {
    log.warn(`second ${signal}: stopping at once`);
    await server?.close().catch(() => {});
    await stopJanus();
    process.exit(0);
  }
  log.info(`${signal}: shutting down`, { timeoutMs: cfg.shutdownTimeoutMs });
  // Whatever happens in close(), the process ends a little after the drain's own deadline.
  setTimeout(() => process.exit(0), cfg.shutdownTimeoutMs + 3000).unref();
  try {
    await server?.close({ graceful: true, timeoutMs: cfg.shutdownTimeoutMs });
  } catch (err) {
    log.error('error while closing', err);
  }
  await stopJanus();
  log.info('stopped');
  process.exit(0);
}
process.on('SIGINT', stop);
process.on('SIGTERM', stop);

if (cfg.startJanus) {
  janus = await startPrivateJanus({ address: cfg.startJanus.address, log });
  if (janus) {
    cfg.serverOptions.config.janus = { url: janus.wsUrl };
    const started = janus;
    // Janus dying under a running server is logged; the server's probe (janus-probe.mjs) sees
    // it too and rooms that can fall back to a mesh do.
    started.exited.then((how) => { if (janus === started) log.warn('janus exited', how); });
  }
}

try {
  server = await startServer({ ...cfg.serverOptions, logger: log });
} catch (err) {
  log.error('could not start', err);
  await stopJanus();
  process.exit(1);
}
if (signals > 0) await server.close();
else log.info(`chorus-rtc signaling + demo listening on ${server.url}`, { url: server.url });
