// js-glue/stats-sample.js: a recorded Chromium getStats() (tests/vectors/stats/) turned into the
// AbrCore's `Connection` (docs/architecture.md, "Bitrate and quality").
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { connectionFromStats, sampleConnection } from '../../js-glue/stats-sample.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const mesh = JSON.parse(fs.readFileSync(path.join(ROOT, 'tests/vectors/stats/chromium-mesh.json'), 'utf8'));
const row = (id) => mesh.stats.find((s) => s.id === id);
const ofType = (type) => mesh.stats.filter((s) => s.type === type);

test('a mesh connection: pair, outbound with media-source, remote-inbound, inbound with the peer', () => {
  const c = connectionFromStats(mesh.stats, { id: mesh.remotePeer, path: 'mesh', peerOfMid: () => mesh.remotePeer });
  assert.equal(c.id, mesh.remotePeer);
  assert.equal(c.path, 'mesh');

  const transport = ofType('transport')[0];
  const pair = row(transport.selectedCandidatePairId);
  assert.deepEqual(c.pair, {
    availableOutgoingBitrate: pair.availableOutgoingBitrate, currentRoundTripTime: pair.currentRoundTripTime,
    bytesSent: pair.bytesSent, bytesReceived: pair.bytesReceived,
  });

  // One outbound per encoding, values copied unchanged; the video one has its source's size.
  assert.equal(c.outbound.length, ofType('outbound-rtp').length);
  const video = c.outbound.find((o) => o.kind === 'video');
  const vRow = ofType('outbound-rtp').find((s) => s.kind === 'video');
  const source = row(vRow.mediaSourceId);
  assert.deepEqual(video, {
    mid: vRow.mid, kind: 'video', bytesSent: vRow.bytesSent, packetsSent: vRow.packetsSent,
    framesPerSecond: vRow.framesPerSecond, frameWidth: vRow.frameWidth, frameHeight: vRow.frameHeight,
    qualityLimitationReason: vRow.qualityLimitationReason, active: vRow.active,
    sourceWidth: source.width, sourceHeight: source.height, sourceFramesPerSecond: source.framesPerSecond,
  });
  const audio = c.outbound.find((o) => o.kind === 'audio');
  assert.equal(audio.mid, '0');
  assert.ok(!('sourceWidth' in audio), 'no video source fields on audio');
  assert.ok(!('rid' in audio), 'no rid without simulcast');

  // remote-inbound-rtp takes mid and kind from its outbound-rtp (localId).
  assert.equal(c.remoteInbound.length, ofType('remote-inbound-rtp').length);
  for (const ri of c.remoteInbound) {
    const src = ofType('remote-inbound-rtp').find((s) => row(s.localId).mid === ri.mid);
    assert.equal(ri.kind, row(src.localId).kind);
    assert.equal(ri.packetsLost, src.packetsLost);
    assert.equal(ri.jitter, src.jitter);
    assert.equal(ri.roundTripTime, src.roundTripTime);
    assert.equal(ri.fractionLost, src.fractionLost);
  }

  assert.equal(c.inbound.length, 2);
  const vIn = c.inbound.find((i) => i.kind === 'video');
  const vInRow = ofType('inbound-rtp').find((s) => s.kind === 'video');
  assert.equal(vIn.peer, mesh.remotePeer);
  for (const f of ['bytesReceived', 'packetsReceived', 'packetsLost', 'jitter', 'framesPerSecond', 'frameWidth',
    'frameHeight', 'framesDecoded', 'freezeCount', 'totalFreezesDuration']) {
    assert.equal(vIn[f], vInRow[f], f);
  }
  const aIn = c.inbound.find((i) => i.kind === 'audio');
  assert.equal(typeof aIn.audioLevel, 'number');
  assert.ok(!('framesDecoded' in aIn));

  // Everything is JSON as the core reads it: no undefined, no report objects.
  assert.deepEqual(JSON.parse(JSON.stringify(c)), c);
});

test('the mix of an AudioBridge has no peer; a subscriber maps mids to peers', () => {
  const bridge = connectionFromStats(mesh.stats, { id: 'audiobridge', path: 'bridge', peerOfMid: () => null });
  assert.ok(bridge.inbound.every((i) => !('peer' in i)));
  const feeds = { 0: 'p-audio', 1: 'p-video' };
  const sub = connectionFromStats(mesh.stats, { id: 'subscriber', path: 'subscribe', peerOfMid: (mid) => feeds[mid] });
  assert.deepEqual(sub.inbound.map((i) => [i.mid, i.peer]).sort(), [['0', 'p-audio'], ['1', 'p-video']]);
});

