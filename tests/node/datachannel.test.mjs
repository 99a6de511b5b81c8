// The DataChannel protocol through the wasm module: the shared frame vectors, and two DataCore
// instances wired back to back the way two browsers' DataPlanes are (bytes out of one core's
// `send` actions into the other's receive()), with the glue's duties done by this file.
import { test, describe, before } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import createChorusCore from '../../dist/chorus-core.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const vectors = JSON.parse(fs.readFileSync(path.join(ROOT, 'tests/vectors/datachannel.json'), 'utf8'));
const enc = new TextEncoder();
const dec = new TextDecoder();

let mod;
before(async () => { mod = await createChorusCore(); });

describe('shared frame vectors through parseDataFrame', () => {
  for (const v of vectors.frames) {
    test(v.name, () => assert.deepEqual(JSON.parse(mod.parseDataFrame(v.input)), v.expect));
  }
});

/** Deterministic file bytes: byte i of the file. */
const fileByte = (i) => (i * 31 + (i >>> 12)) & 255;
function fileSlice(offset, length) {
  const b = new Uint8Array(length);
  for (let i = 0; i < length; i++) b[i] = fileByte(offset + i);
  return b;
}

/**
 * Two cores, A (whose peer is "B") and B (peer "A"). step() delivers every output: frames go to
 * the other core (optionally through `tamper`), reads are served from fileSlice, received file
 * data is hashed and acknowledged as written (unless `holdWrites`), events are recorded.
 * Each channel's bufferedAmount grows with what a step sends and drains between steps, as a
 * real channel's does (so the cores' ceilings and priorities show).
 */
function wire({ config = {}, tamper = null, holdWrites = false } = {}) {
  const cores = { A: new mod.DataCore(JSON.stringify(config)), B: new mod.DataCore(JSON.stringify(config)) };
  const other = { A: 'B', B: 'A' };
  const events = { A: [], B: [] };
  const frames = { A: [], B: [] }; // [{channel, type}] sent by each side
  const received = { A: new Map(), B: new Map() }; // transfer -> {hash, bytes}
  let now = 0;
  const put = (core, bytes) => core.inbox(bytes.byteLength).set(bytes);
  const step = () => {
    let moved = false;
    for (const name of ['A', 'B']) {
      const core = cores[name];
      const buffered = [0, 0, 0];
      for (let ch = 0; ch < 3; ch++) core.setBufferedAmount(other[name], ch, 0);
      for (let s = core.poll(now); s; s = core.poll(now)) {
        moved = true;
        const o = JSON.parse(s);
        if (o.action === 'send') {
          let bytes = core.payload().slice();
          frames[name].push({ channel: o.channel, type: bytes[1] });
          buffered[o.channel] += bytes.length;
          core.setBufferedAmount(o.peer, o.channel, buffered[o.channel]);
          if (tamper) bytes = tamper(bytes, o.channel);
          if (!bytes) continue;
          const to = cores[other[name]];
          put(to, bytes);
          to.receive(name, o.channel, now);
        } else if (o.action === 'read-file') {
          put(core, fileSlice(o.offset, o.length));
          core.fileData(o.peer, o.transfer, o.offset, now);
        } else if (o.action === 'configure-channel') {
          // nothing to carry out without a real channel
        } else if (o.event === 'file-data') {
          const r = received[name].get(o.transfer) ?? { hash: crypto.createHash('sha256'), bytes: 0 };
          received[name].set(o.transfer, r);
          const data = core.payload();
          r.hash.update(data);
          r.bytes += data.length;
          if (!holdWrites) core.handle(JSON.stringify({ type: 'file-written', peer: o.peer, transfer: o.transfer, bytes: o.offset + data.length }), now);
        } else if (o.event === 'message') {
          const data = core.payload();
          events[name].push({ ...o, data: o.kind === 'binary' ? data.slice() : dec.decode(data) });
        } else {
          events[name].push(o);
        }
      }
    }
    now += 1;
    return moved;
  };
  const run = (max = 100000) => { for (let i = 0; i < max && step(); i++); };
  const open = (channels = [0, 1, 2]) => {
    for (const name of ['A', 'B']) {
      for (const channel of channels) {
        cores[name].handle(JSON.stringify({ type: 'channel-open', peer: other[name], channel, maxMessageSize: 262144 }), now);
      }
    }
  };
  const send = (name, kind, data, reliable = true) => {
    put(cores[name], typeof data === 'string' ? enc.encode(data) : data);
    return cores[name].send(other[name], kind, reliable);
  };
  const close = () => { cores.A.delete(); cores.B.delete(); };
  return { cores, events, frames, received, step, run, open, send, close, now: () => now };
}

