#!/usr/bin/env node
// Records real Janus replies for the C++ Janus state machines' unit tests (wasm/janus/):
// starts Janus (tools/janus/janus.mjs), drives it over its WebSocket API with real SDP from
// headless Chromium (fake camera and microphone, simulcast h/m/l), and writes
// tests/vectors/janus/*.json: arrays of scripted exchanges
//   { name, connection, description, steps: [{ send: {...} } | { receive: {...} }] }
// normalized (ids, SDP bodies, ICE candidates, addresses replaced by stable placeholders) so they
// can be committed and replayed. tests/vectors/janus/README.md explains the format.
//
// Run it in the test namespace (Janus gathers ICE only on a non-loopback address; Chromium never
// on 127.0.0.1):
//   bash tools/netns-run.sh node tools/janus/record-replies.mjs [--out DIR] [--raw DIR] [--verbose]
// --raw DIR also writes the raw, unnormalized logs there (never commit those: they hold real
// DTLS fingerprints and ICE credentials of a throwaway run, and are not stable).

import { chromium } from 'playwright-core';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startJanus, VIDEOROOM_ROOM_DEFAULTS, AUDIOBRIDGE_ROOM_DEFAULTS } from './janus.mjs';
import { JanusSocket } from './janus-socket.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
process.env.CHORUS_E2E_QUIET = '1'; // the harness's "not in netns" warning: we print our own
const { chromiumArgs, CHROMIUM } = await import(path.join(ROOT, 'tests/e2e/harness.mjs'));

const HOST = process.env.CHORUS_TEST_HOST || '127.0.0.1';
const argv = process.argv.slice(2);
const opt = (name, dflt) => { const i = argv.indexOf(name); return i >= 0 ? argv[i + 1] : dflt; };
const OUT = path.resolve(opt('--out', path.join(ROOT, 'tests/vectors/janus')));
const RAW = opt('--raw') ? path.resolve(opt('--raw')) : null;
const VERBOSE = argv.includes('--verbose');
const SIMULCAST_TRIAL = '--force-fieldtrials=WebRTC-LegacySimulcastLayerLimit/Disabled/';
const PAGE_ORIGIN = 'http://127.0.0.1:9'; // routed by Playwright; 127.0.0.1 is a secure context

