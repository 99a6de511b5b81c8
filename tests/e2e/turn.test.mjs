// TURN end to end: a real coturn (Debian's turnserver, tools/turn/coturn.mjs) started by the test
// on the namespace's address, the signaling server handing out TURN REST credentials (config
// `turn: {urls, secret, ttlSeconds}`), two Chromium pages that join with
// iceTransportPolicy 'relay', so every packet between them goes through coturn.
// (1) the secrets match: relay/relay candidate pairs, video and DataChannel messages both ways;
// (2) the signaling server's secret differs from coturn's: coturn answers 401, nobody connects.
import { test, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import WebSocket from 'ws';
import { Env, HOST, startTestServer, waitUntil, sleep, fmt } from './harness.mjs';
import { startCoturn, turnRestCredential, tryTurnAllocate } from '../../tools/turn/coturn.mjs';

const SECRET = crypto.randomBytes(24).toString('base64url');
const WRONG_SECRET = crypto.randomBytes(24).toString('base64url');
const TTL = 600;

let turn, good, bad, env;

/** The server's own answer to a join, from Node: its welcome. */
async function welcomeFrom(srv) {
  const ws = new WebSocket(`ws://${HOST}:${srv.port}/`);
  try {
    return await new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('no welcome within 5 s')), 5000);
      ws.on('error', reject);
      ws.on('open', () => ws.send(JSON.stringify({ type: 'join', v: 1, room: `probe-${process.pid}`, name: 'probe' })));
      ws.on('message', (d) => {
        const m = JSON.parse(String(d));
        if (m.type === 'welcome' || m.type === 'error') { clearTimeout(t); resolve(m); }
      });
    });
  } finally {
    ws.close();
  }
}

before(async () => {
  turn = await startCoturn({ address: HOST, secret: SECRET, verbose: true });
  const server = (secret) => startTestServer({ config: { turn: { urls: [turn.url], secret, ttlSeconds: TTL } } });
  good = await server(SECRET);
  bad = await server(WRONG_SECRET);
  const probe = await welcomeFrom(good);
  if (!probe.iceServers?.some((s) => s.username)) {
    throw new Error(`the server hands out no TURN credentials (dist/ older than the \`turn\` config?): ${fmt(probe)}`);
  }
  env = await Env.create({ server: 'none', origins: [good.origin, bad.origin], routedPages: true });
  env.serveFromDisk('/e2e/', 'tests/e2e/pages');
});
afterEach(async () => { await env?.closePeers(); });
after(async () => {
  await env?.close();
  await Promise.all([good?.close(), bad?.close()]);
  await turn?.stop();
});

let roomSeq = 0;
const newRoom = (label) => `${label}-${process.pid}-${++roomSeq}`;

/** Opens tests/e2e/pages/room.html on `srv` and joins with iceTransportPolicy 'relay'. Records
 *  the welcome the page received (peer.welcome) and, per RTCPeerConnection, its configuration
 *  and its icecandidateerror events (window.__turn). */
async function joinRelay(srv, room, name) {
  const p = await env.openPeer({ room, name, path: '/e2e/room.html', origin: srv.origin, autojoin: false });
  p.page.on('websocket', (ws) => ws.on('framereceived', ({ payload }) => {
    try {
      const m = JSON.parse(String(payload));
      if (m.type === 'welcome') p.welcome = m;
    } catch {}
  }));
  await p.evaluate(() => {
    const t = window.__turn = { configs: [], errors: [] };
    const Base = window.RTCPeerConnection;
    const Hooked = function RTCPeerConnection(...args) {
      const pc = new Base(...args);
      t.configs.push(pc.getConfiguration());
      pc.addEventListener('icecandidateerror', (e) => t.errors.push({ code: e.errorCode, text: e.errorText, url: e.url }));
      return pc;
    };
    Hooked.prototype = Base.prototype;
    Object.setPrototypeOf(Hooked, Base);
    window.RTCPeerConnection = Hooked;
  });
  p.id = await p.evaluate(() => window.join({ iceTransportPolicy: 'relay' }));
  assert.ok(p.id, `${name} joined`);
  await waitUntil(() => p.welcome, { timeout: 5000, message: `${name}: welcome seen on the socket` });
  return p;
}

/** Per live peer connection of the page: connection state, the selected candidate pair
 *  (transport.selectedCandidatePairId) with both candidates, and the types of every local
 *  candidate gathered. */
