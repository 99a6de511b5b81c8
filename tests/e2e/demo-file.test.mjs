// File transfer in the demo (web/, served at /): a file dropped on a peer's tile, or picked with
// the tile's "send file" button, goes to that peer; both sides show it in the transfers tray,
// the receiver gets a download link, both show the verified SHA-256, and a cancel shows why.
import { test, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Env, waitUntil, fmt } from './harness.mjs';

let env;
before(async () => { env = await Env.create(); });
afterEach(async () => { await env?.closePeers(); });
after(async () => { await env?.close(); });

let roomSeq = 0;
const newRoom = (label) => `${label}-${process.pid}-${++roomSeq}`;

/** Byte j of MiB block i of the generated file; the page uses the same formula. */
const byteAt = (i, j) => (j * 7 + i * 13 + (j >> 10)) & 255;

function expectedSha256(mib) {
  const h = crypto.createHash('sha256');
  const b = Buffer.alloc(1 << 20);
  for (let i = 0; i < mib; i++) {
    for (let j = 0; j < b.length; j++) b[j] = byteAt(i, j);
    h.update(b);
  }
  return h.digest('hex');
}

/** Two demo pages in one room, each showing the other's tile, DataChannels open. */
async function pair(label) {
  const room = newRoom(label);
  const peers = [];
  for (const name of ['ann', 'ben']) {
    const p = await env.openPeer({ room, name, path: '/' });
    p.id = (await p.waitJoined()).peerId;
    peers.push(p);
  }
  const [a, b] = peers;
  for (const [p, other] of [[a, b], [b, a]]) {
    await p.waitChannelsOpen(1);
    await waitUntil(() => p.evaluate((id) => !!document.querySelector(
      `#video-grid .tile[data-peer-id="${id}"]:not([data-local]) .tile-send`), other.id),
    { timeout: 10000, message: `${p.name}: a tile with a send button for ${other.name}` });
  }
  return [a, b];
}

/** The card of the first transfer in `direction` as the page shows it, or null. */
function card(p, direction) {
  return p.evaluate(async (direction) => {
    const el = document.querySelector(`#transfer-list .xfer[data-direction="${direction}"]`);
    if (!el) return null;
    const link = el.querySelector('a.xfer-download');
    const box = el.getBoundingClientRect();
    return {
      state: el.dataset.state, peerId: el.dataset.peerId, sha256: el.dataset.sha256 ?? null,
      name: el.querySelector('.xfer-name').textContent, size: el.querySelector('.xfer-size').textContent,
      peer: el.querySelector('.xfer-peer').textContent, detail: el.querySelector('.xfer-detail').textContent,
      hash: el.querySelector('.xfer-hash')?.textContent ?? null,
      cancelVisible: !el.querySelector('.xfer-cancel').hidden,
      link: link && !link.hidden ? { href: link.href, download: link.download, visible: link.offsetWidth > 0 } : null,
      onScreen: box.width > 0 && box.height > 0 && box.bottom <= innerHeight && box.right <= innerWidth,
    };
  }, direction);
}

