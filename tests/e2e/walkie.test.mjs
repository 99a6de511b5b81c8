// The walkie-talkie PWA (web/walkie/) end to end: real Chromium pages served by the real
// server, the fake microphone, real pointer and keyboard input on the talk button, IndexedDB
// recording and replay, the service worker offline, and the web app manifest.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Env, waitUntil, sleep } from './harness.mjs';

const ROOM = `walkie-${process.pid}`;
let env, alice, bob, carol;

async function openWalkie(name) {
  const p = await env.openPeer({ room: ROOM, name, path: '/web/walkie/' });
  await p.page.setViewportSize({ width: 1280, height: 800 });
  await ready(p);
  return p;
}

/** Joined, push-to-talk open. */
async function ready(p) {
  await waitUntil(() => p.evaluate(() => window.walkie?.radio.state === 'joined' && !!window.walkie.radio.ptt),
    { timeout: 20000, message: `${p.name}: walkie joined with push-to-talk` })
    .catch(async (e) => {
      const page = await p.evaluate(() => ({ radio: window.walkie?.radio.state, ptt: !!window.walkie?.radio.ptt,
        status: document.getElementById('status')?.textContent, sw: !!navigator.serviceWorker.controller }))
        .catch((err) => String(err));
      e.message += `\n${JSON.stringify(page)}\n${await p.describe()}`;
      throw e;
    });
}

const ui = (p) => p.evaluate(() => {
  const $ = (s) => document.querySelector(s);
  return {
    talk: $('#talk').dataset.state, pressed: $('#talk').getAttribute('aria-pressed'),
    label: $('#talk-label').textContent, sub: $('#talk-sub').textContent,
    onair: $('#onair').dataset.state, talker: $('#talker-name').textContent,
    status: $('#status').textContent, conn: $('#conn-state').dataset.state,
    messages: [...document.querySelectorAll('#recent-list > li')].map((li) => ({
      id: Number(li.dataset.id), who: li.querySelector('.msg-who').textContent, packets: Number(li.dataset.packets), live: li.dataset.live })),
  };
});

async function until(p, pred, message, timeout = 8000) {
  return waitUntil(async () => { const s = await ui(p); return pred(s) ? s : null; }, { timeout, message: `${p.name}: ${message}` });
}

async function mouseDown(p) {
  const button = p.page.locator('#talk');
  await button.scrollIntoViewIfNeeded();
  const box = await button.boundingBox();
  await p.page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
  await p.page.mouse.down();
}

const storedFrom = (p, talker) => p.evaluate(async (talker) =>
  (await window.walkie.store.listMessages()).filter((m) => m.talker === talker), talker);

before(async () => {
  env = await Env.create();
  alice = await openWalkie('Alice');
  bob = await openWalkie('Bob');
  carol = await openWalkie('Carol');
  // Voice rides the unreliable DataChannel: wait until everyone is connected to everyone.
  for (const p of [alice, bob, carol]) await p.waitChannelsOpen(2);
});
after(async () => { await env?.close(); });

