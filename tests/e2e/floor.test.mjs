// Push-to-talk floor control end to end: real Chromium pages on the public Room API
// (tests/e2e/pages/floor.html), the real signaling server, the wasm cores on both sides.
// The voice itself is tested with the voice path; this is who may talk, and who hears of it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Env, waitUntil } from './harness.mjs';

let env;
before(async () => {
  env = await Env.create({ routedPages: true });
  env.serveFromDisk('/e2e/', 'tests/e2e/pages');
});
after(async () => { await env?.close(); });

const room = `floor-${process.pid}`;

async function open(name, query = {}) {
  const p = await env.openPeer({ room, name, path: '/e2e/floor.html', query });
  p.id = (await p.waitJoined()).peerId;
  return p;
}

const request = (p) => p.evaluate(() => window.ptt.request());
const log = (p) => p.evaluate(() => window.ptt.log);
/** Waits for a floor event on `p` matching `pred`; returns it. */
const waitLog = (p, pred, message) => waitUntil(async () => (await log(p)).find(pred),
  { timeout: 5000, message: `${p.name}: ${message}` });

test('one talker at a time: granted, denied with the holder, granted after release; a third page sees it all', async (ctx) => {
  const a = await open('alice');
  const b = await open('bob');
  const c = await open('carol');

  const first = await request(a);
  assert.deepEqual(first, { granted: { epoch: 1, maxTalkMs: 60000 } });
  assert.deepEqual(await a.evaluate(() => window.ptt.room.floor), { holder: a.id, epoch: 1, reason: 'granted' },
    'room.floor is up to date when the request resolves');

  const second = await request(b);
  assert.equal(second.error?.name, 'ChorusError', JSON.stringify(second));
  assert.deepEqual(second.error, { name: 'ChorusError', code: 'floor-denied', reason: 'busy', holder: a.id });
  const denied = await waitLog(b, (e) => e.type === 'floordenied', 'floordenied event');
  assert.equal(denied.holder, a.id);
  assert.equal(denied.peer, a.id, 'the event names the holder\'s Peer');

  const talking = await waitLog(c, (e) => e.type === 'floor' && e.holder === a.id, 'floor: alice talks');
  assert.deepEqual([talking.epoch, talking.reason, talking.peer], [1, 'granted', a.id]);

  await a.evaluate(() => window.ptt.room.releaseFloor());
  await waitLog(c, (e) => e.type === 'floor' && e.holder === null && e.reason === 'released', 'floor: released');
  assert.deepEqual(await request(b), { granted: { epoch: 2, maxTalkMs: 60000 } });
  await waitLog(c, (e) => e.type === 'floor' && e.holder === b.id && e.epoch === 2, 'floor: bob talks');

  // A late joiner knows who talks from its welcome.
  const d = await open('dave');
  assert.deepEqual(await d.evaluate(() => window.ptt.joinedFloor), { holder: b.id, epoch: 2, reason: 'granted' });

  // A dispatcher preempts: bob is told, with who took it.
  const e = await open('erin', { role: 'dispatcher' });
  await waitUntil(() => c.evaluate((id) => window.ptt.room.peers.get(id)?.role, e.id),
    { timeout: 5000, message: 'carol sees erin as a dispatcher' });
  assert.equal(await c.evaluate((id) => window.ptt.room.peers.get(id).role, e.id), 'dispatcher');
  assert.deepEqual(await request(e), { granted: { epoch: 3, maxTalkMs: 60000 } });
  const revoked = await waitLog(b, (x) => x.type === 'floorrevoked', 'floorrevoked');
  assert.deepEqual([revoked.reason, revoked.epoch, revoked.holder], ['preempted', 2, e.id]);

  // Leaving frees the floor for everyone.
  await e.close();
  await waitLog(c, (x) => x.type === 'floor' && x.holder === null && x.reason === 'left', 'floor: left');
  env.checkPages(ctx);
});