test('text, json and binary messages arrive whole, with their kind and channel', () => {
  const w = wire();
  w.open();
  assert.equal(w.send('A', 1, 'hello'), '');
  assert.equal(w.send('A', 2, JSON.stringify({ a: [1, 2] })), '');
  assert.equal(w.send('A', 3, new Uint8Array([1, 2, 3])), '');
  assert.equal(w.send('A', 1, 'lossy', false), '');
  w.run();
  const got = w.events.B.filter((e) => e.event === 'message');
  const reliable = got.filter((e) => e.reliable);
  assert.deepEqual(reliable.map((e) => e.kind), ['text', 'json', 'binary'], 'in order on channel 0');
  assert.equal(reliable[0].data, 'hello');
  assert.deepEqual(JSON.parse(reliable[1].data), { a: [1, 2] });
  assert.deepEqual([...reliable[2].data], [1, 2, 3]);
  const lossy = got.filter((e) => !e.reliable);
  assert.deepEqual(lossy.map((e) => [e.kind, e.data]), [['text', 'lossy']]);
  assert.deepEqual(w.frames.A.map((f) => f.channel).sort(), [0, 0, 0, 1]);
  w.close();
});

test('a 5 MiB message is chunked to maxMessageSize and a later chat overtakes it', () => {
  const w = wire();
  w.open();
  const big = new Uint8Array(5 * 1024 * 1024);
  big[0] = 7; big[big.length - 1] = 9;
  assert.equal(w.send('A', 3, big), '');
  w.step(); // the first chunks go out
  assert.equal(w.send('A', 1, 'chat'), '');
  w.run();
  const got = w.events.B.filter((e) => e.event === 'message');
  assert.deepEqual(got.map((e) => e.kind), ['text', 'binary'], 'the chat arrived first');
  assert.equal(got[1].data.length, big.length);
  assert.equal(got[1].data[0], 7);
  assert.equal(got[1].data.at(-1), 9);
  assert.ok(w.frames.A.length >= 20, 'chunked into 256 KiB frames');
  w.close();
});

test('a file arrives in order with the SHA-256 both sides agree on', () => {
  const size = 20 * 1024 * 1024 + 12345;
  const w = wire({ config: { progressIntervalMs: 0 } });
  w.open();
  const r = JSON.parse(w.cores.A.sendFile('B', size, 'f.bin', 'application/octet-stream', 0));
  assert.ok(r.transfer > 0);
  w.run();
  const expected = crypto.createHash('sha256').update(fileSlice(0, size)).digest('hex');
  const incoming = w.events.B.find((e) => e.event === 'transfer-incoming');
  assert.deepEqual([incoming.name, incoming.type, incoming.size], ['f.bin', 'application/octet-stream', size]);
  const rx = w.received.B.get(r.transfer);
  assert.equal(rx.bytes, size);
  assert.equal(rx.hash.digest('hex'), expected, 'the bytes the receiver wrote');
  const done = (name) => w.events[name].find((e) => e.event === 'transfer-complete');
  assert.equal(done('B').sha256, expected);
  assert.equal(done('A').sha256, expected);
  assert.equal(done('A').verified, true);
  // File frames went on the bulk channel, control (window, ack) on channel 0.
  assert.ok(w.frames.A.filter((f) => f.type === 5).every((f) => f.channel === 2));
  assert.ok(w.frames.B.every((f) => f.channel === 0));
  const progress = w.events.A.filter((e) => e.event === 'transfer-progress').map((e) => e.bytes);
  assert.ok(progress.length > 2 && progress.every((b, i) => i === 0 || b >= progress[i - 1]));
  assert.equal(progress.at(-1), size);
  w.close();
});

test('without the bulk channel, file frames share channel 0', () => {
  const w = wire();
  w.open([0]);
  const r = JSON.parse(w.cores.A.sendFile('B', 300000, 'x', '', 0));
  w.run();
  assert.ok(w.events.B.some((e) => e.event === 'transfer-complete' && e.transfer === r.transfer));
  assert.ok(w.frames.A.every((f) => f.channel === 0));
  w.close();
});

test('a receiver that writes nothing holds the sender at its window', () => {
  const w = wire({ holdWrites: true, config: { receiveWindow: 1048576 } });
  w.open();
  JSON.parse(w.cores.A.sendFile('B', 64 * 1024 * 1024, 'big', '', 0));
  w.run();
  const got = [...w.received.B.values()][0].bytes;
  assert.equal(got, 1048576, 'exactly one window arrived, no more');
});

