// Abuse against a running server (issue: "a test throws malformed JSON, binary frames, 10 MB
// messages, floods and cross-room addressing at a running server"): each gets its typed answer,
// repeat offenders are closed, the server stays up, and a quiet room beside it sees nothing.

import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from '../../tools/server/server.mjs';
import { mintToken } from '../../tools/server/token.mjs';
import { TestClient, HOST, sleep } from './helpers.mjs';

let roomSeq = 0;
const freshRoom = () => `abuse-${process.pid}-${++roomSeq}`;

describe('abuse limits of a running server', () => {
  let srv;
  const clients = [];
  // The quiet room: two peers that must see exactly their own traffic throughout.
  let quietA;
  let quietB;
  const connect = async (opts) => {
    const c = await TestClient.connect(srv.wsUrl, opts);
    clients.push(c);
    return c;
  };

  before(async () => {
    srv = await startServer({
      port: 0, host: HOST, logger: null,
      config: {
        // 1 message/s after a burst of 40: a flood, however slowly it arrives on a busy machine,
        // gets no fresh token in the middle (an episode stays one episode).
        limits: { messagesPerSecond: 1, messageBurst: 40, maxStrikes: 10, maxRooms: 20, maxConnectionsPerAddress: 60 },
      },
    });
    const room = freshRoom();
    quietA = await connect();
    quietB = await connect();
    await quietA.join(room, 'quiet A');
    await quietB.join(room, 'quiet B');
    await quietA.next('peer-joined');
  });
  after(async () => {
    for (const c of clients) c.ws.terminate();
    await srv.close();
  });

  /** The quiet room still works, and got nothing it did not ask for. */
  async function quietRoomUntouched() {
    quietA.send({ type: 'signal', to: quietB.peerId, kind: 'offer', sdp: `still quiet ${Date.now()}` });
    const s = await quietB.next('signal');
    assert.equal(s.from, quietA.peerId);
    assert.deepEqual(quietA.queue, [], 'the quiet room received something');
    assert.deepEqual(quietB.queue, [], 'the quiet room received something');
    const health = await (await fetch(`${srv.url}healthz`)).json();
    assert.equal(health.status, 'ok');
  }

  test('malformed JSON, wrong types and binary frames: typed errors, then closed as a repeat offender', async () => {
    const x = await connect();
    const garbage = ['{', '[]', 'null', '"join"', JSON.stringify({ type: 'join', v: 1, room: 7 }),
      JSON.stringify({ type: 'nope' }), Buffer.from([0, 1, 2])];
    const want = ['bad-json', 'bad-json', 'bad-json', 'bad-json', 'bad-message', 'unknown-type', 'binary-not-supported'];
    for (let i = 0; i < garbage.length; i++) {
      x.send(garbage[i]);
      assert.equal((await x.next('error')).code, want[i], `answer to ${String(garbage[i])}`);
    }
    assert.equal(x.closed, null, 'a few mistakes are forgiven');
    for (let i = 0; i < 10; i++) x.send('{');
    assert.equal((await x.waitClose()).code, 1008);
    await quietRoomUntouched();
  });

  test('a 10 MB message is message-too-large; the socket and the server go on', async () => {
    const x = await connect();
    const room = freshRoom();
    await x.join(room, 'big');
    x.send(JSON.stringify({ type: 'broadcast', data: 'x'.repeat(10 * 1024 * 1024) }));
    const err = await x.next('error', 10000);
    assert.equal(err.code, 'message-too-large');
    assert.match(err.message, /10485\d\d\d bytes/);
    await x.roundTrip(11);
    assert.equal(x.closed, null);
    await quietRoomUntouched();
  });

  test('a flood is rate-limited, then closed; its room-mate hears it left; the quiet room hears nothing', async () => {
    const room = freshRoom();
    const flooder = await connect();
    const mate = await connect();
    const wf = await flooder.join(room, 'flooder');
    await mate.join(room, 'mate');
    for (let i = 0; i < 500; i++) flooder.send({ type: 'broadcast', data: i });
    assert.equal((await flooder.waitClose()).code, 1008);
    const limited = flooder.queue.filter((m) => m.type === 'error');
    assert.equal(limited.length, 1, 'one rate-limited answer per episode');
    assert.equal(limited[0].code, 'rate-limited');
    const left = await mate.next('peer-left');
    assert.equal(left.peerId, wf.peerId);
    // The mate got the burst that fitted under the limit, and not one message more.
    const relayed = mate.queue.filter((m) => m.type === 'broadcast');
    assert.ok(relayed.length >= 38 && relayed.length <= 45, `relayed ${relayed.length}`);
    await quietRoomUntouched();
    const metrics = await (await fetch(`${srv.url}metrics`)).text();
    assert.match(metrics, /chorus_errors_total\{code="rate-limited"\} [1-9]/);
    assert.match(metrics, /chorus_policy_closes_total [1-9]/);
  });

  test('signals addressed across rooms are unknown-peer and never delivered', async () => {
    const room = freshRoom();
    const m = await connect();
    await m.join(room, 'mallory');
    for (const to of [quietA.peerId, quietB.peerId, '../' + quietA.peerId]) {
      m.send({ type: 'signal', to, kind: 'offer', sdp: 'v=0' });
      const err = await m.next('error');
      assert.ok(['unknown-peer', 'bad-message'].includes(err.code), err.code);
    }
    await sleep(50);
    await quietRoomUntouched();
  });

  test('the number of rooms and of connections from one address are bounded', async () => {
    const extra = [];
    // Rooms: the server holds at most 20; the quiet room and the others above hold some.
    let refused = null;
    for (let i = 0; i < 25 && refused === null; i++) {
      const c = await connect();
      extra.push(c);
      c.send({ type: 'join', v: 1, room: freshRoom(), name: 'r' });
      const answer = await c.next((x) => x.type === 'welcome' || x.type === 'error');
      if (answer.type === 'error') refused = answer;
    }
    assert.equal(refused?.code, 'too-many-rooms');
    for (const c of extra) await c.close();
    // Connections from 127.0.0.1: 60 at most, counted down as they close.
    const open = [];
    let turnedAway = null;
    for (let i = 0; i < 80 && turnedAway === null; i++) {
      const c = await connect();
      open.push(c);
      const first = await Promise.race([c.next('error', 500).catch(() => null), sleep(30).then(() => null)]);
      if (first) turnedAway = { err: first, close: await c.waitClose() };
    }
    assert.equal(turnedAway?.err.code, 'too-many-connections');
    assert.equal(turnedAway.close.code, 1013);
    for (const c of open) if (!c.closed) await c.close();
    await sleep(50);
    const again = await connect();
    await again.roundTrip(5);
    await quietRoomUntouched();
  });

  test('a tampered token is refused and a good one admits; other rooms are untouched', async () => {
    const secret = 'abuse-test-secret';
    const auth = await startServer({ port: 0, host: HOST, logger: null, config: { auth: { secret } } });
    try {
      const room = freshRoom();
      const good = mintToken({ secret, room, identity: 'carol', role: 'teacher', ttlSeconds: 60 });
      const parts = good.split('.');
      const payload = JSON.parse(Buffer.from(parts[1], 'base64url'));
      const forged = [parts[0], Buffer.from(JSON.stringify({ ...payload, sub: 'mallory' })).toString('base64url'), parts[2]].join('.');
      const c = await TestClient.connect(auth.wsUrl);
      clients.push(c);
      c.send({ type: 'join', v: 1, room, name: 'C', token: forged });
      assert.equal((await c.next('error')).code, 'unauthorized');
      c.send({ type: 'join', v: 1, room, name: 'C' });
      assert.equal((await c.next('error')).code, 'unauthorized');
      const expired = mintToken({ secret, room, identity: 'carol', ttlSeconds: 60, now: Date.now() - 120000 });
      c.send({ type: 'join', v: 1, room, name: 'C', token: expired });
      assert.equal((await c.next('error')).code, 'token-expired');
      const w = await c.join(room, 'C', { token: good });
      assert.equal(w.identity, 'carol');
      assert.equal(w.role, 'teacher');
      const d = await TestClient.connect(auth.wsUrl);
      clients.push(d);
      const wd = await d.join(room, 'D', { token: mintToken({ secret, room, identity: 'dave', ttlSeconds: 60 }) });
      assert.deepEqual(wd.peers, [{ id: w.peerId, name: 'C', role: 'teacher', identity: 'carol' }]);
    } finally {
      await auth.close();
    }
    await quietRoomUntouched();
  });

  test('an origin allow-list turns away other pages with a typed error', async () => {
    const strict = await startServer({
      port: 0, host: HOST, logger: null, config: { limits: { allowedOrigins: ['https://app.example'] } },
    });
    try {
      const evil = await TestClient.connect(strict.wsUrl, { origin: 'https://evil.example' });
      clients.push(evil);
      assert.equal((await evil.next('error')).code, 'origin-not-allowed');
      assert.equal((await evil.waitClose()).code, 1008);
      const good = await TestClient.connect(strict.wsUrl, { origin: 'https://app.example' });
      clients.push(good);
      await good.roundTrip(9);
    } finally {
      await strict.close();
    }
  });
});
