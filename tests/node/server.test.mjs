// The reference signaling server (tools/server/) driven over real sockets on loopback:
// protocol behaviour of the wasm ServerCore as seen by `ws` clients, the Node host's
// transport duties (limits, binary frames, dead TCP peers, robustness) and static files.

import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { startServer, instantiateCore } from '../../tools/server/server.mjs';
import { TestClient, HOST, rawGet, sleep } from './helpers.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const ID_RE = /^[A-Za-z0-9_-]{1,64}$/;
const SECRET_RE = /^[A-Za-z0-9_-]{16,128}$/;
const ICE = [{ urls: 'stun:stun.invalid:3478' }, { urls: ['turn:turn.invalid:3478'], username: 'u', credential: 'c' }];

let roomSeq = 0;
const freshRoom = (prefix = 'room') => `${prefix}-${process.pid}-${++roomSeq}`;

describe('signaling protocol through the server', () => {
  let srv;
  const clients = [];
  const connect = async (opts) => {
    const c = await TestClient.connect(srv.wsUrl, opts);
    clients.push(c);
    return c;
  };

  before(async () => {
    srv = await startServer({
      port: 0, host: HOST, logger: null,
      config: { iceServers: ICE, resumeGraceMs: 300 },
    });
  });
  after(async () => {
    for (const c of clients) c.ws.terminate();
    await srv.close();
  });

  test('startServer returns the bound port and URLs', () => {
    assert.ok(Number.isInteger(srv.port) && srv.port > 0);
    assert.equal(srv.url, `http://${HOST}:${srv.port}/`);
    assert.equal(srv.wsUrl, `ws://${HOST}:${srv.port}/`);
  });

  test('join: welcome has the documented shape', async () => {
    const a = await connect();
    const room = freshRoom();
    const w = await a.join(room, 'Ada');
    assert.equal(w.v, 1);
    assert.equal(w.room, room);
    assert.match(w.peerId, ID_RE);
    assert.match(w.secret, SECRET_RE);
    assert.equal(w.resumed, false);
    assert.deepEqual(w.peers, []);
    assert.deepEqual(w.iceServers, ICE);
    assert.deepEqual(w.floor, { holder: null, epoch: 0, reason: null }, 'nobody talks in a new room');
  });

  test('peer-joined, welcome.peers and peer-left (leave and close 1000)', async () => {
    const room = freshRoom();
    const a = await connect();
    const b = await connect();
    const c = await connect();
    const wa = await a.join(room, 'Ada');
    const wb = await b.join(room, 'Bob');
    assert.notEqual(wa.peerId, wb.peerId);
    assert.deepEqual(wb.peers, [{ id: wa.peerId, name: 'Ada', role: 'talker' }]);
    assert.deepEqual((await a.next('peer-joined')).peer, { id: wb.peerId, name: 'Bob', role: 'talker' });
    const wc = await c.join(room, 'Cy');
    assert.deepEqual(new Set(wc.peers.map((p) => p.id)), new Set([wa.peerId, wb.peerId]));
    await a.next('peer-joined');
    await b.next('peer-joined');

    b.send({ type: 'leave' });
    for (const x of [a, c]) {
      const left = await x.next('peer-left');
      assert.equal(left.peerId, wb.peerId);
      assert.equal(left.reason, 'left');
    }

    await c.close(1000);
    const left = await a.next('peer-left');
    assert.equal(left.peerId, wc.peerId);
    assert.equal(left.reason, 'left');
  });

  test('signal relay (offer, answer, candidate, end-of-candidates) and broadcast', async () => {
    const room = freshRoom();
    const a = await connect();
    const b = await connect();
    const { peerId: ida } = await a.join(room, 'A');
    const { peerId: idb } = await b.join(room, 'B');

    a.send({ type: 'signal', to: idb, kind: 'offer', sdp: 'v=0 offer', extra: 'ignored' });
    const offer = await b.next('signal');
    assert.equal(offer.from, ida);
    assert.equal(offer.kind, 'offer');
    assert.equal(offer.sdp, 'v=0 offer');
    assert.equal(offer.to, undefined, 'the relayed signal names its sender, not its target');

    b.send({ type: 'signal', to: ida, kind: 'answer', sdp: 'v=0 answer' });
    const answer = await a.next('signal');
    assert.deepEqual([answer.from, answer.kind, answer.sdp], [idb, 'answer', 'v=0 answer']);

    const cand = { candidate: 'candidate:1 1 udp 2122260223 10.0.0.1 5000 typ host', sdpMid: '0', sdpMLineIndex: 0, usernameFragment: 'abcd' };
    a.send({ type: 'signal', to: idb, kind: 'candidate', ...cand });
    const got = await b.next('signal');
    assert.equal(got.kind, 'candidate');
    for (const k of Object.keys(cand)) assert.deepEqual(got[k], cand[k], k);

    a.send({ type: 'signal', to: idb, kind: 'candidate', candidate: '', sdpMid: null, sdpMLineIndex: null });
    const nulls = await b.next('signal');
    assert.equal(nulls.candidate, '');

    a.send({ type: 'signal', to: idb, kind: 'end-of-candidates' });
    assert.equal((await b.next('signal')).kind, 'end-of-candidates');

    const data = { hello: ['world', 1, true, null], n: 1.5 };
    a.send({ type: 'broadcast', data });
    const bc = await b.next('broadcast');
    assert.equal(bc.from, ida);
    assert.deepEqual(bc.data, data);
    await a.nothing('broadcast', 100); // not echoed to the sender
  });

  test('cross-room addressing is unknown-peer', async () => {
    const a = await connect();
    const b = await connect();
    const { peerId: ida } = await a.join(freshRoom('x'), 'A');
    await b.join(freshRoom('y'), 'B');
    b.send({ type: 'signal', to: ida, kind: 'offer', sdp: 'v=0' });
    const err = await b.next('error');
    assert.equal(err.code, 'unknown-peer');
    assert.equal(err.ref, 'signal');
    assert.equal(typeof err.message, 'string');
    await a.nothing('signal', 100);
    b.send({ type: 'signal', to: 'nobody-here', kind: 'offer', sdp: 'v=0' });
    assert.equal((await b.next('error')).code, 'unknown-peer');
  });

  test('invalid JSON is bad-json and the session goes on', async () => {
    const a = await connect();
    for (const bad of ['{not json', '', '[1,2,3]', '"just a string"', '42', 'null']) {
      a.send(bad);
      const err = await a.next('error');
      assert.equal(err.code, 'bad-json', `for ${JSON.stringify(bad)}`);
      assert.equal(typeof err.message, 'string');
    }
    assert.equal(a.closed, null);
    assert.equal((await a.roundTrip(7)).id, 7);
    // ...and a join still works on the same socket.
    await a.join(freshRoom(), 'after-bad-json');
  });

  test('unknown type is unknown-type with ref', async () => {
    const a = await connect();
    a.send({ type: 'frobnicate', x: 1 });
    const err = await a.next('error');
    assert.equal(err.code, 'unknown-type');
    assert.equal(err.ref, 'frobnicate');
    a.send({ notype: true });
    const err2 = await a.next('error');
    assert.ok(['bad-message', 'unknown-type'].includes(err2.code), JSON.stringify(err2));
    await a.roundTrip();
  });

  test('bad shapes are bad-message; wrong version, order and state have their own codes', async () => {
    const a = await connect();
    const expectError = async (msg, code) => {
      a.send(msg);
      const err = await a.next('error');
      assert.equal(err.code, code, `${JSON.stringify(msg)} -> ${JSON.stringify(err)}`);
      return err;
    };
    await expectError({ type: 'join', v: 1, name: 'no room' }, 'bad-message');
    await expectError({ type: 'join', v: 1, room: 42, name: 'x' }, 'bad-message');
    await expectError({ type: 'join', v: 1, room: '', name: 'x' }, 'bad-message');
    await expectError({ type: 'join', v: 1, room: 'r'.repeat(129), name: 'x' }, 'bad-message');
    await expectError({ type: 'join', v: 1, room: 'ok', name: 'n'.repeat(65) }, 'bad-message');
    await expectError({ type: 'join', v: 2, room: 'ok', name: 'x' }, 'unsupported-version');
    await expectError({ type: 'signal', to: 'p', kind: 'offer', sdp: 'v=0' }, 'not-joined');
    await expectError({ type: 'broadcast', data: 1 }, 'not-joined');
    await expectError({ type: 'ping', id: 'seven' }, 'bad-message');

    const room = freshRoom();
    const b = await connect();
    const { peerId: idb } = await b.join(room, 'B');
    await a.join(room, 'A');
    await expectError({ type: 'join', v: 1, room, name: 'again' }, 'already-joined');
    const err = await expectError({ type: 'signal', to: idb, kind: 'offer' }, 'bad-message');
    assert.equal(err.ref, 'signal');
    await expectError({ type: 'signal', to: idb, kind: 'offer', sdp: '' }, 'bad-message');
    await expectError({ type: 'signal', to: idb, kind: 'answer', sdp: 5 }, 'bad-message');
    await expectError({ type: 'signal', to: idb, kind: 'telepathy', sdp: 'v=0' }, 'bad-message');
    await expectError({ type: 'signal', kind: 'offer', sdp: 'v=0' }, 'bad-message');
    await expectError({ type: 'signal', to: idb, kind: 'candidate' }, 'bad-message');
    await expectError({ type: 'signal', to: idb, kind: 'candidate', candidate: 'c', sdpMLineIndex: 'zero' }, 'bad-message');
    await expectError({ type: 'broadcast' }, 'bad-message');
    await b.nothing('signal', 100);
    assert.equal(a.closed, null);
    await a.roundTrip();
  });

  test('a 100 KB message is message-too-large and the socket stays open', async () => {
    const a = await connect();
    const b = await connect();
    const room = freshRoom();
    const { peerId: ida } = await a.join(room, 'A');
    const { peerId: idb } = await b.join(room, 'B');
    a.send({ type: 'signal', to: idb, kind: 'offer', sdp: 'x'.repeat(100 * 1024) });
    const err = await a.next('error');
    assert.equal(err.code, 'message-too-large');
    await b.nothing('signal', 100);
    // Multi-byte UTF-8: 30000 characters of 3 bytes each = 90000 bytes > 65536.
    a.send({ type: 'broadcast', data: '€'.repeat(30000) });
    assert.equal((await a.next('error')).code, 'message-too-large');
    // Just under the limit still goes through.
    const sdp = 'y'.repeat(60 * 1024);
    a.send({ type: 'signal', to: idb, kind: 'offer', sdp });
    const got = await b.next('signal');
    assert.equal(got.sdp.length, sdp.length);
    assert.equal(got.from, ida);
    assert.equal(a.closed, null);
    await a.roundTrip();
  });

  test('a binary frame is binary-not-supported and the socket stays open', async () => {
    const a = await connect();
    a.send(Buffer.from(JSON.stringify({ type: 'ping', id: 1 })), { binary: true });
    const err = await a.next('error');
    assert.equal(err.code, 'binary-not-supported');
    a.send(Buffer.alloc(200 * 1024), { binary: true });
    assert.ok(['binary-not-supported', 'message-too-large'].includes((await a.next('error')).code));
    assert.equal(a.closed, null);
    await a.roundTrip(3);
  });

  test('a flood of garbage is answered, then closed (1008), and does not disturb other rooms', async () => {
    const a = await connect();
    const b = await connect();
    const c = await connect();
    const room = freshRoom();
    await b.join(room, 'B');
    const { peerId: idc } = await c.join(room, 'C');
    for (let i = 0; i < 200; i++) {
      a.send(i % 3 === 0 ? '{' : i % 3 === 1 ? JSON.stringify({ type: 'signal', to: 1 }) : Buffer.alloc(10));
    }
    b.send({ type: 'signal', to: idc, kind: 'offer', sdp: 'still-works' });
    assert.equal((await c.next('signal')).sdp, 'still-works');
    const closed = await a.waitClose();
    assert.equal(closed.code, 1008);
    // The default limits forgive 20 refused messages in a row; the 21st is answered and closes.
    const answered = a.queue.filter((m) => m.type === 'error');
    assert.equal(answered.length, 21);
    assert.deepEqual(new Set(answered.map((m) => m.code)), new Set(['bad-json', 'bad-message', 'binary-not-supported']));
    assert.equal(b.closed, null);
    await b.roundTrip(4);
  });

  test('a peer whose TCP connection dies is dropped after the resume grace; peers get peer-left', async () => {
    const room = freshRoom();
    const a = await connect();
    const b = await connect();
    await a.join(room, 'A');
    const { peerId: idb } = await b.join(room, 'B');
    await a.next('peer-joined');
    b.ws.terminate(); // no close frame: the server sees 1006
    const left = await a.next('peer-left', 5000);
    assert.equal(left.peerId, idb);
    assert.equal(left.reason, 'timeout');
  });

  test('resume after an abnormal close takes the same seat back without peer-joined', async () => {
    const room = freshRoom();
    const a = await connect();
    const b = await connect();
    await a.join(room, 'A');
    const wb = await b.join(room, 'B');
    await a.next('peer-joined');
    b.ws.terminate();
    await sleep(50);
    const b2 = await connect();
    const w2 = await b2.join(room, 'B', { resume: { peerId: wb.peerId, secret: wb.secret } });
    assert.equal(w2.peerId, wb.peerId);
    assert.equal(w2.resumed, true);
    await a.nothing((m) => m.type === 'peer-joined' || m.type === 'peer-left', 500);
  });
});