test('cancel from the receiver stops the sender; later frames are dropped quietly', () => {
  const w = wire();
  w.open();
  const { transfer } = JSON.parse(w.cores.A.sendFile('B', 64 * 1024 * 1024, 'x', '', 0));
  for (let i = 0; i < 10; i++) w.step();
  w.cores.B.handle(JSON.stringify({ type: 'cancel-transfer', peer: 'A', transfer, direction: 'receive', reason: 'no thanks' }), w.now());
  const atCancel = w.received.B.get(transfer).bytes;
  const framesAtCancel = w.frames.A.length;
  w.run();
  const a = w.events.A.find((e) => e.event === 'transfer-cancelled');
  assert.deepEqual([a.by, a.reason, a.direction], ['remote', 'no thanks', 'send']);
  const b = w.events.B.find((e) => e.event === 'transfer-cancelled');
  assert.deepEqual([b.by, b.direction], ['local', 'receive']);
  assert.ok(atCancel > 0 && atCancel < 16 * 1024 * 1024, `${atCancel} bytes before the cancel`);
  assert.equal(w.received.B.get(transfer).bytes, atCancel, 'nothing written after the cancel');
  // The sender learns of it on its next step: at most one step's worth of frames follows.
  assert.ok(w.frames.A.length - framesAtCancel <= 4, `${w.frames.A.length - framesAtCancel} frames after`);
  assert.deepEqual(w.events.B.filter((e) => e.event === 'error'), [], 'frames in flight are not errors');
  w.close();
});

test('a corrupted chunk fails the transfer with integrity-mismatch on both sides', () => {
  let flipped = false;
  const w = wire({
    tamper: (bytes, channel) => {
      if (!flipped && channel === 2 && bytes[1] === 5 && bytes.length > 1000) { bytes[500] ^= 1; flipped = true; }
      return bytes;
    },
  });
  w.open();
  w.cores.A.sendFile('B', 3 * 1024 * 1024, 'x', '', 0);
  w.run();
  for (const name of ['A', 'B']) {
    const f = w.events[name].find((e) => e.event === 'transfer-failed');
    assert.equal(f?.code, 'integrity-mismatch', `${name}: ${JSON.stringify(w.events[name].slice(-3))}`);
  }
});

test('bad frames get typed errors and the channel goes on', () => {
  const w = wire();
  w.open();
  const inject = (hex, channel = 0) => {
    const b = Buffer.from(hex, 'hex');
    w.cores.B.inbox(b.length).set(b);
    w.cores.B.receive('A', channel, w.now());
  };
  for (const v of vectors.frames.filter((x) => x.expect.error)) inject(v.input);
  // A chunk of a message that lies about its length, then a file chunk for no transfer.
  inject('0101000000000063000000000000000a6162');  // 2 of 10 bytes, never finished: kept partial
  inject('01050000000000640000000000000000ff');    // file-chunk, unknown transfer
  w.run();
  const errors = w.events.B.filter((e) => e.event === 'error').map((e) => e.code);
  const expected = vectors.frames.filter((x) => x.expect.error).map((x) => x.expect.error);
  assert.deepEqual(errors, [...expected, 'bad-frame']);
  // Still working:
  w.send('A', 1, 'after the garbage');
  w.run();
  assert.ok(w.events.B.some((e) => e.event === 'message' && e.data === 'after the garbage'));
  w.close();
});

test('10,000 partial messages: bounded, each refused one is reported', () => {
  const w = wire();
  w.open();
  const frame = Buffer.alloc(16 + 8);
  for (let id = 1; id <= 10000; id++) {
    // Ids far from the ones A's own messages use (1, 2, ...): a peer that collides with its
    // own ids only spoils its own messages.
    frame.writeUInt8(1, 0); frame.writeUInt8(3, 1); frame.writeUInt32BE(1e6 + id, 4);
    frame.writeUInt32BE(0, 8); frame.writeUInt32BE(1000, 12); // 8 of 1000 bytes
    w.cores.B.inbox(frame.length).set(frame);
    w.cores.B.receive('A', 0, 0);
  }
  w.run();
  const errors = w.events.B.filter((e) => e.event === 'error');
  assert.ok(errors.length >= 9000, `${errors.length} refusals`);
  assert.ok(errors.every((e) => e.code === 'reassembly-limit'));
  w.send('A', 1, 'still fine');
  w.run();
  assert.ok(w.events.B.some((e) => e.event === 'message' && e.data === 'still fine'));
  w.close();
});

test('glue mistakes get typed answers, not exceptions', () => {
  const core = new mod.DataCore('{}');
  assert.equal(JSON.parse(core.sendFile('nobody', 10, 'x', '', 0)).code, 'not-connected');
  core.inbox(3).set([1, 2, 3]);
  assert.equal(JSON.parse(core.send('p', 9, true)).code, 'bad-message');
  core.handle('not json', 0);
  core.handle(JSON.stringify({ type: 'channel-open', peer: 'p', channel: 7 }), 0);
  core.handle(JSON.stringify({ type: 'warp', peer: 'p' }), 0);
  const codes = [];
  for (let s = core.poll(0); s; s = core.poll(0)) codes.push(JSON.parse(s).code);
  assert.deepEqual(codes, ['bad-json', 'bad-message', 'unknown-type']);
  const big = new Uint8Array(17 * 1024 * 1024);
  core.inbox(big.length).set(big);
  assert.equal(JSON.parse(core.send('p', 3, true)).code, 'message-too-large');
  core.delete();
});
