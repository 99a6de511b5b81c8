// Executes the core's `sync-senders` action: make one RTCPeerConnection send exactly the tracks
// of the local stream. Changing the senders makes the browser fire `negotiationneeded`, which
// goes back to the core; the core decides when and how to renegotiate.
//
// Also the media core's `mesh-sending`: a mesh link whose peer takes our media from the media
// server has the senders of some kinds paused: replaceTrack(null), no renegotiation (the
// m-lines, and so the DataChannels' connection, stay as they are). A paused sender "holds" the
// track it carries when resumed, and counts as sending it here, so syncSenders never adds a
// second m-line for it nor hands its slot away.

// Transceivers we stopped sending on. Only these are reused by hand; a transceiver that never
// sent (one a remote offer created) is left to addTrack, which reuses it by itself.
const vacated = new WeakSet();
// Paused senders -> the local track each carries again when resumed.
const held = new WeakMap();
const NONE = new Set();

/**
 * @param {RTCPeerConnection} pc
 * @param {MediaStream} localStream
 * @param {ReadonlySet<string>} [paused] kinds whose senders stay paused (mesh-sending off)
 */
export function syncSenders(pc, localStream, paused = NONE) {
  const local = localStream.getTracks();
  const sent = new Set(pc.getSenders().map(carried).filter(Boolean));
  const unsent = local.filter((t) => !sent.has(t));
  const takeUnsent = (kind) => {
    const i = unsent.findIndex((t) => t.kind === kind);
    return i < 0 ? null : unsent.splice(i, 1)[0];
  };

  // Senders whose track left the stream: hand the slot to a new track of the same kind (e.g. a
  // re-acquired camera) so the m-line is reused, or stop sending on it.
  for (const tr of usable(pc)) {
    const track = carried(tr.sender);
    if (!track || local.includes(track)) continue;
    const next = takeUnsent(track.kind);
    if (next) attach(tr, next, localStream);
    else {
      held.delete(tr.sender);
      pc.removeTrack(tr.sender);
      vacated.add(tr);
    }
  }

  // New tracks: prefer a transceiver of the same kind we stopped sending on earlier over
  // addTrack, which would grow the SDP by one m-line per remove/add cycle.
  for (const track of unsent) {
    const idle = usable(pc).find((tr) => vacated.has(tr) && !carried(tr.sender)
      && tr.receiver.track?.kind === track.kind);
    if (idle) attach(idle, track, localStream);
    else pc.addTrack(track, localStream);
  }
  // A sender just added for a paused kind is paused too (it still gets its m-line).
  setPaused(pc, paused);
}

/**
 * Pauses the senders of the `paused` kinds (replaceTrack(null)) and resumes the others'
 * (replaceTrack(the held track)). Idempotent; replaceTrack calls run in order on the pc's
 * operations chain, so a quick pause/resume ends in the last state asked for.
 * @param {RTCPeerConnection} pc
 * @param {ReadonlySet<string>} paused
 */
export function setPaused(pc, paused) {
  for (const tr of usable(pc)) {
    const { sender } = tr;
    const kind = tr.receiver.track?.kind;
    if (paused.has(kind)) {
      if (!sender.track) continue;
      held.set(sender, sender.track);
      replace(sender, null);
    } else if (held.has(sender)) {
      const track = held.get(sender);
      held.delete(sender);
      replace(sender, track);
    }
  }
}


/** The track a sender sends, or would send once resumed. */
function carried(sender) {
  return sender.track ?? held.get(sender) ?? null;
}

function usable(pc) {
  return pc.getTransceivers().filter((tr) => !tr.stopped && tr.currentDirection !== 'stopped');
}

function replace(sender, track) {
  sender.replaceTrack(track).catch((err) => console.warn('chorus: replaceTrack failed', err));
}

function attach(transceiver, track, stream) {
  const { sender } = transceiver;
  vacated.delete(transceiver);
  // A paused sender only changes the track it will carry; it stays silent until resumed.
  if (held.has(sender)) held.set(sender, track);
  else replace(sender, track);
  sender.setStreams?.(stream); // keeps the remote side's msid (and so its MediaStream) stable
  if (transceiver.direction === 'recvonly') transceiver.direction = 'sendrecv';
  else if (transceiver.direction === 'inactive') transceiver.direction = 'sendonly';
}
