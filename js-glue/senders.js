// Executes the core's `sync-senders` action: make one RTCPeerConnection send exactly the tracks
// of the local stream. Changing the senders makes the browser fire `negotiationneeded`, which
// goes back to the core; the core decides when and how to renegotiate.

// Transceivers we stopped sending on. Only these are reused by hand; a transceiver that never
// sent (one a remote offer created) is left to addTrack, which reuses it by itself.
const vacated = new WeakSet();

/**
 * @param {RTCPeerConnection} pc
 * @param {MediaStream} localStream
 */
export function syncSenders(pc, localStream) {
  const local = localStream.getTracks();
  const sent = new Set(pc.getSenders().map((s) => s.track).filter(Boolean));
  const unsent = local.filter((t) => !sent.has(t));
  const takeUnsent = (kind) => {
    const i = unsent.findIndex((t) => t.kind === kind);
    return i < 0 ? null : unsent.splice(i, 1)[0];
  };

  // Senders whose track left the stream: hand the slot to a new track of the same kind (e.g. a
  // re-acquired camera) so the m-line is reused, or stop sending on it.
  for (const tr of usable(pc)) {
    const track = tr.sender.track;
    if (!track || local.includes(track)) continue;
    const next = takeUnsent(track.kind);
    if (next) attach(tr, next, localStream);
    else {
      pc.removeTrack(tr.sender);
      vacated.add(tr);
    }
  }

  // New tracks: prefer a transceiver of the same kind we stopped sending on earlier over
  // addTrack, which would grow the SDP by one m-line per remove/add cycle.
  for (const track of unsent) {
    const idle = usable(pc).find((tr) => vacated.has(tr) && !tr.sender.track
      && tr.receiver.track?.kind === track.kind);
    if (idle) attach(idle, track, localStream);
    else pc.addTrack(track, localStream);
  }
}

function usable(pc) {
  return pc.getTransceivers().filter((tr) => !tr.stopped && tr.currentDirection !== 'stopped');
}

function attach(transceiver, track, stream) {
  const { sender } = transceiver;
  vacated.delete(transceiver);
  sender.replaceTrack(track).catch((err) => console.warn('chorus: replaceTrack failed', err));
  sender.setStreams?.(stream); // keeps the remote side's msid (and so its MediaStream) stable
  if (transceiver.direction === 'recvonly') transceiver.direction = 'sendrecv';
  else if (transceiver.direction === 'inactive') transceiver.direction = 'sendonly';
}
