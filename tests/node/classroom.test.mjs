// The classroom demo's DOM-free parts (web/classroom/): the active-speaker detector's hysteresis
// and the app protocol's checks. The page itself is tested in tests/e2e/classroom.test.mjs.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { SpeakerDetector } from '../../web/classroom/speaker.js';
import * as proto from '../../web/classroom/protocol.js';

/** Feeds `frames` (each a {id: level} object) 100 ms apart; returns the highlight after each. */
function run(detector, frames, start = 0) {
  return frames.map((f, i) => detector.update(new Map(Object.entries(f)), start + (i + 1) * 100));
}

// Speech-like: loud syllables with quieter samples between (the fake microphone after WebRTC's
// noise suppression looks like this too: a peak of ~0.033 every 500 ms).
const speech = (n, scale = 1) => Array.from({ length: n }, (_, i) => [0.032, 0.025, 0.019, 0.014, 0.01][i % 5] * scale);

describe('SpeakerDetector', () => {
  test('silence and background noise highlight nobody', () => {
    const d = new SpeakerDetector();
    const out = run(d, Array.from({ length: 50 }, (_, i) => ({ a: 0, b: 0.004 + (i % 3) * 0.001 })));
    assert.ok(out.every((x) => x === null), JSON.stringify(out));
  });

  test('one loud sample (a cough, a door) is not a speaker', () => {
    const d = new SpeakerDetector();
    const frames = Array.from({ length: 30 }, () => ({ a: 0.003 }));
    frames[10] = { a: 0.4 };
    assert.ok(run(d, frames).every((x) => x === null));
  });

  test('speech is highlighted within half a second and stays through the gaps between syllables', () => {
    const d = new SpeakerDetector();
    const out = run(d, speech(60).map((a) => ({ a, b: 0 })));
    const first = out.indexOf('a');
    assert.ok(first >= 0 && first <= 4, `highlighted at sample ${first}`);
    assert.ok(out.slice(first).every((x) => x === 'a'), `dropped during speech: ${JSON.stringify(out)}`);
  });

  test('the highlight ends only after releaseMs of quiet, not at the first pause', () => {
    const d = new SpeakerDetector({ releaseMs: 1200 });
    run(d, speech(20).map((a) => ({ a })));
    assert.equal(d.current, 'a');
    // A 0.8 s pause between sentences keeps it.
    const pause = run(d, Array.from({ length: 8 }, () => ({ a: 0.002 })), 2000);
    assert.ok(pause.every((x) => x === 'a'), JSON.stringify(pause));
    run(d, speech(10).map((a) => ({ a })), 2800);
    // Then quiet for good: still highlighted at 1.1 s, gone by 1.3 s.
    const quiet = run(d, Array.from({ length: 15 }, () => ({ a: 0.002 })), 3800);
    assert.equal(quiet[9], 'a', JSON.stringify(quiet));
    assert.equal(quiet[13], null, JSON.stringify(quiet));
  });

  test('two voices of similar loudness: the highlight does not flicker between them', () => {
    const d = new SpeakerDetector();
    const a = speech(80);
    const b = speech(80).map((x, i) => (i % 2 ? x * 1.3 : x * 0.8));
    const out = run(d, a.map((x, i) => ({ a: x, b: b[(i + 2) % 80] })));
    const changes = out.filter((x, i) => i > 0 && x !== out[i - 1]).length;
    assert.ok(changes <= 1, `${changes} changes: ${JSON.stringify(out)}`);
  });

  test('a clearly louder voice takes over after switchMs, not at once', () => {
    const d = new SpeakerDetector({ switchMs: 700 });
    run(d, speech(20).map((a) => ({ a, b: 0 })));
    assert.equal(d.current, 'a');
    const out = run(d, speech(30).map((a, i) => ({ a, b: speech(30, 6)[i] })), 2000);
    const switched = out.indexOf('b');
    assert.ok(switched >= 7 && switched <= 14, `switched at sample ${switched}: ${JSON.stringify(out)}`);
    assert.ok(out.slice(switched).every((x) => x === 'b'));
  });

  test('a speaker who leaves (no level any more) loses the highlight at once', () => {
    const d = new SpeakerDetector();
    run(d, speech(20).map((a) => ({ a, b: 0 })));
    assert.equal(d.current, 'a');
    assert.equal(run(d, [{ b: 0 }], 2000)[0], null);
  });
});

describe('classroom protocol', () => {
  test('builds the four messages', () => {
    assert.deepEqual(proto.hand(1), { type: 'hand', up: true });
    assert.deepEqual(proto.promote('p1', true), { type: 'promote', peer: 'p1', on: true });
    assert.deepEqual(proto.screen(undefined), { type: 'screen', track: null });
    assert.deepEqual(proto.media({ mic: 0, camera: 1 }), { type: 'media', mic: false, camera: true });
  });

  test('promote and screen count only from a teacher', () => {
    assert.deepEqual(proto.parse({ type: 'promote', peer: 'p1', on: true }, 'teacher'), proto.promote('p1', true));
    assert.equal(proto.parse({ type: 'promote', peer: 'p1', on: true }, 'student'), null);
    assert.equal(proto.parse({ type: 'screen', track: 't' }, 'talker'), null);
    assert.deepEqual(proto.parse({ type: 'screen', track: null }, 'teacher'), proto.screen(null));
    assert.deepEqual(proto.parse({ type: 'hand', up: true }, 'student'), proto.hand(true));
  });

  test('text holding JSON is accepted; malformed or unknown messages are not', () => {
    assert.deepEqual(proto.parse('{"type":"hand","up":false}', 'student'), proto.hand(false));
    for (const bad of ['not json', '[1]', null, 42, { type: 'hand' }, { type: 'hand', up: 'yes' },
      { type: 'promote', peer: '', on: true }, { type: 'promote', peer: 'x'.repeat(300), on: true },
      { type: 'promote', peer: 'p', on: 1 }, { type: 'screen', track: 5 }, { type: 'media', mic: true },
      { type: 'chat', text: 'hi' }]) {
      assert.equal(proto.parse(bad, 'teacher'), null, JSON.stringify(bad));
    }
  });

  test('extra fields are dropped', () => {
    assert.deepEqual(proto.parse({ type: 'hand', up: true, html: '<img>' }, 'student'), { type: 'hand', up: true });
  });
});