if (!process.env.CHORUS_NETNS) {
  console.error('record-replies: not inside tools/netns-run.sh; Janus and Chromium need a non-loopback address for ICE.\n'
    + '  run: bash tools/netns-run.sh node tools/janus/record-replies.mjs');
  if (HOST === '127.0.0.1') process.exit(2);
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const log = (...a) => console.log(...a);
const vlog = (...a) => { if (VERBOSE) console.log(...a); };

function check(cond, what, value) {
  if (!cond) throw new Error(`unexpected Janus behaviour: ${what}${value !== undefined ? `: ${JSON.stringify(value).slice(0, 1500)}` : ''}`);
}
const pd = (m) => m?.plugindata?.data ?? {};

// ---------------------------------------------------------------------------------------------
// Pages: one per client, a peer connection per Janus handle; Node carries every message.

const PAGE_HTML = `<!doctype html><meta charset="utf-8"><title>janus recorder</title><script>
const pcs = new Map();
let media = null;
window.rec = {
  async getMedia() {
    if (!media) media = await navigator.mediaDevices.getUserMedia({ audio: true,
      video: { width: 640, height: 480, frameRate: 15 } });
    return media.getTracks().map((t) => t.kind);
  },
  open(id) {
    const pc = new RTCPeerConnection({ bundlePolicy: 'max-bundle', rtcpMuxPolicy: 'require' });
    const st = { pc, cands: [], done: false, tracks: 0 };
    pc.onicecandidate = (e) => { if (e.candidate && e.candidate.candidate) st.cands.push(e.candidate.toJSON()); else if (!e.candidate) st.done = true; };
    pc.ontrack = (e) => {
      st.tracks++;
      // Play what arrives, so the decoder runs (a muted element is enough for video).
      const el = document.createElement(e.track.kind === 'video' ? 'video' : 'audio');
      el.autoplay = true; el.muted = e.track.kind === 'video'; el.playsInline = true;
      el.srcObject = new MediaStream([e.track]);
      document.body.appendChild(el);
    };
    pcs.set(id, st);
  },
  // Offer to publish: audio (sendonly) and/or video (sendonly, simulcast rids h/m/l).
  async publishOffer(id, { audio = true, video = true, simulcast = true } = {}) {
    await rec.getMedia();
    const { pc } = pcs.get(id);
    if (audio) pc.addTransceiver(media.getAudioTracks()[0], { direction: 'sendonly', streams: [media] });
    if (video) rec.addVideo(id, { simulcast });
    const offer = await pc.createOffer();
    await pc.setLocalDescription(offer);
    return { type: offer.type, sdp: offer.sdp };
  },
  addVideo(id, { simulcast = true } = {}) {
    const { pc } = pcs.get(id);
    const track = media.getVideoTracks()[0];
    pc.addTransceiver(track, { direction: 'sendonly', streams: [media], sendEncodings: simulcast
      ? [{ rid: 'h', maxBitrate: 900000 }, { rid: 'm', maxBitrate: 300000, scaleResolutionDownBy: 2 },
        { rid: 'l', maxBitrate: 100000, scaleResolutionDownBy: 4 }]
      : [{ maxBitrate: 900000 }] });
  },
  async reoffer(id) {
    const { pc } = pcs.get(id);
    const offer = await pc.createOffer();
    await pc.setLocalDescription(offer);
    return { type: offer.type, sdp: offer.sdp };
  },
  // Audio both ways (AudioBridge: we send our voice, Janus sends the mix).
  async audioOffer(id) {
    await rec.getMedia();
    const { pc } = pcs.get(id);
    pc.addTransceiver(media.getAudioTracks()[0], { direction: 'sendrecv', streams: [media] });
    const offer = await pc.createOffer();
    await pc.setLocalDescription(offer);
    return { type: offer.type, sdp: offer.sdp };
  },
  async setRemote(id, jsep) { await pcs.get(id).pc.setRemoteDescription(jsep); },
  async answer(id, offer) {
    const { pc } = pcs.get(id);
    await pc.setRemoteDescription(offer);
    const answer = await pc.createAnswer();
    await pc.setLocalDescription(answer);
    return { type: answer.type, sdp: answer.sdp };
  },
  takeCandidates(id) {
    const st = pcs.get(id);
    return { cands: st.cands.splice(0), done: st.done };
  },
  state(id) {
    const { pc } = pcs.get(id);
    return { connection: pc.connectionState, ice: pc.iceConnectionState, signaling: pc.signalingState };
  },
  async inbound(id) {
    const { pc } = pcs.get(id);
    const out = [];
    (await pc.getStats()).forEach((s) => {
      if (s.type === 'inbound-rtp') out.push({ kind: s.kind, mid: s.mid, frameWidth: s.frameWidth || 0,
        framesDecoded: s.framesDecoded || 0, packets: s.packetsReceived || 0 });
    });
    return out;
  },
  close(id) { const st = pcs.get(id); if (st) st.pc.close(); pcs.delete(id); },
};
</script><body></body>`;

let browser;
async function openPage(name) {
  const context = await browser.newContext();
  await context.route(`${PAGE_ORIGIN}/**`, (route) => route.fulfill({
    status: 200, body: PAGE_HTML, headers: { 'content-type': 'text/html; charset=utf-8' } }));
  const page = await context.newPage();
  page.on('pageerror', (e) => console.error(`  [${name}] pageerror ${e}`));
  page.on('console', (m) => { if (VERBOSE || m.type() === 'error') console.error(`  [${name}] ${m.text()}`); });
  await page.goto(`${PAGE_ORIGIN}/janus.html`);
  return page;
}

// ---------------------------------------------------------------------------------------------
// A client: one WebSocket (one Janus session), its handles, optionally a page.

const recordings = new Map(); // file -> [{name, connection, description, from, to, party}]
const allParties = [];

class Party {
  constructor(name, url, page = null) {
    Object.assign(this, { name, url, page, handles: {}, cutAt: 0, session: null });
    allParties.push(this);
  }

  async connect() {
    this.ws = await JanusSocket.connect(this.url, { name: this.name });
    return this;
  }

  async createSession() {
    const r = await this.ws.call({ janus: 'create' });
    check(r.janus === 'success' && r.data?.id, 'create', r);
    this.session = r.data.id;
    return r;
  }

  async attach(key, plugin) {
    const r = await this.ws.call({ janus: 'attach', session_id: this.session, plugin });
    check(r.janus === 'success' && r.data?.id, `attach ${plugin}`, r);
    this.handles[key] = r.data.id;
    return r;
  }

  /** A plugin message; resolves with the synchronous reply or the asynchronous event (and
   *  waits for the ack of an asynchronous one, which Janus may send after the event). */
  async message(key, body, jsep, { timeoutMs = 15000 } = {}) {
    const msg = { janus: 'message', session_id: this.session, handle_id: this.handles[key] };
    if (body !== undefined) msg.body = body;
    if (jsep) msg.jsep = jsep;
    const from = this.ws.mark();
    const r = await this.ws.call(msg, { timeoutMs });
    if (r.janus === 'event') {
      await this.ws.waitFor((m) => m.janus === 'ack' && m.transaction === r.transaction, { from, timeoutMs: 5000, what: 'the ack' });
    }
    return r;
  }

  /** Waits for a received message after log position `from` (default: the last cut). */
  waitFor(pred, what, { from = this.cutAt, timeoutMs = 20000 } = {}) {
    return this.ws.waitFor(pred, { from, timeoutMs, what: `${what} (${this.name})` });
  }

  /** Trickles the page's ICE candidates for `key` to Janus until gathering completes. */
  async trickle(key) {
    for (;;) {
      const { cands, done } = await this.page.evaluate((id) => window.rec.takeCandidates(id), key);
      for (const c of cands) {
        this.ws.send({ janus: 'trickle', session_id: this.session, handle_id: this.handles[key],
          candidate: { candidate: c.candidate, sdpMid: c.sdpMid, sdpMLineIndex: c.sdpMLineIndex } });
      }
      if (done) {
        this.ws.send({ janus: 'trickle', session_id: this.session, handle_id: this.handles[key], candidate: { completed: true } });
        return;
      }
      await sleep(40);
    }
  }

  /** Ends an exchange: everything on this connection since the previous cut. Waits until every
   *  request sent has its answer, so exchanges hold complete request/reply pairs. */
  async cut(file, name, description) {
    await this.ws.settle();
    await sleep(30);
    const to = this.ws.log.length;
    const list = recordings.get(file) ?? recordings.set(file, []).get(file);
    list.push({ name, connection: this.name, description, party: this, from: this.cutAt, to });
    vlog(`  cut ${file}: ${name} (${this.name}, ${to - this.cutAt} messages)`);
    this.cutAt = to;
  }

}

const isMedia = (handle, type) => (m) => m.janus === 'media' && m.sender === handle && m.type === type && m.receiving === true;
const isWebrtcup = (handle) => (m) => m.janus === 'webrtcup' && m.sender === handle;

/** Publishes on `key` (VideoRoom configure with offer), trickles, waits for webrtcup and one
 *  media event per kind sent. */
async function publish(p, key, { audio = true, video = true, offer } = {}) {
  offer ??= await p.page.evaluate(([id, o]) => window.rec.publishOffer(id, o), [key, { audio, video, simulcast: true }]);
  const from = p.ws.mark();
  const ev = p.message(key, { request: 'configure' }, offer);
  const trickling = p.trickle(key);
  const r = await ev;
  check(pd(r).videoroom === 'event' && pd(r).configured === 'ok' && r.jsep?.type === 'answer', `${p.name}: configured with an answer`, r);
  await p.page.evaluate(([id, j]) => window.rec.setRemote(id, j), [key, r.jsep]);
  await trickling;
  const h = p.handles[key];
  await p.waitFor(isWebrtcup(h), 'webrtcup', { from });
  if (audio) await p.waitFor(isMedia(h, 'audio'), 'media audio', { from });
  if (video) await p.waitFor(isMedia(h, 'video'), 'media video', { from });
  return r;
}

async function waitInbound(p, key, pred, what, timeoutMs = 25000) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    last = await p.page.evaluate((id) => window.rec.inbound(id), key);
    if (pred(last)) return last;
    if (Date.now() > deadline) throw new Error(`${p.name}: timed out waiting for ${what}; inbound: ${JSON.stringify(last)}`);
    await sleep(250);
  }
}

// ---------------------------------------------------------------------------------------------
// Scenarios

let roomSeq = 0;
const newRoom = () => 1000 + (++roomSeq); // room ids are ours; kept as they are in the vectors

async function sessionScenario(janus) {
  const F = 'session';
  const a = await new Party('ann', janus.wsUrl).connect();
  a.ws.send({ janus: 'info' });
  await a.waitFor((m) => m.janus === 'server_info', 'server_info');
  await a.cut(F, 'info', 'The server_info reply of the launcher\'s Janus: only VideoRoom, AudioBridge and the WebSocket transport; session-timeout 60.');

  await a.createSession();
  await a.cut(F, 'create session', 'create -> success with data.id (the session id). The reply has no session_id of its own.');
  await a.attach('vr', 'janus.plugin.videoroom');
  await a.cut(F, 'attach videoroom', 'attach -> success with data.id (the handle id).');
  await a.attach('ab', 'janus.plugin.audiobridge');
  await a.cut(F, 'attach audiobridge', 'A second handle on the same session.');
  const ka = await a.ws.acked({ janus: 'keepalive', session_id: a.session });
  check(ka.janus === 'ack', 'keepalive ack', ka);
  await a.cut(F, 'keepalive', 'keepalive -> ack (send one well within session_timeout; Janus counts any request).');
  for (const k of ['ab', 'vr']) {
    const r = await a.ws.call({ janus: 'detach', session_id: a.session, handle_id: a.handles[k] });
    check(r.janus === 'success', 'detach', r);
    await a.waitFor((m) => m.janus === 'detached' && m.sender === a.handles[k], 'detached event');
  }
  await a.cut(F, 'detach', 'detach -> success, then a "detached" event for the handle (the order of the two may vary).');
  const d = await a.ws.call({ janus: 'destroy', session_id: a.session });
  check(d.janus === 'success', 'destroy', d);
  await a.cut(F, 'destroy session', 'destroy -> success.');
  a.ws.close();
}