test('hold to talk (mouse and Space): listeners see who talks, record the burst in IndexedDB and replay it', async (ctx) => {
  const before = (await storedFrom(bob, 'Alice')).length;
  await mouseDown(alice);
  const talking = await until(alice, (s) => s.talk === 'talking', 'talking after mouse down');
  assert.equal(talking.pressed, 'true');
  assert.match(talking.sub, /^\d+ s left$/);
  // Bob sees Alice on air while her voice plays, and his button says she holds the channel.
  const heard = await until(bob, (s) => s.onair === 'listening' && s.talker === 'Alice', 'Alice on air');
  assert.equal(heard.talk, 'busy');
  assert.equal(heard.label, 'Alice is talking');
  await sleep(1200);
  await alice.page.mouse.up();
  await until(alice, (s) => s.talk === 'idle' && s.pressed === 'false', 'idle after mouse up');
  await until(bob, (s) => s.onair === 'quiet' && s.talk === 'idle', 'channel quiet again');

  // The burst is stored, packet by packet, and finished.
  const stored = await waitUntil(async () => {
    const m = (await storedFrom(bob, 'Alice')).filter((x) => x.done);
    return m.length > before ? m[0] : null;
  }, { timeout: 5000, message: 'Bob stored the burst' });
  assert.equal(stored.channel, ROOM);
  assert.ok(stored.packetCount >= 40, `packets stored: ${stored.packetCount}`);
  assert.ok(stored.duration >= 1000, `duration ${stored.duration} ms`);
  const packets = await bob.evaluate((id) => window.walkie.store.getPackets(id).then((ps) => ps.map((p) => ({ seq: p.seq, n: p.bytes.length }))), stored.id);
  assert.equal(packets.length, stored.packetCount);
  assert.ok(packets.every((p, i) => i === 0 || p.seq > packets[i - 1].seq), 'packets in seq order');
  assert.ok(packets.every((p) => p.n > 0));
  // The list shows it finished (it re-reads the store once per frame).
  await until(bob, (s) => s.messages.some((m) => m.id === stored.id && m.who === 'Alice' && m.packets === stored.packetCount && m.live === 'false'),
    'the finished message in the recent list', 3000);

  // Replay: decoded on the main thread, not silent (the fake microphone beeps), and played.
  const decoded = await bob.evaluate((id) => window.walkie.decode(id), stored.id);
  assert.ok(decoded.samples >= stored.packetCount * 960, JSON.stringify(decoded));
  assert.ok(decoded.rms > 0.01, `decoded RMS ${decoded.rms}`);
  await bob.evaluate(() => { window.walkie.replayPeak = 0; });
  await bob.page.locator(`#recent-list > li[data-id="${stored.id}"] .msg-play`).click();
  await waitUntil(() => bob.evaluate((id) => document.querySelector(`li[data-id="${id}"]`).dataset.state === 'playing', stored.id),
    { timeout: 3000, message: 'replay playing' });
  await waitUntil(() => bob.evaluate((id) => document.querySelector(`li[data-id="${id}"]`).dataset.state === 'idle', stored.id),
    { timeout: stored.duration + 4000, message: 'replay ended' });
  const peak = await bob.evaluate(() => window.walkie.replayPeak);
  assert.ok(peak > 0.01, `replay output RMS peak ${peak}`);

  // Space: held (auto-repeat ignored), released.
  const carolBefore = (await storedFrom(carol, 'Alice')).length;
  await alice.page.keyboard.down('Space');
  await until(alice, (s) => s.talk === 'talking', 'talking while Space is held');
  await alice.page.keyboard.down('Space');  // a repeat: still one burst
  await until(carol, (s) => s.onair === 'listening' && s.talker === 'Alice', 'Carol hears Alice (Space)');
  await sleep(600);
  await alice.page.keyboard.up('Space');
  await until(alice, (s) => s.talk === 'idle', 'idle after Space up');
  await waitUntil(async () => (await storedFrom(carol, 'Alice')).filter((m) => m.done && m.packetCount > 0).length === carolBefore + 1,
    { timeout: 5000, message: 'Carol stored exactly one burst for the Space hold' });

  // Sliding off the button ends the hold although the mouse is still down.
  await mouseDown(alice);
  await until(alice, (s) => s.talk === 'talking', 'talking again');
  await alice.page.mouse.move(5, 5, { steps: 4 });
  await until(alice, (s) => s.talk === 'idle', 'idle after sliding off');
  await until(bob, (s) => s.onair === 'quiet', 'floor free after sliding off');
  await alice.page.mouse.up();
  env.checkPages(ctx);
});

test('busy channel: a second talker is denied and told who holds it; a dispatcher interrupts', async (ctx) => {
  await mouseDown(alice);
  await until(alice, (s) => s.talk === 'talking', 'Alice talking');
  await until(bob, (s) => s.talk === 'busy', 'Bob sees the channel busy');
  await mouseDown(bob);
  const denied = await until(bob, (s) => s.talk === 'denied', 'Bob denied');
  assert.equal(denied.label, 'Channel busy');
  assert.equal(denied.sub, 'Alice is talking');
  assert.equal(denied.status, 'Busy: Alice is talking');
  assert.equal(await bob.evaluate(() => document.getElementById('talk').getAnimations().length > 0), true, 'the button shakes');
  await bob.page.mouse.up();
  assert.equal((await ui(alice)).talk, 'talking', 'Alice keeps the floor');

  // Carol becomes a dispatcher (rejoins with that role) and takes the floor from Alice.
  await carol.page.locator('#dispatcher').check();
  await waitUntil(() => carol.evaluate(() => window.walkie.radio.room?.role === 'dispatcher'), { message: 'Carol rejoined as dispatcher' });
  await ready(carol);
  assert.equal(await carol.page.locator('#role-badge').isVisible(), true);
  await carol.waitChannelsOpen(2);
  await until(carol, (s) => s.talk === 'busy' && s.sub === 'Hold to interrupt', 'Carol may interrupt');
  await mouseDown(carol);
  await until(carol, (s) => s.talk === 'talking', 'Carol talking');
  const cut = await until(alice, (s) => s.talk === 'denied' && s.label === 'Interrupted', 'Alice interrupted');
  assert.equal(cut.sub, 'by Carol');
  await until(bob, (s) => s.talker === 'Carol', 'Bob sees Carol on air');
  await carol.page.mouse.up();
  await alice.page.mouse.up();
  await until(bob, (s) => s.onair === 'quiet', 'channel quiet');
  env.checkPages(ctx);
});

