// Load generator process for tools/bench/signaling-load.mjs (forked by it, driven over IPC).
//
// Holds whole rooms: every client of a room lives in this process, so a relayed message's send
// time and its arrival at the addressee are read from one clock (performance.now()). With
// several servers (--processes 2), the clients of one room are spread over the servers
// (client i of room r goes to server (i + r) mod servers): a room is hosted by the process its
// first joiner reached (client 0 starts first, so rooms alternate between hosts), and the
// room's clients on the other process reach it through the cluster adapter (Redis).
//
// Commands from the parent (process.send): {cmd:'connect'}, {cmd:'load', ...}, {cmd:'exit'}.
// Answers: {ev:'progress'}, {ev:'connected'}, {ev:'loaded'}; {ev:'fatal'} on a bug.

import { performance, monitorEventLoopDelay } from 'node:perf_hooks';
import WebSocket from 'ws';

let cfg = null;           // from the parent's 'init'
const clients = [];       // every client of this process
let phase = 0;            // current load phase (0 = ramp / idle)
let stopping = false;
// monitorEventLoopDelay records the interval between two ticks of its 1 ms timer: minus 1 ms,
// how late the loop was.
const lag = (ns) => Math.max(0, ns / 1e6 - 1);

// Counters the parent reads; `errors` are listed by kind so the report can say what went wrong.
const errors = {};
const countError = (kind, detail) => {
  errors[kind] = (errors[kind] ?? 0) + 1;
  if (errors[kind] <= 3 && detail) process.send({ ev: 'log', text: `${kind}: ${detail}` });
};

// ---- one client ----------------------------------------------------------------------------

class Client {
  constructor(index, room, slot) {
    this.index = index;        // in this process
    this.room = room;          // {name, clients: [Client]}
    this.slot = slot;          // position in the room
    this.peerId = null;
    this.known = new Set();    // peer ids this client has been told about (welcome + peer-joined)
    this.ws = null;
    this.tStart = 0;
    this.tOpen = 0;
    this.tWelcome = 0;
    this.pingTimer = null;
    this.pingId = 0;
    this.pingSent = new Map(); // id -> time
  }

  open(url, localAddress) {
    this.tStart = performance.now();
    return new Promise((resolve) => {
      const ws = new WebSocket(url, { perMessageDeflate: false, localAddress, handshakeTimeout: 30000 });
      this.ws = ws;
      this.onJoined = resolve;
      ws.on('open', () => {
        this.tOpen = performance.now();
        ws.send(JSON.stringify({ type: 'join', v: 1, room: this.room.name, name: `load-${this.slot}` }));
      });
      ws.on('message', (data) => this.onMessage(data));
      ws.on('error', (err) => {
        if (!stopping) countError(this.peerId ? 'socket-error' : 'connect-error', err.message);
      });
      ws.on('close', (code) => {
        clearTimeout(this.pingTimer);
        this.pingTimer = null;
        if (!stopping) countError(`closed-${code}`, `client ${this.index} room ${this.room.name}`);
        if (!this.peerId) resolve(false);
      });
    });
  }

  onMessage(data) {
    const now = performance.now();
    let m;
    try {
      m = JSON.parse(data);
    } catch {
      countError('unparsable-frame');
      return;
    }
    switch (m.type) {
      case 'signal':
        onRelayed(this, m.candidate, now);
        break;
      case 'broadcast':
        onRelayed(this, m.data?.c, now);
        break;
      case 'pong': {
        const t = this.pingSent.get(m.id);
        if (t === undefined) {
          countError('unexpected-pong');
          break;
        }
        this.pingSent.delete(m.id);
        stats.pongs++;
        if (stats.pongRtt) stats.pongRtt.push(now - t);
        break;
      }
      case 'welcome':
        this.peerId = m.peerId;
        this.tWelcome = now;
        for (const p of m.peers) this.known.add(p.id);
        this.schedulePing(Math.random() * cfg.pingIntervalMs);
        this.onJoined(true);
        break;
      case 'peer-joined':
        this.known.add(m.peer.id);
        break;
      case 'peer-left':
        this.known.delete(m.peerId);
        if (!stopping) countError('peer-left', `${m.peerId} (${m.reason}) in ${this.room.name}`);
        break;
      case 'error':
        countError(`error-${m.code}`, `${m.message} (ref ${m.ref})`);
        break;
      case 'floor':
      case 'topology': // the room's media topology (issue 5): sent to every peer on a change
        stats.other++;
        break;
      default:
        countError(`unexpected-${m.type}`);
    }
  }

