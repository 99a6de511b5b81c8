// Watches the configured Janus (config `janus.url`) for the room machine: rooms may use the
// SFU / MCU only while Janus answers. One WebSocket stays open (subprotocol janus-protocol);
// `info` must list the plugins chorus uses, and is asked again every `intervalMs` as a
// heartbeat. A closed socket or an unanswered `info` means unreachable at once (rooms that
// can fall back to a mesh do); reconnects back off from 1 s to 5 s.

import { WebSocket } from 'ws';

const PLUGINS = ['janus.plugin.videoroom', 'janus.plugin.audiobridge'];

/**
 * @param {object} o
 * @param {string} o.url                      Janus WebSocket URL
 * @param {(reachable: boolean) => void} o.onChange  called on every change (first: when known)
 * @param {{info: Function, warn: Function}} o.log
 * @param {number} [o.intervalMs=5000]        heartbeat period
 * @param {number} [o.answerTimeoutMs=2000]   how long `info` may take
 * @returns {{ reachable: () => boolean, close: () => void }}
 */
export function watchJanus({ url, onChange, log, intervalMs = 5000, answerTimeoutMs = 2000 }) {
  let reachable = null; // unknown until the first answer or failure
  let ws = null;
  let closed = false;
  let retryMs = 1000;
  let heartbeat = null;
  let answerTimer = null;
  let retryTimer = null;

  const set = (value, why) => {
    if (value === reachable) return;
    reachable = value;
    if (value) log.info('janus reachable', { url });
    else log.warn('janus unreachable', { url, why });
    onChange(value);
  };

  const ask = () => {
    if (ws?.readyState !== WebSocket.OPEN) return;
    ws.send(JSON.stringify({ janus: 'info', transaction: `probe-${Date.now()}` }));
    clearTimeout(answerTimer);
    answerTimer = setTimeout(() => {
      set(false, 'no answer to info');
      ws?.terminate();
    }, answerTimeoutMs);
  };

  const connect = () => {
    if (closed) return;
    ws = new WebSocket(url, 'janus-protocol', { handshakeTimeout: answerTimeoutMs });
    ws.on('open', () => {
      retryMs = 1000;
      ask();
      heartbeat = setInterval(ask, intervalMs);
      heartbeat.unref();
    });
    ws.on('message', (data) => {
      let m;
      try {
        m = JSON.parse(data.toString('utf8'));
      } catch {
        return;
      }
      if (m.janus !== 'server_info') return;
      clearTimeout(answerTimer);
      const plugins = Object.keys(m.plugins ?? {});
      const missing = PLUGINS.filter((p) => !plugins.includes(p));
      set(missing.length === 0, missing.length ? `plugins missing: ${missing.join(', ')}` : undefined);
    });
    ws.on('error', () => {}); // 'close' follows and reports
    ws.on('close', () => {
      clearInterval(heartbeat);
      clearTimeout(answerTimer);
      set(false, 'connection closed');
      if (closed) return;
      retryTimer = setTimeout(connect, retryMs);
      retryTimer.unref();
      retryMs = Math.min(5000, retryMs * 2);
    });
  };
  connect();

  return {
    reachable: () => reachable === true,
    close() {
      closed = true;
      clearInterval(heartbeat);
      clearTimeout(answerTimer);
      clearTimeout(retryTimer);
      ws?.terminate();
    },
  };
}