async function videoroomScenario(janus, pages) {
  const F = 'videoroom';
  const room = newRoom();
  const alice = await new Party('alice', janus.wsUrl, pages.alice).connect();
  const bob = await new Party('bob', janus.wsUrl, pages.bob).connect();
  const carol = await new Party('carol', janus.wsUrl, pages.carol).connect();
  for (const p of [alice, bob, carol]) {
    await p.createSession();
    await p.attach('pub', 'janus.plugin.videoroom');
    await p.page.evaluate(() => window.rec.getMedia());
    await p.page.evaluate(() => window.rec.open('pub'));
    await p.cut(F, `${p.name}: create session, attach videoroom`, 'Each client: create, then attach janus.plugin.videoroom for its publisher handle.');
  }

  // Rooms on demand: the first client creates the room (no admin_key configured).
  const created = await alice.message('pub', { request: 'create', room, description: `chorus room ${room}`, ...VIDEOROOM_ROOM_DEFAULTS });
  check(pd(created).videoroom === 'created', 'create room', created);
  const exists = await alice.message('pub', { request: 'exists', room });
  check(pd(exists).exists === true, 'exists', exists);
  await alice.cut(F, 'create room on demand', `create (synchronous: success + plugindata videoroom "created"), then exists. Body: the launcher's VIDEOROOM_ROOM_DEFAULTS (bitrate ${VIDEOROOM_ROOM_DEFAULTS.bitrate}: the stock 128 kbps starves simulcast).`);

  const aj = await alice.message('pub', { request: 'join', ptype: 'publisher', room, display: 'alice' });
  check(pd(aj).videoroom === 'joined' && pd(aj).publishers.length === 0, 'alice joined an empty room', aj);
  await alice.cut(F, 'publisher join, empty room', 'join ptype publisher -> ack and event "joined" with id, private_id and publishers []. Janus may send the event before the ack.');

  await publish(alice, 'pub');
  await alice.cut(F, 'publish: configure with a simulcast offer', 'configure + jsep offer (audio sendonly; video sendonly with simulcast rids h/m/l) -> ack, event configured "ok" with streams (video simulcast true) + jsep answer; the browser trickles its candidates (trickle -> ack each, then completed); webrtcup; media audio/video receiving true.');

  const bj = await bob.message('pub', { request: 'join', ptype: 'publisher', room, display: 'bob' });
  check(pd(bj).videoroom === 'joined' && pd(bj).publishers.length === 1, 'bob sees alice in publishers', bj);
  await bob.cut(F, 'publisher join, with publishers list', 'bob joins after alice publishes: "joined" lists alice in publishers with her streams (mid, type, codec, simulcast).');

  await publish(bob, 'pub');
  await bob.cut(F, 'bob: publish with simulcast', 'Same as alice\'s publish, seen by bob.');
  const pubEv = await alice.waitFor((m) => pd(m).publishers?.some((x) => x.display === 'bob'), 'publishers event for bob');
  const bobId = pd(bj).id;
  check(pd(pubEv).publishers[0].id === bobId, 'publishers event names bob', pubEv);
  await alice.cut(F, 'publishers event: another publisher', 'What alice\'s publisher handle receives when bob publishes: an event with publishers [bob with his streams]. Nothing is sent when bob merely joins (notify_joining false).');

  // carol publishes audio only for now (she adds video later: an "updated" re-offer).
  const cj = await carol.message('pub', { request: 'join', ptype: 'publisher', room, display: 'carol' });
  check(pd(cj).videoroom === 'joined', 'carol joined', cj);
  const carolId = pd(cj).id;
  await publish(carol, 'pub', { video: false });
  await carol.cut(F, 'carol: join and publish audio only', 'join with two publishers listed, then configure with an audio-only offer.');
  await alice.waitFor((m) => pd(m).publishers?.some((x) => x.display === 'carol'), 'publishers event for carol');
  await alice.cut(F, 'publishers event: audio-only publisher', 'alice sees carol publish audio only.');

  // One multistream subscription: bob's audio and video, carol's audio.
  await alice.attach('sub', 'janus.plugin.videoroom');
  await alice.page.evaluate(() => window.rec.open('sub'));
  const streams = [
    ...pd(pubEv).publishers[0].streams.map((s) => ({ feed: bobId, mid: s.mid })),
    { feed: carolId, mid: '0' },
  ];
  const att = await alice.message('sub', { request: 'join', ptype: 'subscriber', room, private_id: pd(aj).private_id, streams });
  check(pd(att).videoroom === 'attached' && att.jsep?.type === 'offer' && pd(att).streams.length === 3, 'attached with an offer', att);
  await alice.cut(F, 'subscriber join (multistream)', 'A second handle on alice\'s session: join ptype subscriber with streams [{feed, mid}] for bob\'s audio and video and carol\'s audio -> ack, event "attached" with streams (mid, feed_id, feed_mid, ready ...) + jsep offer from Janus.');

  const answer = await alice.page.evaluate(([id, o]) => window.rec.answer(id, o), ['sub', att.jsep]);
  const fromStart = alice.ws.mark();
  const st = alice.message('sub', { request: 'start' }, answer);
  const tr = alice.trickle('sub');
  const started = await st;
  check(pd(started).started === 'ok', 'started', started);
  await tr;
  await alice.waitFor(isWebrtcup(alice.handles.sub), 'subscriber webrtcup', { from: fromStart });
  await alice.cut(F, 'subscriber start with answer', 'start + jsep answer -> ack, event started "ok"; trickle; webrtcup on the subscriber handle.');

  // Simulcast: the subscription starts on the top layer; switch bob's video to 0 and back.
  const subVideoMid = pd(att).streams.find((s) => s.type === 'video').mid;
  const hi = await waitInbound(alice, 'sub', (l) => l.some((s) => s.kind === 'video' && s.frameWidth >= 640), 'bob\'s video at 640 wide');
  vlog('  subscriber inbound before switching:', JSON.stringify(hi));
  for (const [substream, width] of [[0, 160], [2, 640]]) {
    const from = alice.ws.mark();
    const r = await alice.message('sub', { request: 'configure', streams: [{ mid: subVideoMid, substream }] });
    check(pd(r).configured === 'ok', 'subscriber configure', r);
    await alice.waitFor((m) => m.sender === alice.handles.sub && pd(m).substream === substream, `substream ${substream} event`, { from });
    const got = await waitInbound(alice, 'sub', (l) => l.some((s) => s.kind === 'video' && s.frameWidth === width), `video ${width} wide after substream ${substream}`);
    log(`  simulcast: substream ${substream} -> received width ${got.find((s) => s.kind === 'video').frameWidth}`);
    await alice.cut(F, `subscriber switches simulcast substream to ${substream}`, `configure {streams: [{mid, substream: ${substream}}]} -> ack, event configured "ok"; then, as Janus switches on keyframes, events {mid, substream} (it may pass through the middle layer first) ending with substream ${substream}; also {mid, temporal} events. The browser then decodes ${width} px wide frames.`);
  }

  // carol adds video: renegotiates as publisher; alice sees the new stream and subscribes to it.
  const reoffer = await carol.page.evaluate(() => { window.rec.addVideo('pub', { simulcast: true }); return window.rec.reoffer('pub'); });
  const fromRe = carol.ws.mark();
  const rc = await carol.message('pub', { request: 'configure' }, reoffer);
  check(pd(rc).configured === 'ok' && rc.jsep?.type === 'answer', 'carol re-configured', rc);
  await carol.page.evaluate(([id, j]) => window.rec.setRemote(id, j), ['pub', rc.jsep]);
  await carol.waitFor(isMedia(carol.handles.pub, 'video'), 'carol media video', { from: fromRe });
  await carol.cut(F, 'publisher renegotiates to add video', 'configure + a new offer (audio + simulcast video) on a live publisher -> configured "ok" + answer; no new trickle (same ICE); media video.');
  const carolPub = await alice.waitFor((m) => pd(m).publishers?.some((x) => x.display === 'carol' && x.streams.length === 2), 'publishers event with carol\'s video');
  await alice.cut(F, 'publishers event: a publisher adds a stream', 'alice\'s publisher handle gets a publishers event listing all of carol\'s streams (audio and the new video).');
  const carolVideo = pd(carolPub).publishers[0].streams.find((s) => s.type === 'video');
  const upd = await alice.message('sub', { request: 'subscribe', streams: [{ feed: carolId, mid: carolVideo.mid }] });
  const updated = upd.plugindata ? upd : await alice.waitFor((m) => pd(m).videoroom === 'updated', 'updated');
  check(pd(updated).videoroom === 'updated' && updated.jsep?.type === 'offer', 'updated with offer', updated);
  const ans2 = await alice.page.evaluate(([id, o]) => window.rec.answer(id, o), ['sub', updated.jsep]);
  const st2 = await alice.message('sub', { request: 'start' }, ans2);
  check(pd(st2).started === 'ok', 'started after update', st2);
  await waitInbound(alice, 'sub', (l) => l.filter((s) => s.kind === 'video' && s.framesDecoded > 0).length === 2, 'two videos decoding');
  await alice.cut(F, 'subscribe to an added stream: updated with a new offer', 'subscribe {streams: [{feed: carol, mid}]} on the live subscription -> ack, event "updated" with all streams + a new jsep offer; start + answer -> started "ok".');

  // bob unpublishes, then leaves.
  const fromUnpub = alice.ws.mark();
  const un = await bob.message('pub', { request: 'unpublish' });
  check(pd(un).unpublished === 'ok', 'unpublish', un);
  await bob.waitFor((m) => m.janus === 'hangup' && m.sender === bob.handles.pub, 'bob hangup');
  await bob.cut(F, 'unpublish', 'unpublish -> ack, event unpublished "ok", then hangup (reason "Close PC"): Janus closes the publisher\'s PeerConnection. (Events from before the request, e.g. publishers events about carol, come first in this slice.)');
  await alice.waitFor((m) => pd(m).unpublished === bobId, 'unpublished event', { from: fromUnpub });
  const auto = await alice.waitFor((m) => m.sender === alice.handles.sub && pd(m).videoroom === 'updated' && m.jsep, 'autoupdate offer', { from: fromUnpub });
  const ans3 = await alice.page.evaluate(([id, o]) => window.rec.answer(id, o), ['sub', auto.jsep]);
  const st3 = await alice.message('sub', { request: 'start' }, ans3);
  check(pd(st3).started === 'ok', 'started after autoupdate', st3);
  await alice.cut(F, 'a publisher unpublishes: unpublished event and autoupdate re-offer', 'bob unpublished: alice\'s publisher handle gets {unpublished: bob} (Janus 1.1.2 sends it twice); her subscriber handle gets "updated" with a new offer in which bob\'s m-lines are inactive (streams active false; autoupdate, default true); start + answer -> started.');

  const fromLeave = alice.ws.mark();
  const lv = await bob.message('pub', { request: 'leave' });
  check(pd(lv).leaving === 'ok', 'bob leave', lv);
  await bob.cut(F, 'leave', 'leave -> ack, event leaving "ok".');
  await alice.waitFor((m) => pd(m).leaving === bobId, 'leaving event', { from: fromLeave });
  await alice.cut(F, 'leaving event', 'bob (no longer publishing) leaves: alice\'s publisher handle gets {leaving: bob}.');

  // carol leaves while publishing (no unpublish first), then detaches her handle.
  const carolPackets = async () => (await alice.page.evaluate((id) => window.rec.inbound(id), 'sub'))
    .filter((x) => x.mid === carolSubMids.video || x.mid === carolSubMids.audio).reduce((n, x) => n + x.packets, 0);
  const carolSubMids = {
    audio: pd(updated).streams.find((x) => x.feed_id === carolId && x.type === 'audio')?.mid,
    video: pd(updated).streams.find((x) => x.feed_id === carolId && x.type === 'video')?.mid,
  };
  const c0 = await carolPackets();
  await sleep(1000);
  const c1 = await carolPackets();
  const fromCarol = alice.ws.mark();
  const cl = await carol.message('pub', { request: 'leave' });
  check(pd(cl).leaving === 'ok', 'carol leave', cl);
  await sleep(1000);
  const carolHungUp = carol.ws.received(carol.cutAt).some((m) => m.janus === 'hangup');
  await carol.cut(F, 'leave while publishing', `leave on a live publisher (no unpublish first) -> ack, event leaving "ok"${carolHungUp ? ', hangup' : '. Janus 1.1.2 does not hang up its PeerConnection on leave: no hangup event'}.`);
  await alice.waitFor((m) => pd(m).leaving === carolId, 'carol leaving', { from: fromCarol });
  const p0 = await carolPackets();
  await sleep(1500);
  const p1 = await carolPackets();
  const det = await carol.ws.call({ janus: 'detach', session_id: carol.session, handle_id: carol.handles.pub });
  check(det.janus === 'success', 'carol detach', det);
  await sleep(1000);
  await carol.cut(F, 'detach after leave', 'detach of the left publisher\'s handle -> success, detached event (its PeerConnection goes with it).');
  await sleep(1000);
  const sawUnpub = alice.ws.received(fromCarol).some((m) => pd(m).unpublished === carolId);
  const sawUpdate = alice.ws.received(fromCarol).some((m) => m.sender === alice.handles.sub && pd(m).videoroom === 'updated');
  log(`  carol left while publishing: carol's packets reaching alice: ${c1 - c0} in 1 s before, ${p1 - p0} in 1.5 s after her leave; alice saw unpublished ${sawUnpub}, updated ${sawUpdate} (also after carol's detach)`);
  await alice.cut(F, 'a publisher leaves while publishing', `carol sends leave without unpublishing, then detaches her handle: alice's publisher handle gets {leaving: carol}${sawUnpub ? ' and {unpublished: carol}' : ' only (no unpublished event)'}; her subscriber handle gets ${sawUpdate ? 'an "updated" re-offer' : 'nothing (no autoupdate, not even after carol\'s detach), although Janus stops forwarding carol\'s media: the client must unsubscribe from a feed on its leaving event'}.`);

  // alice tears down: subscriber leave, publisher leave, detach both, destroy.
  const sl = await alice.message('sub', { request: 'leave' });
  check(pd(sl).left === 'ok', 'subscriber left', sl);
  await alice.message('pub', { request: 'leave' });
  for (const k of ['sub', 'pub']) await alice.ws.call({ janus: 'detach', session_id: alice.session, handle_id: alice.handles[k] });
  await alice.ws.call({ janus: 'destroy', session_id: alice.session });
  await sleep(300);
  await alice.cut(F, 'teardown', 'subscriber leave -> left "ok"; publisher leave; detach both handles; destroy the session (hangup/detached events as they come).');
  for (const p of [bob, carol]) {
    await p.ws.call({ janus: 'destroy', session_id: p.session });
    await sleep(200);
    await p.cut(F, `${p.name}: destroy`, 'destroy with a handle still attached -> success (any hangup/detached events as they come).');
  }
  for (const p of [alice, bob, carol]) p.ws.close();
}

