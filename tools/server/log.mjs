// Structured logging for the signaling server: one event per line, as JSON (for log shippers)
// or as text (for a person at a terminal). No dependency: a log line is small and rare enough
// (errors, start, stop; connection events only at debug) that a synchronous write is fine.
//
//   const log = createLogger({ format: 'json', level: 'info' });
//   log.info('listening', { url });             // {"time":"…","level":"info","msg":"listening","url":"…"}
//   log.error('core failed handling message', err);   // an Error becomes the field `err`

/** Minimum-level order; a logger writes events at its level and above. */
export const LEVELS = Object.freeze({ debug: 10, info: 20, warn: 30, error: 40 });
export const FORMATS = Object.freeze(['json', 'text']);

const noop = () => {};

/** Four methods, each `(msg, ...details)`.
 * @typedef {{debug: Function, info: Function, warn: Function, error: Function}} Logger */

/** A logger that writes nothing (`logger: null`). */
export const SILENT = Object.freeze({ debug: noop, info: noop, warn: noop, error: noop });

/**
 * Creates a logger writing one line per event to `stream`.
 *
 * Each method takes `(msg, ...details)`: a detail that is an Error becomes the field `err`
 * ({name, message, code?, stack}), a plain object is merged into the fields, anything else is
 * appended to msg (so the host's older `log.error('what:', value)` calls stay readable).
 *
 * @param {object} [options]
 * @param {'json'|'text'} [options.format]  default: json unless `stream` is a TTY
 * @param {'debug'|'info'|'warn'|'error'} [options.level='info']  minimum level written
 * @param {{write: (s: string) => any, isTTY?: boolean}} [options.stream=process.stdout]
 * @param {object} [options.fields]  added to every event (e.g. {pid})
 * @param {() => Date} [options.now]  clock (tests)
 * @returns {Logger}
 */
export function createLogger(options = {}) {
  const { level = 'info', stream = process.stdout, fields = {}, now = () => new Date() } = options;
  const format = options.format ?? (stream.isTTY ? 'text' : 'json');
  if (!(level in LEVELS)) throw new RangeError(`unknown log level "${level}"`);
  if (!FORMATS.includes(format)) throw new RangeError(`unknown log format "${format}"`);
  const min = LEVELS[level];
  const render = format === 'json' ? renderJson : renderText;

  const method = (name) => {
    if (LEVELS[name] < min) return noop;
    return (msg, ...details) => {
      const event = buildEvent(now(), name, msg, details, fields);
      try {
        stream.write(render(event) + '\n');
      } catch {
        // A closed stdout (EPIPE) must not take the server down with it.
      }
    };
  };
  return { debug: method('debug'), info: method('info'), warn: method('warn'), error: method('error') };
}

/**
 * Normalises startServer's `logger` option: null = silent, undefined = a default logger
 * (createLogger()), an object = used as is, with the methods it lacks filled in (warn falls
 * back to error, debug to nothing) so a `{info, error}` logger keeps working.
 * @returns {Logger}
 */
export function toLogger(logger) {
  if (logger === null) return SILENT;
  if (logger === undefined) return createLogger();
  const bind = (fn) => (typeof fn === 'function' ? fn.bind(logger) : undefined);
  const error = bind(logger.error) ?? noop;
  return {
    debug: bind(logger.debug) ?? noop,
    info: bind(logger.info) ?? noop,
    warn: bind(logger.warn) ?? error,
    error,
  };
}

function buildEvent(date, level, msg, details, base) {
  const event = { time: date.toISOString(), level, msg: String(msg) };
  for (const d of details) {
    if (d instanceof Error) event.err = errorFields(d);
    else if (d !== null && typeof d === 'object' && !Array.isArray(d)) {
      for (const [k, v] of Object.entries(d)) event[k] = v instanceof Error ? errorFields(v) : v;
    } else event.msg += ' ' + String(d);
  }
  // Base fields never overwrite time/level/msg or the event's own fields.
  for (const [k, v] of Object.entries(base)) if (!(k in event)) event[k] = v;
  return event;
}

function errorFields(err) {
  const out = { name: err.name, message: err.message };
  if (err.code !== undefined) out.code = err.code;
  if (err.stack) out.stack = err.stack;
  return out;
}

function renderJson(event) {
  try {
    return JSON.stringify(event, jsonSafe());
  } catch {
    return JSON.stringify({ time: event.time, level: event.level, msg: event.msg, logError: 'unserializable fields' });
  }
}

/** A JSON.stringify replacer that survives BigInt and cycles, the two ways a field can throw. */
function jsonSafe() {
  const seen = new WeakSet();
  return (key, value) => {
    if (typeof value === 'bigint') return value.toString();
    if (value !== null && typeof value === 'object') {
      if (seen.has(value)) return '[circular]';
      seen.add(value);
    }
    return value;
  };
}

/** `2025-01-01T00:00:00.000Z INFO  msg key=value key="with space"`, then an error's stack. */
function renderText(event) {
  const { time, level, msg, err, ...rest } = event;
  let line = `${time} ${level.toUpperCase().padEnd(5)} ${msg}`;
  for (const [k, v] of Object.entries(rest)) line += ` ${k}=${textValue(v)}`;
  if (err) {
    line += ` err=${textValue(err.message)}`;
    if (err.stack) line += '\n    ' + err.stack.split('\n').join('\n    ');
  }
  return line;
}

function textValue(v) {
  const s = typeof v === 'string' ? v : renderJson(v) ?? String(v);
  return /^[^\s"=]+$/.test(s) ? s : JSON.stringify(s);
}
