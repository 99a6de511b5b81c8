// A small Janus API client over WebSocket for tests and tools (not for the library: the chorus
// core speaks to Janus through the glue). It keeps a log of every frame in both directions, so a
// tool can record exchanges (tools/janus/record-replies.mjs), and lets a caller wait for "the
// first received message matching X after position N" without racing the event loop.
//
//   const j = await JanusSocket.connect(janus.wsUrl, { name: 'alice' });
//   const { data: { id: session } } = await j.call({ janus: 'create' });
//   const ev = await j.waitFor((m) => m.janus === 'event' && m.sender === handle);
//   j.close();

import WebSocket from 'ws';

export class JanusSocket {
  /** @param {string} url  @param {{name?: string, timeoutMs?: number}} [o] */
  static async connect(url, { name = 'client', timeoutMs = 5000 } = {}) {
    const ws = new WebSocket(url, 'janus-protocol', { handshakeTimeout: timeoutMs });
    await new Promise((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
    });
    return new JanusSocket(ws, name);
  }

  constructor(ws, name) {
    this.ws = ws;
    this.name = name;
    /** [{dir: 'send'|'receive', msg (object, or {raw: text} when not JSON), t: ms since connect,
     *    at: Date.now()}] */
    this.log = [];
    this.seq = 0;
    this.waiters = new Set();
    this.closed = null;
    this.t0 = Date.now();
    ws.on('message', (data) => {
      const text = data.toString('utf8');
      let msg;
      try { msg = JSON.parse(text); } catch { msg = { raw: text }; }
      this.log.push({ dir: 'receive', msg, t: Date.now() - this.t0, at: Date.now() });
      this.#wake();
    });
    ws.on('close', (code, reason) => {
      this.closed = { code, reason: String(reason) };
      this.#wake();
    });
    ws.on('error', () => {});
  }

  #wake() { for (const w of [...this.waiters]) w(); }

  /** A fresh transaction id: `<name>-<n>` (deterministic per connection). */
  tx() { return `${this.name}-${++this.seq}`; }

  /** Position in the log; pass it to waitFor/received to look only at what came later. */
  mark() { return this.log.length; }

  /** Sends a message (adds a transaction unless it has one, or `transaction: null` is given).
   *  Returns the message as sent. */
  send(msg) {
    const out = { ...msg };
    if (out.transaction === undefined) out.transaction = this.tx();
    if (out.transaction === null) delete out.transaction;
    this.log.push({ dir: 'send', msg: out, t: Date.now() - this.t0, at: Date.now() });
    this.ws.send(JSON.stringify(out));
    return out;
  }

  /** Sends text as is (malformed input). */
  sendRaw(text) {
    this.log.push({ dir: 'send', msg: { raw: text }, t: Date.now() - this.t0, at: Date.now() });
    this.ws.send(text);
  }

  /** Received messages from log position `from` on. */
  received(from = 0) {
    return this.log.slice(from).filter((e) => e.dir === 'receive').map((e) => e.msg);
  }

  /** Resolves with the first message received at or after log position `from` that matches
   *  pred; rejects after timeoutMs with the messages seen. */
  waitFor(pred, { from = 0, timeoutMs = 10000, what = 'a matching message' } = {}) {
    return new Promise((resolve, reject) => {
      const check = () => {
        for (let i = from; i < this.log.length; i++) {
          const e = this.log[i];
          if (e.dir === 'receive' && pred(e.msg)) { finish(); resolve(e.msg); return; }
        }
        if (this.closed) { finish(); reject(new Error(`${this.name}: socket closed (${JSON.stringify(this.closed)}) while waiting for ${what}`)); }
      };
      const timer = setTimeout(() => {
        finish();
        const seen = this.received(from).map((m) => JSON.stringify(m).slice(0, 300));
        reject(new Error(`${this.name}: timed out after ${timeoutMs} ms waiting for ${what}; received since: ${seen.join('\n  ') || '(nothing)'}`));
      }, timeoutMs);
      const finish = () => { clearTimeout(timer); this.waiters.delete(check); };
      this.waiters.add(check);
      check();
    });
  }

  /** Sends msg and resolves with the first reply of its transaction that is not an `ack`
   *  (success, error, or the plugin's event for asynchronous requests). */
  async call(msg, { timeoutMs = 10000 } = {}) {
    const from = this.mark();
    const sent = this.send(msg);
    return this.waitFor((m) => m.transaction === sent.transaction && m.janus !== 'ack',
      { from, timeoutMs, what: `the reply to ${JSON.stringify(sent).slice(0, 200)}` });
  }

  /** Sends msg and resolves with its `ack` (keepalive, trickle, async plugin messages), or with
   *  the first reply of its transaction if that is not an ack (e.g. an error). */
  async acked(msg, { timeoutMs = 10000 } = {}) {
    const from = this.mark();
    const sent = this.send(msg);
    return this.waitFor((m) => m.transaction === sent.transaction,
      { from, timeoutMs, what: `the ack of ${JSON.stringify(sent).slice(0, 200)}` });
  }

  /** Transactions sent that are not answered yet: no reply at all, or an asynchronous plugin
   *  event whose `ack` has not come (Janus may send the event before the ack). */
  unanswered() {
    const replies = new Map();
    for (const e of this.log) {
      if (e.dir === 'receive' && typeof e.msg.transaction === 'string') {
        (replies.get(e.msg.transaction) ?? replies.set(e.msg.transaction, new Set()).get(e.msg.transaction)).add(e.msg.janus);
      }
    }
    const open = [];
    for (const e of this.log) {
      if (e.dir !== 'send' || typeof e.msg.transaction !== 'string') continue;
      const r = replies.get(e.msg.transaction);
      if (!r || (r.has('event') && !r.has('ack'))) open.push(e.msg.transaction);
    }
    return open;
  }

  /** Waits until every transaction sent has its answer (see unanswered()). */
  async settle({ timeoutMs = 5000 } = {}) {
    const deadline = Date.now() + timeoutMs;
    while (this.unanswered().length) {
      if (Date.now() > deadline) throw new Error(`${this.name}: unanswered transactions ${this.unanswered().join(', ')}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  close() {
    try { this.ws.close(); } catch {}
  }
}

/** Throws unless a Janus reply is `success` (returns it). */
export function expectSuccess(reply, what = 'request') {
  if (reply?.janus !== 'success') throw new Error(`${what}: expected success, got ${JSON.stringify(reply)}`);
  return reply;
}