describe('transport duties of the Node host', () => {
  test('room-full with a small maxPeersPerRoom', async () => {
    const srv = await startServer({ port: 0, host: HOST, logger: null, config: { maxPeersPerRoom: 2 } });
    const cs = [];
    try {
      for (let i = 0; i < 3; i++) cs.push(await TestClient.connect(srv.wsUrl));
      const room = freshRoom();
      await cs[0].join(room, 'one');
      await cs[1].join(room, 'two');
      cs[2].send({ type: 'join', v: 1, room, name: 'three' });
      const err = await cs[2].next('error');
      assert.equal(err.code, 'room-full');
      assert.equal(err.ref, 'join');
      // Another room is still open to the same socket.
      await cs[2].join(freshRoom(), 'three');
    } finally {
      for (const c of cs) c.ws.terminate();
      await srv.close();
    }
  });

  test('a TCP peer that stops answering WebSocket pings is terminated (1006) and dropped', async () => {
    const srv = await startServer({
      port: 0, host: HOST, logger: null, pingIntervalMs: 150,
      config: { resumeGraceMs: 200 },
    });
    try {
      const room = freshRoom();
      const a = await TestClient.connect(srv.wsUrl);
      const dead = await TestClient.connect(srv.wsUrl, { autoPong: false });
      await a.join(room, 'A');
      const { peerId } = await dead.join(room, 'zombie');
      // `a` answers pings automatically and must survive; `dead` never answers.
      const left = await a.next('peer-left', 5000);
      assert.equal(left.peerId, peerId);
      assert.equal(left.reason, 'timeout');
      await dead.waitClose(2000);
      assert.equal(dead.closed.code, 1006);
      assert.equal(a.closed, null);
      await a.roundTrip();
      a.ws.terminate();
    } finally {
      await srv.close();
    }
  });

  test('a client that stops reading is terminated once too much is buffered for it', async () => {
    const srv = await startServer({
      port: 0, host: HOST, logger: null, maxBufferedBytes: 256 * 1024,
      config: { resumeGraceMs: 100, sweepIntervalMs: 50 },
    });
    const a = await TestClient.connect(srv.wsUrl);
    const slow = await TestClient.connect(srv.wsUrl);
    try {
      const room = freshRoom();
      await a.join(room, 'A');
      const { peerId } = await slow.join(room, 'slow');
      await a.next('peer-joined');
      slow.ws._socket.pause(); // the TCP connection stays up, nothing is read any more
      const chunk = 'b'.repeat(60 * 1024);
      let left = null;
      // Bounded: at most 2000 x 60 KB; loopback socket buffers fill long before that.
      for (let i = 0; i < 2000 && !left; i++) {
        a.send({ type: 'broadcast', data: chunk });
        if (i % 20 === 19) {
          await a.roundTrip();
          left = a.queue.find((m) => m.type === 'peer-left');
        }
      }
      left ??= await a.next('peer-left', 3000);
      assert.equal(left.peerId, peerId);
      assert.equal(left.reason, 'timeout');
      assert.equal(a.closed, null);
    } finally {
      a.ws.terminate();
      slow.ws.terminate();
      await srv.close();
    }
  });

  test('WebSocket protocol violations close only the offending socket', async () => {
    const srv = await startServer({ port: 0, host: HOST, logger: null, config: { resumeGraceMs: 100, sweepIntervalMs: 50 } });
    try {
      const room = freshRoom();
      const a = await TestClient.connect(srv.wsUrl);
      const bad = await TestClient.connect(srv.wsUrl);
      const huge = await TestClient.connect(srv.wsUrl);
      await a.join(room, 'A');
      const { peerId } = await bad.join(room, 'bad');
      await a.next('peer-joined');
      // A text frame that is not UTF-8: RFC 6455 says fail the connection (1007).
      bad.send(Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), { binary: false });
      assert.equal((await bad.waitClose()).code, 1007);
      const left = await a.next('peer-left', 3000);
      assert.equal(left.peerId, peerId);
      // A frame over ws's own 16 MiB ceiling (far above the core's limit): 1009.
      huge.send('x'.repeat(17 * 1024 * 1024));
      assert.equal((await huge.waitClose(10000)).code, 1009);
      assert.equal(a.closed, null);
      await a.roundTrip();
    } finally {
      await srv.close();
    }
  });

  /** A module whose ServerCore.handleMessage throws `make()` for the frame text `trigger`. */
  async function faultyModule(trigger, make) {
    const mod = await instantiateCore();
    const original = mod.ServerCore.prototype.handleMessage;
    mod.ServerCore.prototype.handleMessage = function (conn, text, ...rest) {
      if (text === trigger) throw make();
      return original.call(this, conn, text, ...rest);
    };
    return mod;
  }

  test('an exception while handling one input is logged and the server goes on', async () => {
    const errors = [];
    const srv = await startServer({
      port: 0, host: HOST, logger: { info() {}, error: (...a) => errors.push(a.join(' ')) },
      loadModule: () => faultyModule('"throw"', () => new Error('injected failure')),
    });
    try {
      const a = await TestClient.connect(srv.wsUrl);
      await a.join(freshRoom(), 'A');
      a.send('"throw"');
      assert.equal((await a.roundTrip(11)).id, 11);
      assert.ok(errors.some((e) => e.includes('injected failure')), errors.join('\n'));
      assert.equal(a.closed, null);
      a.ws.terminate();
    } finally {
      await srv.close();
    }
  });

  test('a wasm trap restarts the room machine: connections close with 1011, new ones work', async () => {
    let instances = 0;
    const srv = await startServer({
      port: 0, host: HOST, logger: null,
      loadModule: () => {
        instances++;
        return faultyModule('"trap"', () => new WebAssembly.RuntimeError('injected trap'));
      },
    });
    try {
      const room = freshRoom();
      const a = await TestClient.connect(srv.wsUrl);
      const b = await TestClient.connect(srv.wsUrl);
      await a.join(room, 'A');
      b.send('"trap"');
      assert.equal((await a.waitClose()).code, 1011);
      assert.equal((await b.waitClose()).code, 1011);
      // The fresh machine loads asynchronously; until then a socket is refused with 1013.
      let c = null;
      for (let i = 0; i < 50 && !c; i++) {
        const t = await TestClient.connect(srv.wsUrl);
        const closed = await t.waitClose(100).catch(() => null);
        if (!closed) c = t;
      }
      assert.ok(c, 'a connection after the restart stays open');
      const w = await c.join(room, 'C');
      assert.deepEqual(w.peers, [], 'the old room state is gone');
      assert.equal(instances, 2, 'a new module instance, not the trapped one');
      c.ws.terminate();
    } finally {
      await srv.close();
    }
  });

  test('the core closes a socket that stays silent past heartbeatTimeoutMs', async () => {
    const srv = await startServer({ port: 0, host: HOST, logger: null, config: { heartbeatTimeoutMs: 300 } });
    try {
      const a = await TestClient.connect(srv.wsUrl);
      const t0 = Date.now();
      const { code } = await a.waitClose(5000);
      assert.ok(Date.now() - t0 >= 250, 'not closed before the timeout');
      assert.ok(code >= 1000 && code !== 1006, `closed with a close frame, got ${code}`);
    } finally {
      await srv.close();
    }
  });

  test('iceServers from the config reach the welcome; the seed makes ids differ per server', async () => {
    const s1 = await startServer({ port: 0, host: HOST, logger: null });
    const s2 = await startServer({ port: 0, host: HOST, logger: null });
    try {
      const a = await TestClient.connect(s1.wsUrl);
      const b = await TestClient.connect(s2.wsUrl);
      const wa = await a.join('same-room', 'x');
      const wb = await b.join('same-room', 'x');
      assert.deepEqual(wa.iceServers, []);
      assert.notEqual(wa.secret, wb.secret);
      a.ws.terminate();
      b.ws.terminate();
    } finally {
      await s1.close();
      await s2.close();
    }
  });

  test('close() ends every connection and frees the port', async () => {
    const srv = await startServer({ port: 0, host: HOST, logger: null });
    const a = await TestClient.connect(srv.wsUrl);
    await a.join(freshRoom(), 'A');
    await srv.close();
    await a.waitClose(2000);
    await assert.rejects(fetch(`http://${HOST}:${srv.port}/healthz`));
    await srv.close(); // idempotent
  });
});