function candidatePairs(p) {
  return p.evaluate(async () => {
    const room = window.chorus.room;
    const out = [];
    for (const peerId of room.peers.keys()) {
      const pc = room.getPeerConnection(peerId);
      if (!pc) continue;
      const stats = await pc.getStats();
      const row = { peerId, connectionState: pc.connectionState, iceConnectionState: pc.iceConnectionState,
        localTypes: [], pair: null };
      let pairId = null;
      stats.forEach((s) => {
        if (s.type === 'transport' && s.selectedCandidatePairId) pairId = s.selectedCandidatePairId;
        if (s.type === 'local-candidate') row.localTypes.push(s.candidateType);
      });
      const pair = pairId && stats.get(pairId);
      if (pair) {
        const cand = (id) => {
          const c = stats.get(id);
          return c && { type: c.candidateType, protocol: c.protocol, relayProtocol: c.relayProtocol,
            address: c.address, port: c.port, url: c.url };
        };
        row.pair = { state: pair.state, nominated: pair.nominated, bytesSent: pair.bytesSent,
          bytesReceived: pair.bytesReceived, local: cand(pair.localCandidateId), remote: cand(pair.remoteCandidateId) };
      }
      out.push(row);
    }
    return out;
  });
}

/** The TURN entry of a welcome (the one with a username). */
function turnEntry(welcome) {
  const e = (welcome?.iceServers ?? []).filter((s) => s.username);
  assert.equal(e.length, 1, `one TURN entry in welcome.iceServers: ${fmt(welcome?.iceServers)}`);
  return e[0];
}

test('relay only: two peers connect through coturn with server-minted credentials; video and data both ways', { timeout: 60000 }, async (ctx) => {
  const started = Date.now();
  const room = newRoom('turn');
  const a = await joinRelay(good, room, 'alice');

  // The option is checked before anything starts.
  const refused = await a.evaluate(() => import('/js-glue/index.js')
    .then((m) => m.Room.join({ room: 'x', iceTransportPolicy: 'nohost' }))
    .then(() => 'resolved', (e) => `${e.name}: ${e.message}`));
  assert.match(refused, /^TypeError: iceTransportPolicy/);

  const b = await joinRelay(good, room, 'bob');

  // The welcome carried a TURN entry: username "<expiry>:<peer id>", credential
  // base64(HMAC-SHA1(secret, username)), the coturn URL.
  for (const p of [a, b]) {
    const e = turnEntry(p.welcome);
    assert.deepEqual([e.urls].flat(), [turn.url], 'the TURN entry points at our coturn');
    const [expiry, user] = e.username.split(/:(.*)/s);
    assert.equal(user, p.id, `${p.name}: the TURN username names the peer`);
    const now = Math.floor(Date.now() / 1000);
    assert.ok(Number(expiry) > now + TTL - 60 && Number(expiry) <= now + TTL + 1,
      `expiry ${expiry} is about now + ${TTL} s (now ${now})`);
    assert.equal(e.credential, crypto.createHmac('sha1', SECRET).update(e.username).digest('base64'),
      'credential = base64(HMAC-SHA1(secret, username))');
  }
  // The minted credential is what coturn accepts, checked without a browser too.
  const probe = await tryTurnAllocate({ address: turn.address, port: turn.port, ...turnEntry(a.welcome) });
  assert.ok(probe.ok, `coturn allocates with alice's credential: ${fmt(probe)}`);

  // Both sides: the selected pair is relay <-> relay over UDP TURN, and no other candidate
  // type was gathered.
  for (const p of [a, b]) {
    const rows = await waitUntil(async () => {
      const r = await candidatePairs(p);
      return r.length === 1 && r[0].pair?.state === 'succeeded' && r[0].connectionState === 'connected' && r;
    }, { timeout: 20000, message: `${p.name}: a connected peer connection with a selected pair` });
    const [{ pair, localTypes }] = rows;
    ctx.diagnostic(`${p.name}: selected pair ${fmt(pair)}`);
    assert.equal(pair.local.type, 'relay', `${p.name}: local candidate is relay`);
    assert.equal(pair.remote.type, 'relay', `${p.name}: remote candidate is relay`);
    assert.equal(pair.local.relayProtocol, 'udp');
    assert.equal(pair.local.address, turn.address, 'relayed on coturn\'s address');
    assert.deepEqual([...new Set(localTypes)], ['relay'], `${p.name}: only relay candidates gathered`);
    const configs = await p.evaluate(() => window.__turn.configs);
    assert.ok(configs.length >= 1 && configs.every((c) => c.iceTransportPolicy === 'relay'),
      `${p.name}: every RTCPeerConnection was made with iceTransportPolicy 'relay': ${fmt(configs)}`);
  }

  // Video decodes both ways and keeps flowing.
  await a.waitDecodingFrom(1);
  await b.waitDecodingFrom(1);

  // A DataChannel message each way.
  await a.send('hello from alice', { to: b.id });
  await b.send('hello from bob', { to: a.id });
  for (const [p, from, text] of [[b, a, 'hello from alice'], [a, b, 'hello from bob']]) {
    await waitUntil(async () => (await p.messages()).some((m) => m.from === from.id && m.data === text),
      { timeout: 10000, message: `${p.name} got "${text}"` });
  }

  // coturn saw both peers' allocations succeed with their own usernames.
  for (const p of [a, b]) {
    const user = turnEntry(p.welcome).username;
    assert.ok(turn.log().includes(`user <${user}>: incoming packet ALLOCATE processed, success`),
      `coturn log: ALLOCATE success for ${user}`);
  }
  ctx.diagnostic(`relay connection, video and data both ways in ${Date.now() - started} ms`);
  env.checkPages(ctx);
});

