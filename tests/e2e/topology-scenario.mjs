// The topology switches as a user lives them, for tests/e2e/topology.test.mjs and
// tools/bench/topology.mjs: a real Janus on the test namespace's address, the signaling server
// pointing rooms at it, and Chromium pages (tests/e2e/pages/topology.html) that time every frame
// they present for each remote peer.
import { startJanus } from '../../tools/janus/janus.mjs';
import { Env, HOST, startTestServer, waitUntil, sleep, fmt } from './harness.mjs';

/** Janus + a signaling server using it + one Chromium. `topology`: the selector's config. */
export async function startTopologyEnv({ topology = {}, extraArgs = [] } = {}) {
  const janus = await startJanus({ address: HOST });
  let server = null;
  let env = null;
  try {
    server = await startTestServer({ config: { janus: { url: janus.wsUrl }, topology: { downHoldMs: 2000, ...topology } } });
    env = await Env.create({ server: 'none', origins: [server.origin], routedPages: true, extraArgs });
    env.serveFromDisk('/e2e/', 'tests/e2e/pages');
    env.server = server;
    env.origin = server.origin;
    // The server hears Janus through its probe: wait until rooms may use it.
    await waitUntil(async () => (await fetch(`${server.origin}/healthz`).then((r) => r.json())).mediaServer?.reachable,
      { timeout: 10000, message: 'the signaling server sees Janus' });
  } catch (e) {
    await env?.close();
    await server?.close();
    await janus.stop();
    throw e;
  }
  return {
    janus, server, env,
    async close() {
      await env.close(); // closes env.server, the current one
      await janus.stop();
    },
  };
}

/** Opens a page of topology.html that joins `room`. */
export async function openTopologyPeer(env, room, name, query = {}) {
  const p = await env.openPeer({ room, name, path: '/e2e/topology.html', query: { w: 320, h: 240, fps: 15, ...query } });
  await p.waitJoined();
  return p;
}

export const pageState = (p) => p.evaluate(() => {
  const room = window.chorus.room;
  return {
    mode: room.topology.mode, epoch: room.topology.epoch, mediaServer: room.mediaServer ?? null,
    peers: room.peers.size, frames: window.frameGaps(), meshSending: window.meshSending(),
  };
});

/** Every page decodes every other one, freshly (a frame in the last 400 ms). */
export function allDecoding(states) {
  return states.every((s) => Object.keys(s.frames).length === s.peers
    && Object.values(s.frames).every((f) => f.frames > 0 && f.sinceLast < 400));
}

/**
 * Waits until every page is in `mode`, decodes every other page, and its mesh senders are all
 * paused (sfu: the others take its feed from Janus) or all sending (mesh). Returns the states.
 */
export async function waitSettled(peers, mode, { timeout = 30000 } = {}) {
  let states;
  try {
    return await waitUntil(async () => {
      states = await Promise.all(peers.map(pageState));
      // The mesh's paths are the same for 2 peers (p2p) and more.
      const inMode = states.every((s) => s.mode === mode || (mode === 'mesh' && s.mode === 'p2p'));
      const senders = states.every((s) => Object.values(s.meshSending).every((n) => (mode === 'mesh' || mode === 'p2p' ? n > 0 : n === 0)));
      return inMode && senders && allDecoding(states) ? states : null;
    }, { timeout, interval: 200, message: `every page settled in ${mode}` });
  } catch (e) {
    e.message += `\n${peers.map((p, i) => `${p.name}: ${fmt(states?.[i])}`).join('\n')}`;
    e.message += `\n${(await Promise.all(peers.map((p) => p.describe()))).join('\n')}`;
    throw e;
  }
}

/** The longest gap between presented frames since resetGaps(), over every (receiver, sender)
 *  pair among `peers` that was decoding before the window started. */
export async function longestGap(peers, pairs) {
  let worst = { gap: 0, at: null };
  for (const p of peers) {
    const gaps = await p.evaluate(() => window.frameGaps());
    for (const [id, g] of Object.entries(gaps)) {
      if (!pairs.has(`${p.name}<-${id}`)) continue;
      if (g.maxGap > worst.gap) worst = { gap: g.maxGap, at: `${p.name} <- ${id}` };
    }
  }
  return worst;
}

