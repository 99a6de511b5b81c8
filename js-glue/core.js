// Loads the WebAssembly core once per page: every Room shares the compiled module and makes its
// own ClientCore instance from it. dist/ is produced by `bash tools/build.sh wasm`.
import createChorusCore from '../dist/chorus-core.mjs';

let modulePromise = null;

/** @returns {Promise<any>} the Emscripten module exposing ClientCore */
export function loadCore() {
  if (!modulePromise) {
    modulePromise = createChorusCore().catch((err) => {
      modulePromise = null; // a failed fetch (offline, 404) may succeed on the next join
      throw err;
    });
  }
  return modulePromise;
}

let mediaPromise = null;

/**
 * The media-server module (dist/chorus-media.mjs: MediaCore, the Janus client), loaded on first
 * use: only rooms that leave the mesh need it, so mesh-only apps never download it.
 * @returns {Promise<any>} the Emscripten module exposing MediaCore
 */
export function loadMediaCore() {
  if (!mediaPromise) {
    mediaPromise = import('../dist/chorus-media.mjs')
      .then(({ default: createChorusMedia }) => createChorusMedia())
      .catch((err) => {
        mediaPromise = null; // as loadCore: a later topology change may try again
        throw err;
      });
  }
  return mediaPromise;
}

// A representative offer: the parser's hot path (long JSON strings) is what gets compiled.
const SAMPLE_SDP = 'v=0\r\n' + 'a=candidate:1 1 udp 2122260223 192.0.2.1 50000 typ host\r\n'.repeat(40);

/**
 * Runs a throw-away ClientCore through a join and an offer, so V8 compiles (lazily, on first
 * call) the code those paths need before a real offer waits on it. Idle-time work: no output
 * leaves this function.
 */
function warmUp(mod) {
  const core = new mod.ClientCore('{}');
  try {
    const feed = (input) => { core.handle(JSON.stringify(input), 0); while (core.poll()); };
    const frame = (msg) => { core.handleSocketMessage(JSON.stringify(msg), 0); while (core.poll()); };
    feed({ type: 'join', room: 'warm-up', name: '' });
    feed({ type: 'socket-open' });
    frame({ type: 'welcome', v: 1, room: 'warm-up', peerId: 'a', secret: 'warm-up-secret-0', resumed: false, peers: [] });
    frame({ type: 'peer-joined', peer: { id: 'b', name: '' } });
    frame({ type: 'signal', from: 'b', kind: 'offer', sdp: SAMPLE_SDP });
    feed({ type: 'local-description-set', peer: 'b', description: { type: 'answer', sdp: SAMPLE_SDP } });
  } finally {
    core.delete();
  }
}

// In a page, start fetching and compiling at import: an app usually imports early and joins
// on a click, so the module is ready (and warm) by then. Node loads it on first use instead.
if (typeof window !== 'undefined') {
  loadCore().then((mod) => setTimeout(() => warmUp(mod), 0), () => {});
}