async function audiobridgeScenario(janus, pages) {
  const F = 'audiobridge';
  const room = newRoom();
  const dave = await new Party('dave', janus.wsUrl, pages.dave).connect();
  const erin = await new Party('erin', janus.wsUrl, pages.erin).connect();
  for (const p of [dave, erin]) {
    await p.createSession();
    await p.attach('ab', 'janus.plugin.audiobridge');
    await p.page.evaluate(() => window.rec.open('ab'));
    await p.cut(F, `${p.name}: create session, attach audiobridge`, 'create, attach janus.plugin.audiobridge.');
  }
  const c = await dave.message('ab', { request: 'create', room, description: `chorus audio ${room}`, ...AUDIOBRIDGE_ROOM_DEFAULTS });
  check(pd(c).audiobridge === 'created', 'audiobridge create', c);
  await dave.cut(F, 'create room on demand', `create with the launcher's AUDIOBRIDGE_ROOM_DEFAULTS (default_prebuffering ${AUDIOBRIDGE_ROOM_DEFAULTS.default_prebuffering}, sampling_rate ${AUDIOBRIDGE_ROOM_DEFAULTS.sampling_rate}) -> success, audiobridge "created".`);

  const dj = await dave.message('ab', { request: 'join', room, display: 'dave' });
  check(pd(dj).audiobridge === 'joined' && pd(dj).participants.length === 0, 'dave joined', dj);
  await dave.cut(F, 'join, empty room', 'join -> ack, event "joined" with id and participants [].');

  const connectAudio = async (p) => {
    const offer = await p.page.evaluate((id) => window.rec.audioOffer(id), 'ab');
    const from = p.ws.mark();
    const ev = p.message('ab', { request: 'configure', muted: false }, offer);
    const tr = p.trickle('ab');
    const r = await ev;
    check(pd(r).result === 'ok' && r.jsep?.type === 'answer', `${p.name}: configure with offer`, r);
    await p.page.evaluate(([id, j]) => window.rec.setRemote(id, j), ['ab', r.jsep]);
    await tr;
    await p.waitFor(isWebrtcup(p.handles.ab), 'webrtcup', { from });
    await p.waitFor(isMedia(p.handles.ab, 'audio'), 'media audio', { from });
  };
  await connectAudio(dave);
  await dave.cut(F, 'configure with offer', 'configure {muted: false} + jsep offer (audio sendrecv) -> ack, event result "ok" + jsep answer; trickle; webrtcup; media audio.');

  const fromErin = dave.ws.mark();
  const ej = await erin.message('ab', { request: 'join', room, display: 'erin' });
  check(pd(ej).audiobridge === 'joined' && pd(ej).participants.length === 1, 'erin sees dave', ej);
  await erin.cut(F, 'join, with participants', 'erin joins: "joined" lists dave (id, display, setup true, muted false ...).');
  const erinId = pd(ej).id;
  await dave.waitFor((m) => pd(m).participants?.some((x) => x.id === erinId), 'participants event: erin joined', { from: fromErin });
  await sleep(200);
  await dave.cut(F, 'participants event: someone joins', 'What dave receives when erin joins (setup false: no PeerConnection yet).');

  await connectAudio(erin);
  await erin.cut(F, 'erin: configure with offer', 'Same as dave\'s.');
  await sleep(300);
  await dave.cut(F, 'participants event: someone connects audio', 'What dave receives while erin configures with her offer: participants events about erin (setup false on configure, then setup true once her PeerConnection is up).');

  const fromMute = dave.ws.mark();
  const mu = await erin.message('ab', { request: 'configure', muted: true });
  check(pd(mu).result === 'ok', 'mute', mu);
  await erin.cut(F, 'configure muted', 'configure {muted: true} (no jsep) -> ack, event result "ok".');
  await dave.waitFor((m) => pd(m).participants?.some((x) => x.id === erinId && x.muted === true), 'participants event: erin muted', { from: fromMute });
  await dave.cut(F, 'participants event: muted', 'dave sees erin muted: participants [{id: erin, muted: true, ...}].');

  const fromUnmute = dave.ws.mark();
  await erin.message('ab', { request: 'configure', muted: false });
  await erin.cut(F, 'configure unmuted', 'configure {muted: false}.');
  await dave.waitFor((m) => pd(m).participants?.some((x) => x.id === erinId && x.muted === false), 'participants event: erin unmuted', { from: fromUnmute });
  await dave.cut(F, 'participants event: unmuted', 'dave sees erin unmuted.');

  const fromLeave = dave.ws.mark();
  const lv = await erin.message('ab', { request: 'leave' });
  check(pd(lv).audiobridge === 'left', 'left', lv);
  await sleep(300);
  await erin.cut(F, 'leave', 'leave -> ack, event audiobridge "left" with the participant id (any hangup as it comes).');
  await dave.waitFor((m) => pd(m).leaving === erinId, 'leaving event', { from: fromLeave });
  await dave.cut(F, 'leaving event', 'dave sees erin leave: audiobridge event {leaving: erin}.');
  for (const p of [dave, erin]) {
    await p.ws.call({ janus: 'destroy', session_id: p.session });
    await sleep(200);
    await p.cut(F, `${p.name}: destroy`, 'destroy the session.');
    p.ws.close();
  }
}