describe('static files', () => {
  let srv;
  let fixture;
  before(async () => {
    // A package root of our own, so the test does not depend on the demo's files.
    fixture = fs.mkdtempSync(path.join(os.tmpdir(), 'chorus-static-'));
    const put = (rel, content) => {
      fs.mkdirSync(path.dirname(path.join(fixture, rel)), { recursive: true });
      fs.writeFileSync(path.join(fixture, rel), content);
    };
    put('web/index.html', '<!doctype html><title>demo</title>');
    put('web/app.css', 'body{}');
    put('web/icon.svg', '<svg xmlns="http://www.w3.org/2000/svg"/>');
    put('web/icon.png', Buffer.from([0x89, 0x50, 0x4e, 0x47]));
    put('web/manifest.webmanifest', '{}');
    put('web/data.json', '{"a":1}');
    put('web/sub/index.html', '<p>sub</p>');
    put('web/file with space.js', 'export {}');
    put('js-glue/index.js', 'export const x = 1;');
    put('dist/chorus-core.mjs', 'export default 1;');
    put('dist/chorus-core.wasm', Buffer.from([0, 0x61, 0x73, 0x6d]));
    put('examples/chat/index.html', '<p>chat</p>');
    put('package.json', '{"secret":"PACKAGE-JSON-SECRET"}');
    put('tools/secret.txt', 'TOOLS-SECRET');
    fs.writeFileSync(path.join(os.tmpdir(), `${path.basename(fixture)}-outside.txt`), 'OUTSIDE-SECRET');
    fs.symlinkSync('/etc/hostname', path.join(fixture, 'web', 'escape-link'));
    srv = await startServer({ port: 0, host: HOST, logger: null, root: fixture });
  });
  after(async () => {
    await srv.close();
    fs.rmSync(fixture, { recursive: true, force: true });
    fs.rmSync(path.join(os.tmpdir(), `${path.basename(fixture)}-outside.txt`), { force: true });
  });

  const get = (p) => fetch(`http://${HOST}:${srv.port}${p}`, { redirect: 'manual' });

  test('/ is web/index.html; /healthz is ok', async () => {
    const r = await get('/');
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('content-type'), 'text/html; charset=utf-8');
    assert.match(await r.text(), /<title>demo<\/title>/);
    const h = await get('/healthz');
    assert.equal(h.status, 200);
    assert.equal((await h.json()).status, 'ok');
  });

  test('MIME types', async () => {
    const cases = {
      '/web/app.css': 'text/css',
      '/web/icon.svg': 'image/svg+xml',
      '/web/icon.png': 'image/png',
      '/web/manifest.webmanifest': 'application/manifest+json',
      '/web/data.json': 'application/json',
      '/web/index.html': 'text/html',
      '/js-glue/index.js': 'text/javascript',
      '/dist/chorus-core.mjs': 'text/javascript',
      '/dist/chorus-core.wasm': 'application/wasm',
      '/examples/chat/index.html': 'text/html',
      '/web/file%20with%20space.js': 'text/javascript',
    };
    for (const [p, type] of Object.entries(cases)) {
      const r = await get(p);
      assert.equal(r.status, 200, p);
      assert.equal(r.headers.get('content-type').split(';')[0], type, p);
      await r.arrayBuffer();
    }
  });

  test('directories: index.html with a trailing slash, a redirect without', async () => {
    const r = await get('/web/sub/');
    assert.equal(r.status, 200);
    assert.equal(await r.text(), '<p>sub</p>');
    const red = await get('/examples/chat');
    assert.equal(red.status, 301);
    assert.equal(red.headers.get('location'), '/examples/chat/');
  });

  test('HEAD, conditional GET and other methods', async () => {
    const h = await fetch(`http://${HOST}:${srv.port}/web/app.css`, { method: 'HEAD' });
    assert.equal(h.status, 200);
    assert.equal(h.headers.get('content-length'), '6');
    const etag = h.headers.get('etag');
    assert.ok(etag);
    const c = await fetch(`http://${HOST}:${srv.port}/web/app.css`, { headers: { 'If-None-Match': etag } });
    assert.equal(c.status, 304);
    const p = await fetch(`http://${HOST}:${srv.port}/web/app.css`, { method: 'POST', body: 'x' });
    assert.equal(p.status, 405);
    await p.text();
  });

  test('404 outside the served folders and for missing files', async () => {
    for (const p of ['/package.json', '/tools/secret.txt', '/web/missing.js', '/nope', '/dist/x/y/z.wasm', '/webx/index.html']) {
      const r = await get(p);
      assert.equal(r.status, 404, p);
      await r.text();
    }
  });

  test('no directory traversal, however the path is spelled', async () => {
    const outside = `${path.basename(fixture)}-outside.txt`;
    const attempts = [
      '/web/../package.json',
      '/web/../../etc/passwd',
      '/web/%2e%2e/package.json',
      '/web/%2E%2E/%2E%2E/etc/passwd',
      '/web/..%2fpackage.json',
      '/web/..%2F..%2Fetc%2Fpasswd',
      `/web/..%2f..%2f${outside}`,
      '/dist/..%5c..%5cpackage.json',
      '/dist/%2e%2e%5cpackage.json',
      '/js-glue/....//package.json',
      '/examples/%252e%252e/package.json',
      '/web/%00../package.json',
      '/web/index.html%00.png',
      '//etc/passwd',
      '/web//etc/passwd',
      '/web/escape-link',
      '/tools/secret.txt',
      '/web/%ff%fe',
      '/web/%',
      '/../../../../etc/passwd',
      '/../package.json',
    ];
    const hostname = fs.existsSync('/etc/hostname') ? fs.readFileSync('/etc/hostname', 'utf8').trim() : '\0';
    for (const p of attempts) {
      const r = await rawGet(srv.port, p);
      assert.ok([400, 404].includes(r.status), `${p} -> ${r.status}`);
      for (const secret of ['PACKAGE-JSON-SECRET', 'TOOLS-SECRET', 'OUTSIDE-SECRET', 'root:x:0:0']) {
        assert.ok(!r.body.includes(secret), `${p} leaked ${secret}`);
      }
      if (hostname && p === '/web/escape-link') assert.ok(!r.body.includes(hostname));
    }
    // A path that climbs above '/' stays at '/': the demo page, nothing else.
    const top = await rawGet(srv.port, '/..');
    assert.equal(top.status, 200);
    assert.match(top.body, /<title>demo<\/title>/);
  });

  test('the real package root serves the built wasm module', async () => {
    const real = await startServer({ port: 0, host: HOST, logger: null });
    try {
      const m = await fetch(`${real.url}dist/chorus-core.mjs`);
      assert.equal(m.status, 200);
      assert.equal(m.headers.get('content-type').split(';')[0], 'text/javascript');
      await m.text();
      const w = await fetch(`${real.url}dist/chorus-core.wasm`);
      assert.equal(w.status, 200);
      assert.equal(w.headers.get('content-type'), 'application/wasm');
      assert.ok(WebAssembly.validate(new Uint8Array(await w.arrayBuffer())));
      for (const [p, type] of [['/', 'text/html'], ['/js-glue/index.js', 'text/javascript'],
        ['/web/index.html', 'text/html']]) {
        const r = await fetch(new URL(p, real.url));
        assert.equal(r.status, 200, p);
        assert.equal(r.headers.get('content-type').split(';')[0], type, p);
        await r.arrayBuffer();
      }
    } finally {
      await real.close();
    }
  });
});

