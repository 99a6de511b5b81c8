// Checks the end-to-end environment on its own, without any chorus code: inside the network
// namespace, with the harness's Chromium flags, two RTCPeerConnections in one page gather
// candidates on CHORUS_TEST_HOST, connect, carry a DataChannel message and decode fake video.
// When this fails, the other e2e failures are about the machine, not about chorus.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { Env, HOST, freePort } from './harness.mjs';

let env;
after(async () => { await env?.close(); });

test('environment: two peer connections in one page connect and decode video', async () => {
  const origin = `http://${HOST}:${await freePort()}`; // nothing listens: pages come from disk
  env = await Env.create({ server: 'none', origins: [origin], routedPages: true });
  env.serveFromDisk('/', 'tests/e2e/pages');
  const peer = await env.openPeer({ path: '/pc-pair.html', autojoin: false, origin });
  const r = await peer.page.evaluate(() => window.pair);
  assert.equal(r.message, 'hello');
  assert.equal(r.connectionState, 'connected');
  assert.ok(r.framesDecoded >= 5, `framesDecoded ${r.framesDecoded}`);
  if (process.env.CHORUS_NETNS) {
    assert.ok(r.candidates.a.some((c) => c.includes(` ${HOST} `)),
      `a host candidate on ${HOST}: ${JSON.stringify(r.candidates.a)}`);
    assert.match(r.selectedLocal, new RegExp(`^${HOST.replace(/\./g, '\\.')}:`));
  }
});