async function errorsScenario(janus, adminJanus) {
  const F = 'errors';
  const f = await new Party('frank', janus.wsUrl).connect();
  await f.createSession();
  await f.attach('vr', 'janus.plugin.videoroom');
  await f.attach('ab', 'janus.plugin.audiobridge');
  await f.cut(F, 'frank: create session, attach both plugins', 'Setup for the error cases below (same connection).');

  const nr = await f.message('vr', { request: 'join', ptype: 'publisher', room: 999999, display: 'frank' });
  check(pd(nr).error_code === 426, 'no such room 426', nr);
  await f.cut(F, 'videoroom join: no such room (426)', 'join a room that does not exist -> ack, event with error_code 426 "No such room". (Janus sends plugin errors inside plugindata, not as janus "error".)');
  const nra = await f.message('ab', { request: 'join', room: 999999, display: 'frank' });
  check(pd(nra).error_code === 485, 'audiobridge no such room 485', nra);
  await f.cut(F, 'audiobridge join: no such room (485)', 'The AudioBridge\'s code for "No such room" is 485.');

  const room = newRoom();
  await f.message('vr', { request: 'create', room, ...VIDEOROOM_ROOM_DEFAULTS });
  const dup = await f.message('vr', { request: 'create', room, ...VIDEOROOM_ROOM_DEFAULTS });
  check(pd(dup).error_code === 427, 'room exists 427', dup);
  await f.cut(F, 'create a room that exists (427)', 'Two clients creating the same room on demand: the second create gets success with plugindata error_code 427 "Room ... already exists"; join it instead.');

  await f.attach('sub', 'janus.plugin.videoroom');
  const nf = await f.message('sub', { request: 'join', ptype: 'subscriber', room, streams: [{ feed: 123456 }] });
  check(pd(nf).error_code === 428, 'no such feed 428', nf);
  await f.cut(F, 'subscribe to a feed that does not exist (428)', 'join ptype subscriber with streams [{feed: 123456}] -> ack, event error_code 428 "No such feed".');
  const fj = await f.message('vr', { request: 'join', ptype: 'publisher', room, display: 'frank' });
  const frankId = pd(fj).id;
  const nu = await f.message('sub', { request: 'join', ptype: 'subscriber', room, streams: [{ feed: frankId }] });
  check(pd(nu).error_code === 428, 'feed not up 428', nu);
  await f.cut(F, 'subscribe to a publisher that is not up yet (428)', 'frank joined as publisher but has not published (no webrtcup): subscribing to his id also gives 428 "No such feed". Retry after the publishers event.');
  const cfg = await f.message('sub', { request: 'start' });
  await f.cut(F, 'start on a handle that never joined', `start without a subscription -> ${JSON.stringify(pd(cfg)).slice(0, 120)}`);

  const nobody = await f.ws.call({ janus: 'message', session_id: f.session, handle_id: f.handles.vr });
  check(nobody.janus === 'error' && nobody.error.code === 456, 'missing body 456', nobody);
  await f.cut(F, 'message without body (456)', 'A janus "message" with no body -> janus "error" 456 "Missing mandatory element (body)" (core error, no plugindata).');
  const noreq = await f.message('vr', {});
  check(pd(noreq).error_code === 429, 'missing request 429', noreq);
  await f.cut(F, 'body without request (429)', 'body {} -> success with plugindata error_code 429 "Missing mandatory element (request)".');
  const unk = await f.message('vr', { request: 'bogus' });
  check(pd(unk).error_code === 423, 'unknown request 423', unk);
  const unka = await f.message('ab', { request: 'bogus' });
  await f.cut(F, 'unknown plugin request (423 / AudioBridge)', `body {request: "bogus"} -> VideoRoom error_code 423 "Unknown request"; AudioBridge error_code ${pd(unka).error_code}.`);
  await f.attach('bad', 'janus.plugin.videoroom');
  const badType = await f.message('bad', { request: 'join', ptype: 'publisher', room: 'not-a-number' });
  const twice = await f.message('vr', { request: 'join', ptype: 'publisher', room });
  await f.cut(F, 'invalid element type; joining twice', `On a fresh handle: join with room as a string (Janus without string_ids) -> error_code ${pd(badType).error_code} "${pd(badType).error}"; join again on a handle that already joined -> error_code ${pd(twice).error_code} "${pd(twice).error}".`);

  const verb = await f.ws.call({ janus: 'bogus', session_id: f.session });
  check(verb.janus === 'error', 'unknown verb', verb);
  await f.cut(F, 'unknown janus request', `{janus: "bogus"} on a session -> janus "error" ${verb.error.code}.`);
  const from = f.ws.mark();
  f.ws.send({ janus: 'keepalive', session_id: f.session, transaction: null });
  await f.waitFor((m) => m.janus === 'error' && !m.transaction, 'missing transaction error', { from });
  await f.cut(F, 'request without transaction (456)', 'Any request lacking "transaction" -> janus "error" 456 without a transaction (so it cannot be matched to the request).');
  const from2 = f.ws.mark();
  f.ws.sendRaw('{"janus": "keepalive", oops');
  await f.waitFor((m) => m.janus === 'error' && m.error?.code === 454, 'invalid JSON 454', { from: from2 });
  await f.cut(F, 'invalid JSON (454)', 'Text that is not JSON -> janus "error" 454 "Invalid Janus API request" with the parser\'s message; no transaction.');

  const nh = await f.ws.call({ janus: 'message', session_id: f.session, handle_id: 42, body: { request: 'list' } });
  check(nh.janus === 'error' && nh.error.code === 459, 'no such handle 459', nh);
  await f.cut(F, 'request on an unknown handle (459)', 'message to handle 42 -> session-level janus "error" 459 "No such handle 42 in session <id>".');
  const ns = await f.ws.call({ janus: 'attach', session_id: 42, plugin: 'janus.plugin.videoroom' });
  check(ns.janus === 'error' && ns.error.code === 458, 'no such session 458', ns);
  await f.cut(F, 'request on an unknown session (458)', 'attach on session 42 -> janus "error" 458 "No such session 42".');
  const np = await f.ws.call({ janus: 'attach', session_id: f.session, plugin: 'janus.plugin.echotest' });
  check(np.janus === 'error' && np.error.code === 460, 'no such plugin 460', np);
  await f.cut(F, 'attach a plugin that is not loaded (460)', 'Only VideoRoom and AudioBridge are loaded: attach janus.plugin.echotest -> janus "error" 460 "No such plugin".');

  await f.ws.call({ janus: 'destroy', session_id: f.session });
  await sleep(200);
  const gone = await f.ws.call({ janus: 'keepalive', session_id: f.session });
  check(gone.janus === 'error' && gone.error.code === 458, 'keepalive on destroyed session 458', gone);
  const gone2 = await f.ws.call({ janus: 'message', session_id: f.session, handle_id: f.handles.vr, body: { request: 'list' } });
  await f.cut(F, 'keepalive on a destroyed session (458)', `After destroy: keepalive -> janus "error" 458 "No such session"; a message to one of its handles -> ${gone2.error?.code}.`);
  f.ws.close();

  // A Janus whose plugins require admin_key for create.
  const i = await new Party('ivan', adminJanus.wsUrl).connect();
  await i.createSession();
  await i.attach('vr', 'janus.plugin.videoroom');
  await i.attach('ab', 'janus.plugin.audiobridge');
  const r1 = await i.message('vr', { request: 'create', room: 77 });
  check(pd(r1).error_code === 429, 'missing admin_key 429', r1);
  const r2 = await i.message('vr', { request: 'create', room: 77, admin_key: 'wrong' });
  check(pd(r2).error_code === 433, 'wrong admin_key 433', r2);
  const r3 = await i.message('vr', { request: 'create', room: 77, admin_key: adminJanus.adminKey });
  check(pd(r3).videoroom === 'created', 'create with admin_key', r3);
  const r4 = await i.message('ab', { request: 'create', room: 77, admin_key: 'wrong' });
  await i.cut(F, 'admin_key required for create (429 / 433)', `On a Janus started with adminKey: VideoRoom create without admin_key -> 429 "Missing mandatory element (admin_key)", with a wrong one -> 433 "Unauthorized", with the right one -> created; AudioBridge with a wrong one -> ${pd(r4).error_code}. (admin_key "${'<admin-key>'}" in the vectors.)`);
  await i.ws.call({ janus: 'destroy', session_id: i.session });
  await i.cut(F, 'ivan: destroy', 'destroy.');
  i.ws.close();
}