describe('cli.mjs', () => {
  const cli = path.join(ROOT, 'tools/server/cli.mjs');

  test('logs one JSON line with the URL, serves, and exits 0 on SIGTERM and SIGINT', async () => {
    for (const signal of ['SIGTERM', 'SIGINT']) {
      const proc = spawn(process.execPath, [cli, '--port', '0', '--host', HOST,
        '--max-peers', '3', '--max-message-bytes', '1024', '--ice-servers', JSON.stringify(ICE)],
      { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      proc.stderr.on('data', (d) => { err += d; });
      const exited = new Promise((r) => proc.on('exit', (code, sig) => r({ code, sig })));
      try {
        const url = await new Promise((resolve, reject) => {
          const t = setTimeout(() => reject(new Error(`no URL line; stderr: ${err}`)), 10000);
          proc.stdout.on('data', (d) => {
            out += d;
            const line = out.split('\n').slice(0, -1).find((l) => l.includes('"url"'));
            if (line) { clearTimeout(t); resolve(JSON.parse(line).url); }
          });
        });
        assert.equal(out.trim().split('\n').length, 1, 'one line');
        const h = await fetch(new URL('/healthz', url));
        assert.equal((await h.json()).status, 'ok');
        // The flags reached the core.
        const a = await TestClient.connect(url.replace('http:', 'ws:'));
        const w = await a.join('cli-room', 'A');
        assert.deepEqual(w.iceServers, ICE);
        a.send({ type: 'broadcast', data: 'z'.repeat(2000) });
        assert.equal((await a.next('error')).code, 'message-too-large');
        a.ws.terminate();
      } finally {
        proc.kill(signal);
      }
      const { code } = await exited;
      assert.equal(code, 0, `exit after ${signal}; stderr: ${err}`);
    }
  });

  test('bad flags exit 2 with usage; --help exits 0', async () => {
    const run = (args) => new Promise((resolve) => {
      const p = spawn(process.execPath, [cli, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
      let text = '';
      p.stdout.on('data', (d) => { text += d; });
      p.stderr.on('data', (d) => { text += d; });
      p.on('exit', (code) => resolve({ code, text }));
    });
    const bad = [['--port', 'abc'], ['--ice-servers', '{nope'], ['--ice-servers', '{"urls":"x"}'], ['--bogus'], ['--max-peers', '0']];
    const results = await Promise.all(bad.map(run));
    bad.forEach((args, i) => {
      assert.equal(results[i].code, 2, `${args.join(' ')}: ${results[i].text}`);
      assert.match(results[i].text, /Usage:/);
    });
    const h = await run(['--help']);
    assert.equal(h.code, 0);
    assert.match(h.text, /--max-peers/);
  });

  test('CHORUS_PORT sets the default port', async () => {
    // Find a free port, then hand it to the CLI through the environment.
    const probe = await startServer({ port: 0, host: HOST, logger: null });
    const port = probe.port;
    await probe.close();
    const proc = spawn(process.execPath, [cli, '--host', HOST], {
      stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, CHORUS_PORT: String(port) },
    });
    const exited = new Promise((r) => proc.on('exit', (code) => r(code)));
    try {
      const line = await new Promise((resolve, reject) => {
        const t = setTimeout(() => reject(new Error('no output')), 10000);
        proc.stdout.once('data', (d) => { clearTimeout(t); resolve(String(d)); });
      });
      assert.match(line, new RegExp(`:${port}/`));
    } finally {
      proc.kill('SIGTERM');
    }
    assert.equal(await exited, 0);
  });
});

test('startServer rejects when the port is taken and leaves nothing running', async () => {
  const first = await startServer({ port: 0, host: HOST, logger: null });
  try {
    await assert.rejects(startServer({ port: first.port, host: HOST, logger: null }), /EADDRINUSE/);
  } finally {
    await first.close();
  }
});