test('channel picker and name: switching leaves one room and joins the next; settings persist', async (ctx) => {
  const { page } = carol;
  await page.locator('#name').fill('Caz');
  await page.locator('#name').press('Enter');
  await waitUntil(() => alice.evaluate(() => [...window.walkie.radio.room.peers.values()].some((p) => p.name === 'Caz')),
    { message: 'Alice sees Carol under her new name' });
  await ready(carol);

  await page.locator('label.chip:has-text("ch-3")').click();
  await waitUntil(() => carol.evaluate(() => window.walkie.radio.room?.roomName === 'ch-3' && window.walkie.radio.state === 'joined'),
    { message: 'Carol on ch-3' });
  await waitUntil(() => alice.evaluate(() => ![...window.walkie.radio.room.peers.values()].some((p) => p.name === 'Caz')),
    { message: 'Carol left Alice\'s channel' });
  assert.equal((await ui(carol)).conn, 'joined');
  assert.equal(await page.locator('#conn-state').textContent(), 'ch-3');

  await page.locator('#custom-channel').fill('ops room');
  await page.locator('#custom-channel').press('Enter');
  await waitUntil(() => carol.evaluate(() => window.walkie.radio.room?.roomName === 'ops room'), { message: 'Carol on a custom channel' });
  assert.deepEqual(await page.evaluate(() => ({ ...localStorage })),
    { 'walkie.name': 'Caz', 'walkie.channel': 'ops room', 'walkie.dispatcher': '1' });

  // A fresh visit (no query) comes back to the same name, channel and role.
  await page.goto(`${env.origin}/web/walkie/`);
  await ready(carol);
  assert.deepEqual(await page.evaluate(() => ({
    name: document.getElementById('name').value, custom: document.getElementById('custom-channel').value,
    room: window.walkie.radio.room.roomName, role: window.walkie.radio.room.role,
    badge: !document.getElementById('role-badge').hidden,
  })), { name: 'Caz', custom: 'ops room', room: 'ops room', role: 'dispatcher', badge: true });
  env.checkPages(ctx);
});

test('offline: the service worker serves the app shell, the library and the codec; recent messages still replay', async (ctx) => {
  const { page, context } = bob;
  await waitUntil(() => page.evaluate(() => !!navigator.serviceWorker.controller), { timeout: 10000, message: 'the service worker controls the page' });
  // Everything the page loaded from its own origin is in the cache (the import crawl found it).
  const missing = await page.evaluate(async () => {
    const urls = performance.getEntriesByType('resource').map((e) => e.name).concat(location.href)
      .filter((u) => new URL(u).origin === location.origin).map((u) => u.split('?')[0]);
    const cache = await caches.open((await caches.keys()).find((k) => k.startsWith('chorus-walkie-')));
    const out = [];
    for (const u of new Set(urls)) if (!(await cache.match(u))) out.push(u);
    return out;
  });
  assert.deepEqual(missing, [], 'same-origin resources missing from the cache');
  const ids = (await ui(bob)).messages.map((m) => m.id);
  assert.ok(ids.length >= 1);

  await context.setOffline(true);
  try {
    await page.reload({ waitUntil: 'domcontentloaded' });
    // Really offline behind the service worker too: what it has not cached does not load.
    const probe = await page.evaluate(() => fetch('/js-glue/index.js?not-cached').then((r) => r.status, (e) => e.name));
    assert.equal(probe, 'TypeError');
    assert.equal(await page.title(), 'chorus walkie');
    assert.equal(await page.locator('#talk').isVisible(), true);
    const s = await until(bob, (x) => x.messages.length === ids.length && x.conn === 'offline', 'shell with recent messages, offline');
    assert.deepEqual(s.messages.map((m) => m.id), ids);
    // The codec comes from the cache too: replay decodes offline (the longest message, so
    // that it surely holds some of the fake microphone's beeps).
    const decoded = await page.evaluate(async () => {
      const [longest] = (await window.walkie.store.listMessages()).sort((a, b) => b.duration - a.duration);
      return window.walkie.decode(longest.id);
    });
    assert.ok(decoded.rms > 0.01, JSON.stringify(decoded));
  } finally {
    await context.setOffline(false);
  }
  // Back online, the radio rejoins by itself.
  await ready(bob);
  env.checkPages(ctx);
});

test('the web app manifest: name, start_url, standalone, 192 and 512 PNG icons that exist', async () => {
  const base = `${env.origin}/web/walkie/`;
  const html = await (await fetch(base)).text();
  const href = html.match(/<link rel="manifest" href="([^"]+)"/)?.[1];
  assert.ok(href, 'index.html links the manifest');
  const res = await fetch(new URL(href, base));
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type'), /^application\/manifest\+json/);
  const manifest = JSON.parse(await res.text());
  assert.equal(manifest.name, 'chorus walkie');
  assert.equal(manifest.display, 'standalone');
  assert.equal(new URL(manifest.start_url, res.url).pathname, '/web/walkie/');
  const sizes = new Set();
  for (const icon of manifest.icons) {
    const png = Buffer.from(await (await fetch(new URL(icon.src, res.url))).arrayBuffer());
    assert.equal(png.subarray(1, 4).toString(), 'PNG', `${icon.src} is a PNG`);
    const [w, h] = [png.readUInt32BE(16), png.readUInt32BE(20)];  // IHDR
    assert.equal(`${w}x${h}`, icon.sizes, `${icon.src} is as large as it says`);
    sizes.add(`${icon.sizes} ${icon.purpose ?? 'any'}`);
  }
  for (const want of ['192x192 any', '512x512 any', '512x512 maskable']) assert.ok(sizes.has(want), `icon ${want}`);
});