async function timeoutScenario(janus, pages) {
  const F = 'timeout';
  const room = newRoom();
  const gina = await new Party('gina', janus.wsUrl, pages.gina).connect();
  const hank = await new Party('hank', janus.wsUrl).connect();
  for (const p of [gina, hank]) {
    await p.createSession();
    await p.attach('pub', 'janus.plugin.videoroom');
  }
  await hank.message('pub', { request: 'create', room, ...VIDEOROOM_ROOM_DEFAULTS });
  const hj = await hank.message('pub', { request: 'join', ptype: 'publisher', room, display: 'hank' });
  check(pd(hj).videoroom === 'joined', 'hank joined', hj);
  await hank.cut(F, 'hank: create session, room, join', `A Janus with session_timeout ${janus.info['session-timeout']} s. hank keeps his session alive with a keepalive every second.`);
  const keepalive = setInterval(() => hank.ws.send({ janus: 'keepalive', session_id: hank.session }), 1000);
  try {
    await gina.page.evaluate(() => window.rec.open('pub'));
    const gj = await gina.message('pub', { request: 'join', ptype: 'publisher', room, display: 'gina' });
    const ginaId = pd(gj).id;
    await publish(gina, 'pub', { video: false });
    const last = Date.now();
    await gina.cut(F, 'gina: create session, join, publish audio', 'gina publishes audio, then sends nothing more (a frozen tab): media alone does not keep a Janus session alive.');
    const fromT = gina.ws.mark();
    const t = await gina.waitFor((m) => m.janus === 'timeout', 'timeout event', { from: fromT, timeoutMs: 30000 });
    log(`  session timeout event ${Date.now() - last} ms after gina's last request (session_timeout ${janus.info['session-timeout']} s)`);
    check(t.session_id === gina.session, 'timeout names the session', t);
    await sleep(500);
    await gina.cut(F, 'session timeout', 'No request for longer than session_timeout: Janus sends {janus: "timeout", session_id} (its watchdog runs every 2 s, so it comes up to ~2 s late), sometimes followed by a detached event for the handle.');
    const ka = await gina.ws.call({ janus: 'keepalive', session_id: gina.session });
    check(ka.janus === 'error' && ka.error.code === 458, 'keepalive after timeout 458', ka);
    await gina.cut(F, 'keepalive on an expired session (458)', 'keepalive after the timeout -> janus "error" 458 "No such session": the client must create a new session.');
    await hank.waitFor((m) => pd(m).leaving === ginaId, 'hank sees gina leave');
    await hank.cut(F, 'others see a timed-out publisher leave', 'hank (keeping alive every second: keepalive/ack pairs) sees gina\'s feed unpublished and leaving when her session expires.');
  } finally {
    clearInterval(keepalive);
  }
  await hank.ws.settle();
  await hank.ws.call({ janus: 'destroy', session_id: hank.session });
  await hank.cut(F, 'hank: destroy', 'destroy.');
  gina.ws.close();
  hank.ws.close();
}

