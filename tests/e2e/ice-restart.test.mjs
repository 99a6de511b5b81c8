// ICE restart in the real browser: media (UDP) is cut inside the test's network namespace while
// signaling (TCP) stays up. The core sees the connection go disconnected/failed, restarts ICE
// (a new offer with a new ufrag, relayed by the server), and once UDP flows again the same
// RTCPeerConnection comes back and video decodes again. Needs root (iptables in the namespace).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { Env, waitUntil, sleep, fmt } from './harness.mjs';

const canFirewall = (() => {
  if (process.env.CHORUS_TEST_HOST !== '10.77.0.1') return false; // only in our own namespace
  try {
    execFileSync('iptables', ['-L', 'INPUT', '-n'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();
const udp = (op) => execFileSync('iptables', [op, 'INPUT', '-p', 'udp', '-j', 'DROP']);

let env;
before(async () => {
  if (!canFirewall) return;
  env = await Env.create({ routedPages: true });
  env.serveFromDisk('/e2e/', 'tests/e2e/pages');
});
after(async () => {
  if (canFirewall) { try { udp('-D'); } catch { /* not inserted */ } }
  await env?.close();
});

const ufrags = (peer) => peer.evaluate(() => window.__t.pcs
  .filter((r) => r.pc.connectionState !== 'closed')
  .map((r) => /a=ice-ufrag:(\S+)/.exec(r.pc.localDescription?.sdp ?? '')?.[1] ?? null));

test('ICE restart: media cut for a while comes back on the same connection',
  { skip: !canFirewall && 'needs root and iptables inside the test network namespace' }, async (ctx) => {
    const room = `ice-${process.pid}`;
    const opts = { room, path: '/e2e/room.html', query: { w: 320, h: 240, fps: 15 } };
    const a = await env.openPeer({ name: 'a', ...opts });
    a.id = (await a.waitJoined()).peerId;
    const b = await env.openPeer({ name: 'b', ...opts });
    b.id = (await b.waitJoined()).peerId;
    await a.waitDecodingFrom(1);
    await b.waitDecodingFrom(1);
    const before = { a: await ufrags(a), b: await ufrags(b) };

    udp('-I');
    const cut = Date.now();
    // Consent checks fail: the connection leaves "connected"; the core restarts ICE after 4 s
    // of "disconnected" (or at once on "failed"), which shows as a new local ufrag.
    await waitUntil(async () => {
      const [ua, ub] = [await ufrags(a), await ufrags(b)];
      return (ua[0] && ua[0] !== before.a[0]) || (ub[0] && ub[0] !== before.b[0]);
    }, { timeout: 30000, message: 'a new ICE ufrag (an ICE restart) while UDP is blocked' });
    ctx.diagnostic(`ICE restart seen ${Date.now() - cut} ms after cutting UDP`);
    await sleep(1000);
    udp('-D');

    const healed = Date.now();
    for (const p of [a, b]) {
      await waitUntil(() => p.evaluate(() => window.__t.pcs.some((r) => r.pc.connectionState === 'connected')),
        { timeout: 40000, message: `${p.name}: connected again after UDP is back` });
    }
    ctx.diagnostic(`connected again ${Date.now() - healed} ms after UDP is back`);
    // Decoding resumes on the same connection: frames keep increasing.
    for (const p of [a, b]) {
      const first = (await p.videoStats())[0]?.framesDecoded ?? 0;
      await waitUntil(async () => ((await p.videoStats())[0]?.framesDecoded ?? 0) > first + 10,
        { timeout: 20000, message: `${p.name}: decoding again` });
      const live = await p.evaluate(() => window.__t.pcs.filter((r) => r.pc.connectionState !== 'closed').length);
      assert.equal(live, 1, `${p.name}: the same single connection, not a new one`);
      assert.deepEqual(await p.remotePeerIds(), [p === a ? b.id : a.id], `${p.name}: peer still there`);
    }
    const errors = [...await a.events('error'), ...await b.events('error')];
    assert.deepEqual(errors, [], `no error events: ${fmt(errors)}`);
  });
