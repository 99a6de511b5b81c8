// The classroom's app protocol: small JSON values sent peer to peer with room.send() (the
// library's DataChannel protocol carries them; a JSON value arrives parsed). This file is the
// only place that knows their shape.
//
//   {type: 'hand', up}              student -> everyone: hand raised (true) or lowered (false)
//   {type: 'promote', peer, on}     teacher -> everyone: student `peer` may speak (on: its mic and
//                                   camera turn on, everyone shows it big) or no longer (on: false)
//   {type: 'screen', track}         teacher -> everyone: the id of its video track that is a screen
//                                   share, or null when the share stopped
//   {type: 'media', mic, camera}    anyone -> everyone: whether its mic / camera are on (a disabled
//                                   track still arrives, as silence / black frames)
//
// A newcomer catches up through the same messages: on `peerjoined` every client sends the new
// peer what it would have seen (its own media state and raised hand; a teacher also the students
// it promoted and its screen track). `promote` and `screen` count only from a peer whose role,
// as the signaling server reports it, is teacher: a student cannot promote itself.

const MAX_ID = 256;

export const hand = (up) => ({ type: 'hand', up: !!up });
export const promote = (peer, on) => ({ type: 'promote', peer: String(peer), on: !!on });
export const screen = (track) => ({ type: 'screen', track: track ?? null });
export const media = ({ mic, camera }) => ({ type: 'media', mic: !!mic, camera: !!camera });

const isId = (v) => typeof v === 'string' && v.length > 0 && v.length <= MAX_ID;

/**
 * Checks a received message. Returns it normalised, or null when it is not one of ours, is
 * malformed, or is not allowed from a sender with that role.
 * @param {unknown} data  what the `message` event carried (a JSON value, or text holding one)
 * @param {string} senderRole  the sender's role as the Room reports it (peer.role)
 */
export function parse(data, senderRole) {
  let msg = data;
  if (typeof data === 'string') {
    try { msg = JSON.parse(data); } catch { return null; }
  }
  if (!msg || typeof msg !== 'object' || Array.isArray(msg)) return null;
  const teacher = senderRole === 'teacher';
  switch (msg.type) {
    case 'hand':
      return typeof msg.up === 'boolean' ? hand(msg.up) : null;
    case 'promote':
      return teacher && isId(msg.peer) && typeof msg.on === 'boolean' ? promote(msg.peer, msg.on) : null;
    case 'screen':
      return teacher && (msg.track === null || isId(msg.track)) ? screen(msg.track) : null;
    case 'media':
      return typeof msg.mic === 'boolean' && typeof msg.camera === 'boolean' ? media(msg) : null;
    default:
      return null;
  }
}