test('a file dropped on a peer\'s tile arrives whole: download link, SHA-256 verified on both sides', async (ctx) => {
  const MIB = 8;
  const expected = expectedSha256(MIB);
  const [a, b] = await pair('drop');

  // ann drops a generated 8 MiB file on ben's tile (a synthetic drop, as a real one would be).
  const dropped = await a.evaluate(({ to, mib }) => {
    const parts = [];
    for (let i = 0; i < mib; i++) {
      const block = new Uint8Array(1 << 20);
      for (let j = 0; j < block.length; j++) block[j] = (j * 7 + i * 13 + (j >> 10)) & 255;
      parts.push(block);
    }
    const dt = new DataTransfer();
    dt.items.add(new File(parts, 'x.bin', { type: 'application/octet-stream' }));
    const tile = document.querySelector(`#video-grid .tile[data-peer-id="${to}"]`);
    const ev = new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true });
    tile.dispatchEvent(ev);
    return { defaultPrevented: ev.defaultPrevented, cards: document.querySelectorAll('#transfer-list .xfer').length };
  }, { to: b.id, mib: MIB });
  assert.equal(dropped.defaultPrevented, true, 'the demo handled the drop (no navigation to the file)');
  assert.equal(dropped.cards, 1, 'the sender shows the transfer at once');

  // The receiver's tray shows the completed transfer with a download link.
  const rx = await waitUntil(async () => {
    const c = await card(b, 'receive');
    return c?.state !== 'active' && c?.link ? c : null;
  }, { timeout: 60000, message: 'ben: a completed incoming transfer with a download link' });
  assert.equal(rx.state, 'complete', fmt(rx));
  assert.equal(rx.peerId, a.id, 'the card names the sender');
  assert.equal(rx.name, 'x.bin');
  assert.equal(rx.size, '8.0 MiB');
  assert.equal(rx.peer, 'from ann');
  assert.equal(rx.link.download, 'x.bin');
  assert.match(rx.link.href, /^blob:/);
  assert.ok(rx.link.visible && rx.onScreen, `ben's card and link are on screen: ${fmt(rx)}`);
  assert.match(rx.detail, /SHA-256 verified/);
  assert.equal(rx.sha256, expected, 'the receiver verified the SHA-256 of the generated file');
  assert.equal(rx.hash, expected.slice(0, 12), 'the card shows the first 12 hex digits');

  // What the link downloads: 8 MiB whose SHA-256 is the file's.
  const blob = await b.evaluate(async (href) => {
    const data = await (await fetch(href)).blob();
    const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', await data.arrayBuffer()));
    return { size: data.size, sha256: [...digest].map((x) => x.toString(16).padStart(2, '0')).join('') };
  }, rx.link.href);
  assert.equal(blob.size, MIB * 1024 * 1024, 'the download is 8 MiB');
  assert.equal(blob.sha256, expected, 'the download is the file that was dropped');

  // The sender shows the same verified SHA-256.
  const tx = await waitUntil(async () => {
    const c = await card(a, 'send');
    return c?.state !== 'active' ? c : null;
  }, { timeout: 10000, message: 'ann: the outgoing transfer ended' });
  assert.equal(tx.state, 'complete', fmt(tx));
  assert.equal(tx.peer, 'to ben');
  assert.equal(tx.sha256, rx.sha256, 'sender and receiver show the same SHA-256');
  assert.equal(tx.hash, rx.hash);
  assert.match(tx.detail, /SHA-256 verified/);
  assert.equal(tx.link, null, 'no download link on the sending side');
  assert.equal(tx.cancelVisible, false, 'no cancel button once complete');

  // Removing the received card revokes its object URL.
  const revoked = await b.evaluate(async (href) => {
    document.querySelector('#transfer-list .xfer .xfer-dismiss').click();
    const gone = !document.querySelector('#transfer-list .xfer') && document.querySelector('#transfers').hidden;
    const stillThere = await fetch(href).then(() => true, () => false);
    return { gone, stillThere };
  }, rx.link.href);
  assert.deepEqual(revoked, { gone: true, stillThere: false }, 'card removed, blob URL revoked');
  env.checkPages(ctx);
});

test('the tile\'s send button picks a file; a cancel on the receiver shows on both sides', async (ctx) => {
  const [a, b] = await pair('pick');
  // A file on disk (a Buffer of this size would crawl through the DevTools protocol).
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'chorus-demo-file-'));
  ctx.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'big.bin');
  fs.writeFileSync(file, Buffer.alloc(48 << 20, 7));
  // ben uses the paperclip on ann's tile and picks a 48 MiB file.
  const chooser = b.page.waitForEvent('filechooser', { timeout: 10000 });
  await b.page.click(`#video-grid .tile[data-peer-id="${a.id}"] .tile-send`);
  // ann cancels from her tray as soon as the incoming transfer shows up.
  const cancelled = a.evaluate(() => new Promise((resolve) => {
    const check = () => {
      const el = document.querySelector('#transfer-list .xfer[data-direction="receive"]');
      if (!el) return false;
      observer.disconnect();
      const wasActive = el.dataset.state === 'active';
      el.querySelector('.xfer-cancel').click();
      resolve(wasActive);
      return true;
    };
    const observer = new MutationObserver(check);
    if (!check()) observer.observe(document.querySelector('#transfer-list'), { childList: true });
  }));
  const fc = await chooser;
  assert.equal(fc.isMultiple(), true, 'the picker takes several files');
  await fc.setFiles(file);
  assert.equal(await cancelled, true, 'ann cancelled while the transfer was active');

  const rx = await waitUntil(async () => {
    const c = await card(a, 'receive');
    return c?.state !== 'active' ? c : null;
  }, { timeout: 10000, message: 'ann: the incoming transfer ended' });
  assert.equal(rx.state, 'cancelled', fmt(rx));
  assert.equal(rx.detail, 'You cancelled');
  assert.equal(rx.link, null);
  const tx = await waitUntil(async () => {
    const c = await card(b, 'send');
    return c?.state !== 'active' ? c : null;
  }, { timeout: 10000, message: 'ben: the outgoing transfer ended' });
  assert.equal(tx.state, 'cancelled', fmt(tx));
  assert.equal(tx.name, 'big.bin');
  assert.equal(tx.detail, 'ann cancelled', 'the sender sees who stopped it');
  assert.equal(tx.cancelVisible, false);
  env.checkPages(ctx);
});