// ---------------------------------------------------------------------------------------------
// Normalization

const BASES = { session: 1000000000000000, handle: 2000000000000000, feed: 3000000000000000, private: 4000000000 };
const MIN_RANDOM_ID = 1000000; // Janus's random ids; our own rooms and fake ids stay below

class Normalizer {
  constructor({ hostAddress, adminKey, logPaths = [] }) {
    this.ids = new Map();
    this.counters = { session: 0, handle: 0, feed: 0, private: 0 };
    this.sdps = 0;
    this.cands = 0;
    this.hostAddress = hostAddress;
    this.adminKey = adminKey;
    this.logPaths = logPaths;
    this.unknownBig = new Set();
  }

  register(raw, role) {
    if (!Number.isSafeInteger(raw) || raw < MIN_RANDOM_ID || this.ids.has(raw)) return;
    this.ids.set(raw, BASES[role] + (++this.counters[role]));
  }

  /** First pass, over all raw logs in time order: learn which numbers are Janus's ids. */
  learn(entry) {
    const m = entry.msg;
    if (entry.dir !== 'receive' || typeof m !== 'object' || m.raw !== undefined) return;
    if (m.janus === 'success' && m.data?.id) this.register(m.data.id, m.session_id ? 'handle' : 'session');
    if (m.session_id) this.register(m.session_id, 'session');
    if (m.sender) this.register(m.sender, 'handle');
    const walk = (v, key) => {
      if (Array.isArray(v)) { v.forEach((x) => walk(x, key)); return; }
      if (v && typeof v === 'object') { for (const [k, x] of Object.entries(v)) walk(x, k); return; }
      if (typeof v !== 'number') return;
      if (key === 'private_id') this.register(v, 'private');
      else if (['id', 'feed', 'feed_id', 'publisher_id', 'unpublished', 'leaving', 'kicked'].includes(key)) this.register(v, 'feed');
    };
    if (m.plugindata) walk(m.plugindata.data);
  }