  schedulePing(delay) {
    this.pingTimer = setTimeout(() => {
      if (this.ws.readyState !== WebSocket.OPEN) return;
      const id = ++this.pingId;
      this.pingSent.set(id, performance.now());
      this.ws.send(`{"type":"ping","id":${id}}`);
      stats.pings++;
      this.schedulePing(cfg.pingIntervalMs);
    }, delay);
  }
}

// ---- relayed messages ----------------------------------------------------------------------

// Per phase: sendTime[seq] and the receipts of each seq, so duplicates and losses are seen.
let sendTime = new Float64Array(0);
let receipts = new Uint8Array(0);
let stats = newStats();

function newStats() {
  return { sent: 0, received: 0, expected: 0, lastReceipt: 0, other: 0, late: 0, pings: 0, pongs: 0, latency: [], pongRtt: [] };
}

// A relayed message carries `<phase>-<seq>` as the ICE candidate's foundation (signal) or in
// data.c (broadcast); foundations are arbitrary tokens of up to 32 characters.
function onRelayed(client, tag, now) {
  if (typeof tag !== 'string') {
    countError('relayed-without-tag');
    return;
  }
  const dash = tag.indexOf('-');
  const space = tag.indexOf(' ');
  const p = Number(tag.slice(tag.startsWith('candidate:') ? 10 : 0, dash));
  const seq = Number(tag.slice(dash + 1, space < 0 ? undefined : space));
  if (p !== phase) {
    stats.late++; // a message of an earlier phase that arrived after that phase's deadline
    return;
  }
  if (!(seq >= 0 && seq < stats.sent)) {
    countError('relayed-unknown-seq');
    return;
  }
  receipts[seq]++;
  stats.received++;
  stats.lastReceipt = now;
  stats.latency.push(now - sendTime[seq]);
}

// A realistic trickled candidate: ~150 bytes of JSON on the wire.
function signalFrame(to, tag, n) {
  return `{"type":"signal","to":"${to}","kind":"candidate","candidate":"candidate:${tag} 1 udp 1686052607 ` +
    `203.0.113.${n & 255} ${20000 + (n % 40000)} typ srflx raddr 192.168.1.20 rport 54321 generation 0 ufrag x7Qd ` +
    `network-id 1","sdpMid":"0","sdpMLineIndex":0}`;
}

function broadcastFrame(tag) {
  return `{"type":"broadcast","data":{"c":"${tag}","kind":"status","muted":false,"hand":false,"t":${Date.now()}}}`;
}

/**
 * Sends `rate` relayed messages per second for `durationMs`, each from a client chosen in
 * turn (so every client sends at rate / clients) to a random other peer of its room, then
 * waits up to `drainMs` for the last ones. Scheduling runs on a 1 ms timer: at each tick the
 * messages due by now are sent; each carries the time of its own send() call.
 */
