// The runnable examples work as shipped: examples/video-call and examples/chat, opened by URL
// (?room=&name=&autojoin=1) from the server, two pages each.
import { test, before, after, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { Env, waitUntil } from './harness.mjs';

let env;
before(async () => { env = await Env.create(); });
beforeEach(() => { if (env) env.allPeers = []; });
afterEach(async () => { await env?.closePeers(); });

after(async () => { await env?.close(); });

async function pair(path, room) {
  const a = await env.openPeer({ room, name: 'ann', path });
  a.id = (await a.waitJoined()).peerId;
  const b = await env.openPeer({ room, name: 'ben', path });
  b.id = (await b.waitJoined()).peerId;
  return [a, b];
}

test('(f) examples/video-call: two peers decode each other\'s video', async (ctx) => {
  const [a, b] = await pair('/examples/video-call/index.html', `vc-${process.pid}`);
  await a.waitDecodingFrom(1);
  await b.waitDecodingFrom(1);
  // The example shows the remote video: a <video> element playing a live remote track.
  for (const p of [a, b]) {
    const playing = await p.evaluate(() => [...document.querySelectorAll('video')].filter((v) =>
      v.srcObject && v.readyState >= 2 && v.videoWidth > 0 && !v.paused).length);
    assert.ok(playing >= 1, `${p.name}: at least one playing <video> element (got ${playing})`);
  }
  env.checkPages(ctx);
});

test('(f) examples/chat: two peers exchange messages', async (ctx) => {
  const [a, b] = await pair('/examples/chat/index.html', `chat-${process.pid}`);
  await a.waitChannelsOpen(1);
  await b.waitChannelsOpen(1);
  // ann types into the example's chat form; ben uses the API.
  await a.page.fill('#text', 'ann says hi');
  await a.page.press('#text', 'Enter');
  await b.send('ben says hello');
  const fromA = await b.waitEvent('message', (e) => e.data === 'ann says hi');
  const fromB = await a.waitEvent('message', (e) => e.data === 'ben says hello');
  assert.equal(fromA.from, a.id);
  assert.equal(fromB.from, b.id);
  // The example puts received messages on screen (#log), with the sender's name.
  for (const [p, text, who] of [[a, 'ben says hello', 'ben'], [b, 'ann says hi', 'ann']]) {
    await waitUntil(() => p.evaluate(([text, who]) => [...document.querySelectorAll('#log li')]
      .some((li) => li.textContent === `${who}: ${text}`), [text, who]),
    { timeout: 5000, message: `${p.name}: #log shows "${who}: ${text}"` });
  }
  env.checkPages(ctx);
});
