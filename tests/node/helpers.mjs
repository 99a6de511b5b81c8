// Shared helpers for the Node tests: a buffered WebSocket test client and small HTTP helpers.

import net from 'node:net';
import { WebSocket } from 'ws';

export const HOST = '127.0.0.1';

/**
 * A WebSocket client that queues every message it receives, so a test can wait for "the next
 * message matching X" without racing the event loop.
 */
export class TestClient {
  /** @param {string} url  @param {import('ws').ClientOptions} [options] */
  static async connect(url, options = {}) {
    const c = new TestClient(new WebSocket(url, options));
    await new Promise((resolve, reject) => {
      c.ws.once('open', resolve);
      c.ws.once('error', reject);
    });
    return c;
  }

  constructor(ws) {
    this.ws = ws;
    this.queue = [];
    this.waiters = [];
    this.closed = null; // { code, reason } once closed
    this.closeWaiters = [];
    ws.on('message', (data, isBinary) => {
      const text = data.toString('utf8');
      let msg;
      try {
        msg = JSON.parse(text);
      } catch {
        msg = { type: '<not-json>', text, isBinary };
      }
      this.queue.push(msg);
      this.#wake();
    });
    ws.on('close', (code, reason) => {
      this.closed = { code, reason: reason.toString('utf8') };
      for (const w of this.closeWaiters.splice(0)) w(this.closed);
      this.#wake();
    });
    ws.on('error', () => {});
  }

  #wake() {
    for (const w of [...this.waiters]) w();
  }

  /** Sends an object as JSON text, or a string / Buffer as is. */
  send(msg, opts) {
    this.ws.send(typeof msg === 'string' || Buffer.isBuffer(msg) ? msg : JSON.stringify(msg), opts);
  }

  /**
   * Resolves with (and removes from the queue) the first received message that matches
   * `pred` (a function, or a string that must equal msg.type).
   */
  next(pred = () => true, timeoutMs = 3000) {
    const match = typeof pred === 'string' ? (m) => m.type === pred : pred;
    return new Promise((resolve, reject) => {
      const check = () => {
        const i = this.queue.findIndex(match);
        if (i >= 0) {
          done();
          resolve(this.queue.splice(i, 1)[0]);
          return true;
        }
        if (this.closed) {
          done();
          reject(new Error(`socket closed (${this.closed.code}) while waiting; got ${JSON.stringify(this.queue)}`));
          return true;
        }
        return false;
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`timed out waiting for a message; got ${JSON.stringify(this.queue)}`));
      }, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        this.waiters = this.waiters.filter((w) => w !== check);
      };
      if (!check()) this.waiters.push(check);
    });
  }

  /** Asserts that nothing matching `pred` arrives within `ms`. */
  async nothing(pred = () => true, ms = 200) {
    const match = typeof pred === 'string' ? (m) => m.type === pred : pred;
    await new Promise((r) => setTimeout(r, ms));
    const found = this.queue.find(match);
    if (found) throw new Error(`unexpected message: ${JSON.stringify(found)}`);
  }

  /** Sends a join and waits for welcome (or rejects on an error message). */
  async join(room, name = '', extra = {}) {
    this.send({ type: 'join', v: 1, room, name, ...extra });
    const msg = await this.next((m) => m.type === 'welcome' || m.type === 'error');
    if (msg.type !== 'welcome') throw new Error(`join failed: ${JSON.stringify(msg)}`);
    this.peerId = msg.peerId;
    return msg;
  }

  /** Round trip: ping with an id and wait for the pong carrying it. */
  async roundTrip(id = Math.floor(Math.random() * 1e9)) {
    this.send({ type: 'ping', id });
    return this.next((m) => m.type === 'pong' && m.id === id);
  }

  waitClose(timeoutMs = 5000) {
    if (this.closed) return Promise.resolve(this.closed);
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('timed out waiting for close')), timeoutMs);
      this.closeWaiters.push((c) => { clearTimeout(t); resolve(c); });
    });
  }

  close(code = 1000) {
    if (!this.closed) this.ws.close(code);
    return this.waitClose();
  }
}

/**
 * Sends one raw HTTP/1.1 request (the path exactly as given, no client-side normalisation) and
 * resolves with { status, headers, body }.
 */
export function rawGet(port, rawPath, { method = 'GET', host = HOST } = {}) {
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, host);
    const chunks = [];
    sock.setTimeout(5000, () => sock.destroy(new Error('raw request timed out')));
    sock.on('connect', () => {
      sock.write(`${method} ${rawPath} HTTP/1.1\r\nHost: ${host}:${port}\r\nConnection: close\r\n\r\n`);
    });
    sock.on('data', (d) => chunks.push(d));
    sock.on('error', reject);
    sock.on('close', () => {
      const text = Buffer.concat(chunks).toString('latin1');
      const head = text.slice(0, text.indexOf('\r\n\r\n'));
      const body = text.slice(head.length + 4);
      const [statusLine, ...lines] = head.split('\r\n');
      const headers = {};
      for (const l of lines) {
        const i = l.indexOf(':');
        headers[l.slice(0, i).trim().toLowerCase()] = l.slice(i + 1).trim();
      }
      resolve({ status: Number(statusLine.split(' ')[1]), headers, body });
    });
  });
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