async function runLoad({ rate, durationMs, drainMs, kind, phase: ph }) {
  phase = ph;
  stats = newStats();
  const capacity = Math.ceil(rate * durationMs / 1000) + 16;
  sendTime = new Float64Array(capacity);
  receipts = new Uint8Array(capacity);
  const fanout = kind === 'broadcast' ? cfg.perRoom - 1 : 1;
  const loop = monitorEventLoopDelay({ resolution: 1 });
  loop.enable();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let next = 0; // round-robin over clients
  let n = 0;
  await new Promise((resolve) => {
    const tick = () => {
      const now = performance.now();
      const elapsed = Math.min(now - t0, durationMs);
      const due = Math.min(capacity, Math.floor(elapsed * rate / 1000));
      while (n < due) {
        const c = clients[next];
        next = (next + 1) % clients.length;
        if (!c.peerId || c.ws.readyState !== WebSocket.OPEN) {
          countError('sender-not-open');
          n++;
          continue;
        }
        const seq = stats.sent;
        const tag = `${ph}-${seq}`;
        let frame;
        if (kind === 'broadcast') {
          frame = broadcastFrame(tag);
        } else {
          const others = c.room.clients;
          let to = others[Math.floor(Math.random() * (others.length - 1))];
          if (to === c) to = others[others.length - 1];
          if (!c.known.has(to.peerId)) countError('addressee-unknown-to-sender');
          frame = signalFrame(to.peerId, tag, seq);
        }
        sendTime[seq] = performance.now();
        c.ws.send(frame);
        stats.sent++;
        stats.expected += fanout;
        n++;
      }
      if (now - t0 >= durationMs) resolve();
      else setTimeout(tick, 1);
    };
    tick();
  });
  const sendEnd = performance.now();
  const cpu = process.cpuUsage(cpu0);
  loop.disable();
  // Drain: wait for the receipts still in flight, as long as they keep coming (a saturated
  // server delivers late, not never); a message still missing after drainMs without any
  // receipt is lost.
  let lastCount = -1;
  let lastProgress = performance.now();
  while (stats.received < stats.expected && performance.now() - lastProgress < drainMs) {
    if (stats.received !== lastCount) {
      lastCount = stats.received;
      lastProgress = performance.now();
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  const lastReceipt = stats.lastReceipt;
  let duplicates = 0;
  let missing = 0;
  for (let i = 0; i < stats.sent; i++) {
    if (receipts[i] > fanout) duplicates += receipts[i] - fanout;
    else if (receipts[i] < fanout) missing += fanout - receipts[i];
  }
  if (duplicates) countError('duplicates', `${duplicates} in phase ${ph}`);
  const pendingPings = clients.reduce((s, c) => s + c.pingSent.size, 0);
  return {
    sent: stats.sent,
    expected: stats.expected,
    received: stats.received,
    missing,
    duplicates,
    pings: stats.pings,
    pongs: stats.pongs,
    pendingPings,
    sendSeconds: (sendEnd - t0) / 1000,
    receiveSeconds: (lastReceipt - t0) / 1000, // first send to last receipt
    latency: Float64Array.from(stats.latency),
    pongRtt: Float64Array.from(stats.pongRtt),
    cpuMs: (cpu.user + cpu.system) / 1000,
    loopDelay: { p50: lag(loop.percentile(50)), p99: lag(loop.percentile(99)), max: lag(loop.max) },
  };
}

// ---- connect ramp --------------------------------------------------------------------------

/**
 * Opens every client, at most `concurrency` handshakes + joins in flight (and, with
 * joinRate > 0, starting at most that many per second), and reports the welcomed count every
 * 250 ms. Each client binds a loopback source address of its own group (clientsPerAddress per
 * address), as clients from many hosts would arrive.
 */
async function connectAll() {
  const t0 = performance.now();
  let started = 0;
  let welcomed = 0;
  let failed = 0;
  const report = setInterval(() => process.send({ ev: 'progress', welcomed, failed, t: performance.now() - t0 }), 250);
  const loop = monitorEventLoopDelay({ resolution: 1 });
  loop.enable();
  const cpu0 = process.cpuUsage();
  await new Promise((resolve) => {
    let inFlight = 0;
    const pump = () => {
      while (inFlight < cfg.concurrency && started < clients.length) {
        if (cfg.joinRate > 0 && started >= (performance.now() - t0) * cfg.joinRate / 1000) {
          setTimeout(pump, 1);
          return;
        }
        const c = clients[started++];
        const global = cfg.firstClient + c.index;
        const addr = `127.${cfg.addrBase}.${1 + Math.floor(global / cfg.clientsPerAddress / 250)}.` +
          `${1 + (Math.floor(global / cfg.clientsPerAddress) % 250)}`;
        const url = cfg.urls[(c.slot + c.room.number) % cfg.urls.length];
        inFlight++;
        c.open(url, addr).then((ok) => {
          inFlight--;
          if (ok) welcomed++;
          else failed++;
          if (welcomed + failed === clients.length) resolve();
          else pump();
        });
      }
    };
    pump();
  });
  clearInterval(report);
  const cpu = process.cpuUsage(cpu0);
  loop.disable();
  const ok = clients.filter((c) => c.peerId);
  // Wait until every client knows every other peer of its room (peer-joined), up to 10 s.
  const full = () => clients.every((c) => c.known.size === cfg.perRoom - 1);
  const deadline = performance.now() + 10000;
  while (!full() && performance.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  const incomplete = clients.filter((c) => c.known.size !== cfg.perRoom - 1).length;
  if (incomplete) countError('room-incomplete', `${incomplete} clients do not know all their room's peers`);
  return {
    welcomed: ok.length,
    failed,
    incomplete,
    starts: Float64Array.from(ok, (c) => c.tStart - t0),
    opens: Float64Array.from(ok, (c) => c.tOpen - t0),
    welcomes: Float64Array.from(ok, (c) => c.tWelcome - t0),
    cpuMs: (cpu.user + cpu.system) / 1000,
    loopDelay: { p50: lag(loop.percentile(50)), p99: lag(loop.percentile(99)), max: lag(loop.max) },
  };
}

// ---- IPC -----------------------------------------------------------------------------------

process.on('message', async (msg) => {
  try {
    if (msg.cmd === 'init') {
      cfg = msg.cfg;
      // Rooms are numbered globally; this process holds rooms [firstRoom, firstRoom + rooms).
      let index = 0;
      for (let r = 0; r < cfg.rooms; r++) {
        const room = { name: `${cfg.roomPrefix}-${cfg.firstRoom + r}`, number: cfg.firstRoom + r, clients: [] };
        for (let s = 0; s < cfg.perRoom; s++) {
          const c = new Client(index++, room, s);
          room.clients.push(c);
          clients.push(c);
        }
      }
      process.send({ ev: 'ready' });
    } else if (msg.cmd === 'connect') {
      process.send({ ev: 'connected', result: await connectAll() });
    } else if (msg.cmd === 'load') {
      process.send({ ev: 'loaded', result: await runLoad(msg) });
    } else if (msg.cmd === 'errors') {
      // Stop pinging, then wait for the pongs in flight (a saturated server answers late) as
      // long as they keep coming; the ones still missing 5 s after the last pong are lost.
      for (const c of clients) {
        clearTimeout(c.pingTimer);
        c.pingTimer = null;
      }
      const pending = () => clients.reduce((s, c) => s + c.pingSent.size, 0);
      let last = pending();
      let lastChange = performance.now();
      while (last > 0 && performance.now() - lastChange < 5000) {
        await new Promise((r) => setTimeout(r, 50));
        if (pending() !== last) {
          last = pending();
          lastChange = performance.now();
        }
      }
      if (last) countError('pong-missing', `${last} pings unanswered`);
      errors['pong-missing'] = last || undefined;
      if (!last) delete errors['pong-missing'];
      process.send({ ev: 'errors', errors });
    } else if (msg.cmd === 'exit') {
      stopping = true;
      for (const c of clients) {
        clearTimeout(c.pingTimer);
        c.ws?.terminate();
      }
      setTimeout(() => process.exit(0), 100);
    }
  } catch (err) {
    process.send({ ev: 'fatal', text: err.stack });
  }
});