/** The (receiver, sender) pairs decoding now, as keys for longestGap. */
export async function decodingPairs(peers) {
  const pairs = new Set();
  for (const p of peers) {
    const gaps = await p.evaluate(() => window.frameGaps());
    for (const [id, g] of Object.entries(gaps)) if (g.frames > 0) pairs.add(`${p.name}<-${id}`);
  }
  return pairs;
}

export const resetGaps = (peers) => Promise.all(peers.map((p) => p.evaluate(() => {
  window.resetGaps();
  window.switchGaps = [];
})));

/** The swaps' own gaps since resetGaps(): the longest frame interval spanning a swap of a peer's
 *  video between mesh and server, over `peers`, and how many swaps were seen. */
export async function swapGap(peers) {
  let worst = { gap: 0, at: null, swaps: 0 };
  for (const p of peers) {
    for (const g of await p.evaluate(() => window.switchGaps)) {
      worst.swaps += 1;
      if (g.gap > worst.gap) worst = { ...worst, gap: g.gap, at: `${p.name} <- ${g.peer} (to ${g.to})` };
    }
  }
  return worst;
}

/**
 * One run of a switch scenario: `before` peers in a mesh (a meeting: 4), one more joins, then
 * `leave` of them go (2). On a server
 * whose rooms switch (`expect` sfu) the room goes to the SFU and back to the mesh after the hold;
 * on a control server (`expect` mesh: rooms never leave it) the same joins and leaves happen
 * without a switch, so the two runs side by side say what the switch itself costs. Returns the
 * longest frame gaps of both steps (ms) and where.
 */
export async function meshToSfuAndBack(env, room, {
  settleMs = 1500, expect = 'sfu', holdMs = 2000, before = 4, leave = 2, query = {}, settleTimeout = 45000,
} = {}) {
  const peers = [];
  for (let i = 1; i <= before; i += 1) peers.push(await openTopologyPeer(env, room, `p${i}`, query));
  await waitSettled(peers, 'mesh');
  let pairs = await decodingPairs(peers);
  await resetGaps(peers);
  const t0 = Date.now();
  peers.push(await openTopologyPeer(env, room, `p${before + 1}`, query));
  const sfuStates = await waitSettled(peers, expect, { timeout: settleTimeout });
  const toSfuMs = Date.now() - t0;
  await sleep(settleMs);
  const up = await longestGap(peers.slice(0, before), pairs);
  const upSwap = await swapGap(peers.slice(0, before));

  // Some leave: the room goes back to the mesh after the hold (the control waits as long).
  const stay = before + 1 - leave;
  pairs = await decodingPairs(peers.slice(0, stay));
  await resetGaps(peers);
  const t1 = Date.now();
  for (const p of peers.splice(stay)) await p.close();
  if (expect === 'mesh') await sleep(holdMs);
  const meshStates = await waitSettled(peers, 'mesh', { timeout: settleTimeout });
  const toMeshMs = Date.now() - t1;
  await sleep(settleMs);
  const down = await longestGap(peers, pairs);
  const downSwap = await swapGap(peers);
  return { up, down, upSwap, downSwap, toSfuMs, toMeshMs, sfuStates, meshStates, peers };
}

/** Runs `fn` with the env's signaling server replaced by one with a topology config of its own
 *  (same Janus, same port: the browser treats only the origins it was launched with as secure),
 *  then puts a default one back. */
export async function withServer(t, topology, fn) {
  const { port } = t.server;
  const start = (extra) => startTestServer({ port, config: { janus: { url: t.janus.wsUrl }, topology: { downHoldMs: 2000, ...extra } } });
  await t.env.closePeers();
  await t.server.close();
  const server = await start(topology);
  t.server = t.env.server = server;
  try {
    await waitUntil(async () => (await fetch(`${server.origin}/healthz`).then((r) => r.json())).mediaServer?.reachable,
      { timeout: 10000, message: 'the server sees Janus' });
    return await fn(server);
  } finally {
    await t.env.closePeers();
    await server.close();
    t.server = t.env.server = await start({});
  }
}