test('a server whose TURN secret is not coturn\'s: 401, and relay-only peers never connect', { timeout: 60000 }, async (ctx) => {
  const started = Date.now();
  const room = newRoom('turn-wrong');
  const a = await joinRelay(bad, room, 'alice');
  const b = await joinRelay(bad, room, 'bob');
  const users = [a, b].map((p) => turnEntry(p.welcome).username);
  for (const p of [a, b]) { // well-formed, for the server's (wrong) secret
    const e = turnEntry(p.welcome);
    assert.equal(e.username.split(':')[1], p.id);
    assert.equal(e.credential, crypto.createHmac('sha1', WRONG_SECRET).update(e.username).digest('base64'));
  }
  for (const p of [a, b]) {
    // Signaling works: they know each other and have a peer connection to each other.
    await waitUntil(async () => (await candidatePairs(p)).length === 1,
      { timeout: 10000, message: `${p.name}: a peer connection to the other` });
  }
  // coturn refuses both usernames.
  await waitUntil(() => users.every((u) => turn.log().includes(`user <${u}>: incoming packet message processed, error 401`)),
    { timeout: 10000, message: `coturn log: 401 for ${users.join(', ')}` });
  // ... and Chromium hears it as an icecandidateerror 401.
  for (const p of [a, b]) {
    await waitUntil(async () => (await p.evaluate(() => window.__turn.errors)).some((e) => e.code === 401),
      { timeout: 5000, message: `${p.name}: icecandidateerror 401` });
  }
  // A bounded wait: with no relay candidate there is nothing to connect over.
  const watchUntil = Date.now() + 4000;
  let rows;
  while (Date.now() < watchUntil) {
    rows = [...await candidatePairs(a), ...await candidatePairs(b)];
    for (const r of rows) {
      assert.equal(r.pair, null, `no selected candidate pair: ${fmt(r)}`);
      assert.notEqual(r.connectionState, 'connected', fmt(r));
      assert.deepEqual(r.localTypes, [], `no local candidate at all: ${fmt(r)}`);
    }
    await sleep(250);
  }
  assert.deepEqual((await a.videoStats()).map((r) => r.framesDecoded), [0]);
  ctx.diagnostic(`never connected (states ${rows.map((r) => `${r.connectionState}/${r.iceConnectionState}`).join(', ')}); ${Date.now() - started} ms`);
  // The right secret would have worked: coturn is fine, only the credential is wrong.
  const right = turnRestCredential(SECRET, a.id, TTL);
  assert.ok((await tryTurnAllocate({ address: turn.address, port: turn.port, ...right })).ok);
  const wrong = await tryTurnAllocate({ address: turn.address, port: turn.port, ...turnEntry(a.welcome) });
  assert.equal(wrong.code, 401, fmt(wrong));
  env.checkPages(ctx);
});