  sdp(sdp, type) {
    const sections = sdp.split(/\r?\n(?=m=)/).slice(1);
    const desc = sections.map((s) => {
      const kind = /^m=(\w+) (\d+)/.exec(s);
      const mid = /\na=mid:(\S+)/.exec(s)?.[1];
      const dir = /\na=(sendrecv|sendonly|recvonly|inactive)\b/.exec(s)?.[1] ?? 'sendrecv';
      const sim = /\na=simulcast:(\S+) (\S+)/.exec(s);
      const codecs = [...s.matchAll(/\na=rtpmap:\d+ ([\w-]+)\//g)].map((x) => x[1].toLowerCase())
        .filter((c) => !['rtx', 'red', 'ulpfec', 'flexfec-03', 'cn', 'telephone-event'].includes(c));
      const parts = [`${kind[1]} mid=${mid ?? '-'}`, kind[2] === '0' ? 'rejected' : dir];
      if (codecs.length) parts.push([...new Set(codecs)].slice(0, 2).join('/'));
      if (sim) parts.push(`simulcast ${sim[1]} ${sim[2]}`);
      return parts.join(' ');
    });
    return `<sdp ${++this.sdps} ${type}: ${desc.join('; ')}>`;
  }

  text(s) {
    let out = s;
    for (const [raw, ph] of this.ids) out = out.replace(new RegExp(`\\b${raw}\\b`, 'g'), String(ph));
    if (this.hostAddress) out = out.split(this.hostAddress).join('<janus-address>');
    if (this.adminKey) out = out.split(this.adminKey).join('<admin-key>');
    for (const p of this.logPaths) out = out.split(p).join('<log-path>');
    return out;
  }

  value(v, key, parent) {
    if (Array.isArray(v)) return v.map((x) => this.value(x, key, parent));
    if (v && typeof v === 'object') {
      const out = {};
      for (const [k, x] of Object.entries(v)) {
        if (k === 'sdp' && typeof x === 'string' && /^v=0/.test(x)) out[k] = this.sdp(x, v.type ?? 'sdp');
        else if (k === 'candidate' && typeof x === 'string' && x.startsWith('candidate:')) {
          const f = x.split(' ');
          out[k] = `<candidate ${++this.cands}: ${f[2]?.toLowerCase()} ${f[7] ?? ''}>`.replace(' >', '>');
        } else out[k] = this.value(x, k, v);
      }
      return out;
    }
    if (typeof v === 'number') {
      if (this.ids.has(v)) return this.ids.get(v);
      if (Number.isInteger(v) && v >= MIN_RANDOM_ID && !['bitrate', 'bitrate_cap', 'current-bitrate'].includes(key)) this.unknownBig.add(`${key}=${v}`);
      return v;
    }
    if (typeof v === 'string') return this.text(v);
    return v;
  }

  step(entry) {
    const m = entry.msg;
    const body = m.raw !== undefined ? this.text(m.raw) : this.value(m);
    return entry.dir === 'send' ? { send: body } : { receive: body };
  }
}

// ---------------------------------------------------------------------------------------------
// Main

async function main() {
  const started = Date.now();
  fs.mkdirSync(OUT, { recursive: true });
  const janus = await startJanus({ address: HOST });
  const shortJanus = await startJanus({ address: HOST, sessionTimeoutS: 3 });
  const adminJanus = await startJanus({ address: HOST, adminKey: true });
  log(`janus ${janus.info.version_string} at ${janus.wsUrl} (session_timeout 60), ${shortJanus.wsUrl} (session_timeout 3), ${adminJanus.wsUrl} (admin_key)`);
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true,
    args: [...chromiumArgs([], { routedPages: true }), SIMULCAST_TRIAL], timeout: 30000 });
  const failures = [];
  try {
    const pages = {};
    for (const n of ['alice', 'bob', 'carol']) pages[n] = await openPage(n);
    log('session ...');
    await sessionScenario(janus);
    log('videoroom ...');
    await videoroomScenario(janus, pages);
    for (const n of ['alice', 'bob', 'carol']) await pages[n].context().close();
    log('audiobridge ...');
    for (const n of ['dave', 'erin']) pages[n] = await openPage(n);
    await audiobridgeScenario(janus, pages);
    for (const n of ['dave', 'erin']) await pages[n].context().close();
    log('errors ...');
    await errorsScenario(janus, adminJanus);
    log('timeout ...');
    pages.gina = await openPage('gina');
    await timeoutScenario(shortJanus, pages);
  } catch (e) {
    failures.push(e);
  } finally {
    await browser.close().catch(() => {});
    const logs = [janus, shortJanus, adminJanus].map((j) => j.log());
    await Promise.all([janus.stop(), shortJanus.stop(), adminJanus.stop()]);
    if (failures.length) {
      console.error(`recording failed: ${failures[0].stack}`);
      console.error(`janus log tail:\n${logs[0].split('\n').slice(-30).join('\n')}`);
      process.exitCode = 1;
    }
  }
  if (failures.length) return;

  if (RAW) {
    fs.mkdirSync(RAW, { recursive: true });
    for (const p of allParties) fs.writeFileSync(path.join(RAW, `${p.name}.json`), JSON.stringify(p.ws.log, null, 1));
  }

  // One normalizer per file: ids numbered by first appearance, consistent across its exchanges.
  const allEntries = allParties.flatMap((p) => p.ws.log).sort((a, b) => a.at - b.at);
  const summary = [];
  for (const [file, list] of recordings) {
    const norm = new Normalizer({ hostAddress: HOST, adminKey: adminJanus.adminKey,
      logPaths: [janus, shortJanus, adminJanus].map((j) => j.logPath) });
    const parties = new Set(list.map((x) => x.party));
    for (const e of allEntries) if ([...parties].some((p) => p.ws.log.includes(e))) norm.learn(e);
    // Number placeholders in time order across the file.
    const exchanges = list.map(({ name, connection, description, party, from, to }) => ({
      name, connection, description, steps: party.ws.log.slice(from, to).map((e) => norm.step(e)),
    })).filter((x) => x.steps.length || console.warn(`  ${file}: "${x.name}" (${x.connection}) recorded nothing; left out`));
    const names = exchanges.map((x) => x.name);
    check(new Set(names).size === names.length, `exchange names unique in ${file}`, names);
    if (norm.unknownBig.size) console.warn(`  ${file}: large numbers left as they are: ${[...norm.unknownBig].join(', ')}`);
    const text = `${JSON.stringify(exchanges, null, 2)}\n`;
    fs.writeFileSync(path.join(OUT, `${file}.json`), text);
    summary.push(`${file}.json: ${exchanges.length} exchanges, ${exchanges.reduce((n, x) => n + x.steps.length, 0)} steps`);
  }
  log(summary.map((s) => `  wrote ${path.relative(ROOT, OUT)}/${s}`).join('\n'));
  log(`done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

main().catch((e) => { console.error(e.stack || e); process.exit(1); });