test('pair: a nominated succeeded pair without transport; simulcast rids; rows without a match', () => {
  const rows = [
    { id: 'P1', type: 'candidate-pair', nominated: false, state: 'succeeded', availableOutgoingBitrate: 1 },
    { id: 'P2', type: 'candidate-pair', nominated: true, state: 'succeeded', availableOutgoingBitrate: 300000, currentRoundTripTime: 0.05 },
    { id: 'O1', type: 'outbound-rtp', kind: 'video', mid: '1', rid: 'h', bytesSent: 10, packetsSent: 1, active: false },
    { id: 'O2', type: 'outbound-rtp', kind: 'video', mid: '1', rid: 'l', bytesSent: 20, packetsSent: 2, active: true },
    { id: 'R1', type: 'remote-inbound-rtp', kind: 'video', localId: 'O2', packetsLost: 3, jitter: 0.01 },
    { id: 'R2', type: 'remote-inbound-rtp', kind: 'video', localId: 'gone', packetsLost: 0, jitter: 0 },
    { id: 'O3', type: 'outbound-rtp', kind: 'audio', bytesSent: 5 }, // no mid yet: not addressable
  ];
  const c = connectionFromStats(rows, { id: 'publisher', path: 'publish' });
  assert.deepEqual(c.pair, { availableOutgoingBitrate: 300000, currentRoundTripTime: 0.05 });
  assert.deepEqual(c.outbound.map((o) => [o.rid, o.active]), [['h', false], ['l', true]]);
  assert.deepEqual(c.remoteInbound, [{ mid: '1', kind: 'video', rid: 'l', packetsLost: 3, jitter: 0.01 }]);
  assert.deepEqual(c.inbound, []);
  // No pair at all: the field is absent, not null.
  assert.ok(!('pair' in connectionFromStats([], { id: 'x', path: 'mesh' })));
});

test("the capture rate of the sent track wins over the media-source's (Chromium counts it after maxFramerate)", async () => {
  const track = { kind: 'video', readyState: 'live', getSettings: () => ({ frameRate: 30, width: 640, height: 480 }) };
  const pc = {
    getStats: async () => mesh.stats,
    getTransceivers: () => [{ mid: '1', sender: { track } }, { mid: '0', sender: { track: null } }],
  };
  const c = await sampleConnection(pc, { id: 'b', path: 'mesh' });
  const video = c.outbound.find((o) => o.kind === 'video');
  assert.equal(video.sourceFramesPerSecond, 30);
  // The size stays the media-source's (the frames as captured).
  assert.equal(video.sourceWidth, 320);
  assert.equal(video.sourceHeight, 240);
});

test('sampleConnection reads the pc once (an RTCStatsReport is a Map)', async () => {
  let calls = 0;
  const pc = { getStats: async () => { calls++; return new Map(mesh.stats.map((s) => [s.id, s])); } };
  const c = await sampleConnection(pc, { id: 'b', path: 'mesh', peerOfMid: () => 'b' });
  assert.equal(calls, 1);
  assert.deepEqual(c, connectionFromStats(mesh.stats, { id: 'b', path: 'mesh', peerOfMid: () => 'b' }));
});

// The whole loop without a browser: Bitrate samples a stand-in pc (the recorded report, its
// counters growing), the real AbrCore from dist/ decides, and Bitrate executes on the sender.
const media = await import('../../dist/chorus-media.mjs').then(({ default: create }) => create(), () => null);

test('Bitrate: samples go to the AbrCore, its set-sender-parameters reach the sender; control: false sets nothing',
  { skip: typeof media?.AbrCore !== 'function' && 'dist/chorus-media has no AbrCore' }, async () => {
    const { Bitrate } = await import('../../js-glue/bitrate.js');
    const COUNTERS = ['bytesSent', 'bytesReceived', 'packetsSent', 'packetsReceived', 'framesDecoded'];
    const run = async (control) => {
      const calls = [];
      const seen = { stats: [], quality: [], warnings: [] };
      const params = { transactionId: 't', encodings: [{ active: true }] };
      const sender = {
        getParameters: () => structuredClone(params),
        setParameters: async (p) => { calls.push(structuredClone(p.encodings)); params.encodings = p.encodings; },
      };
      let k = 0;
      const pc = {
        connectionState: 'connected',
        getStats: async () => {
          k++;
          return new Map(mesh.stats.map((s) => {
            const r = { ...s };
            for (const c of COUNTERS) if (typeof r[c] === 'number') r[c] = Math.round(r[c] * (1 + k * 0.2));
            return [r.id, r];
          }));
        },
        getTransceivers: () => [{ mid: '1', stopped: false, sender }],
      };
      const id = mesh.remotePeer;
      const bitrate = new Bitrate({
        connections: () => [{ id, path: 'mesh', pc, peerOfMid: () => id }],
        peerConnection: (c) => (c === id ? pc : null),
        setLayer: () => assert.fail('no SFU here'),
        sendLayers: () => assert.fail('no SFU here'),
        onQuality: (ev) => seen.quality.push(ev),
        onStats: (s) => seen.stats.push(s),
        onWarning: (w) => seen.warnings.push(w),
      }, { control });
      bitrate.input({ type: 'view-size', peer: id, width: 320, height: 240 }); // queued until the core runs
      bitrate.start();
      const deadline = Date.now() + 8000;
      while (seen.stats.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      await new Promise((r) => setTimeout(r, 50)); // the setParameters chain
      bitrate.stop();
      return { calls, seen };
    };
    const [on, off] = await Promise.all([run(true), run(false)]);
    for (const { seen } of [on, off]) {
      assert.ok(seen.stats.length >= 2, 'a stats event per sample after the first');
      assert.ok(seen.stats.at(-1).peers[mesh.remotePeer].receiveKbps > 0);
      assert.equal(seen.quality[0]?.peer, mesh.remotePeer);
      assert.deepEqual(seen.warnings, []);
    }
    assert.ok(on.calls.length > 0 && on.calls[0][0].maxBitrate > 0, `setParameters with a maxBitrate: ${JSON.stringify(on.calls)}`);
    assert.deepEqual(off.calls, [], 'control: false leaves the sender alone');
  });
