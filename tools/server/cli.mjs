#!/usr/bin/env node
// chorus-rtc-server: the signaling server plus the demo pages on one HTTP port.
// Configuration: flags or CHORUS_* environment variables (config.mjs; --help lists them).
// Logs: one line per event on stdout, JSON unless stdout is a terminal (log.mjs).
// SIGTERM / SIGINT: graceful shutdown (clients are told 1012 and reconnect elsewhere); a second
// signal stops at once.

import { parseConfig, ConfigError, USAGE } from './config.mjs';
import { createLogger } from './log.mjs';
import { startServer } from './server.mjs';

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
let signals = 0;
async function stop(signal) {
  signals++;
  if (signals > 1) {
    log.warn(`second ${signal}: stopping at once`);
    await server?.close().catch(() => {});
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
  log.info('stopped');
  process.exit(0);
}
process.on('SIGINT', stop);
process.on('SIGTERM', stop);

try {
  server = await startServer({ ...cfg.serverOptions, logger: log });
} catch (err) {
  log.error('could not start', err);
  process.exit(1);
}
if (signals > 0) await server.close();
else log.info(`chorus-rtc signaling + demo listening on ${server.url}`, { url: server.url });
