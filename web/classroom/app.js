// chorus classroom: one teacher, many students, on the public Room API only. The teacher's camera
// and screen share go to everyone and are shown big; everyone else is a thumbnail. Students join
// muted, raise a hand (protocol.js), and the teacher lets one speak: its mic and camera turn on
// and everyone shows it big. The loudest voice is highlighted (speaker.js).
//
// Test hooks: window.chorus.room; window.classroom (below); ?room=&name=&role=teacher|student
// &autojoin=1; tiles .tile[data-key][data-peer-id][data-kind][data-place="main"|"thumb"]
// [data-speaking][data-hand]; people #roster-list > .person[data-peer-id][data-hand]
// [data-promoted] with button.person-action.
import { Room } from '/js-glue/index.js';
import { fitTiles } from '/web/layout.js';
import * as proto from './protocol.js';
import { Levels, SpeakerDetector } from './speaker.js';
import { Tile, initials } from './tile.js';

const $ = (id) => document.getElementById(id);
const ui = {
  lobby: $('lobby'), form: $('join-form'), roomInput: $('room-input'), nameInput: $('name-input'),
  joinButton: $('join-button'), joinError: $('join-error'), klass: $('class'), roomInfo: $('room-info'),
  roomName: $('room-name'), roleBadge: $('role-badge'), topology: $('topology'), mediaServer: $('mediaserver'),
  state: $('room-state'), main: $('main-view'), waiting: $('waiting'), thumbs: $('thumbs'), status: $('status'),
  mic: $('mic-toggle'), camera: $('camera-toggle'), share: $('share-toggle'), shareLabel: $('share-label'),
  hand: $('hand-toggle'), handLabel: $('hand-label'), people: $('people-toggle'), peopleHands: $('people-hands'),
  leave: $('leave-button'), soundOn: $('sound-on'), roster: $('roster'), rosterList: $('roster-list'),
  rosterCount: $('roster-count'), handCount: $('hand-count'), handNumber: $('hand-number'), rosterClose: $('roster-close'),
  rosterEmpty: $('roster-empty'), rosterRoom: $('roster-room'), sinks: $('audio-sinks'),
  personTemplate: $('person-template'),
};

const TOPOLOGY_LABELS = { p2p: 'P2P', mesh: 'Mesh', sfu: 'SFU', 'mcu-audio': 'MCU audio' };
const TOPOLOGY_NOTES = {
  p2p: 'Direct connection between two browsers',
  mesh: 'Every browser sends to every other one',
  sfu: 'Through the media server: each browser sends once',
  'mcu-audio': 'Through the media server, which mixes the audio',
};

let room = null;
let ownStream = null;   // the devices this page opened (a given stream is not stopped by the Room)
let screenTrack = null; // the teacher's screen share while it runs
let handUp = false;     // this student's hand
const promoted = new Set();  // peers (this one included) the teacher lets speak
const others = new Map();    // peer id -> {hand, handAt, mic, camera, screen} as the peer told us
const tiles = new Map();     // source key -> Tile
const sinks = new Map();     // peer id -> <audio> playing its voice
const people = new Map();    // peer id -> roster <li>
const quality = new Map();   // peer id -> the simulcast layer last asked for
const layers = new Map();    // peer id -> the layer the media server says it sends
const scores = new Map();    // peer id -> its quality score (Room 'quality' event, 0-5)
let audioCtx = null;
let levels = null;
let lastLevels = new Map();
let levelTimer = 0;
const detector = new SpeakerDetector();
let speaker = null;          // the highlighted peer id (this one's own included)

// --- lobby ---

const params = new URLSearchParams(location.search);
ui.roomInput.value = params.get('room') ?? '';
ui.nameInput.value = params.get('name') ?? localStorage.getItem('chorus.name') ?? '';
const savedRole = params.get('role') ?? localStorage.getItem('classroom.role');
for (const r of ui.form.elements.role) r.checked = r.value === (savedRole === 'teacher' ? 'teacher' : 'student');
ui.form.addEventListener('submit', (e) => { e.preventDefault(); join(); });
if (params.get('autojoin') === '1' && ui.roomInput.value) join();

async function join() {
  const roomName = ui.roomInput.value.trim();
  const name = ui.nameInput.value.trim();
  const role = ui.form.elements.role.value === 'teacher' ? 'teacher' : 'student';
  if (!roomName) return ui.roomInput.focus();
  localStorage.setItem('chorus.name', name);
  localStorage.setItem('classroom.role', role);
  ui.joinError.hidden = true;
  ui.joinButton.disabled = true;
  ui.joinButton.textContent = 'Joining…';
  startAudio(); // inside the click: browsers let a page start audio after a user gesture
  try {
    ownStream = await openDevices(role);
    room = await Room.join({ room: roomName, name, role, policy: 'classroom', media: ownStream });
  } catch (err) {
    stopOwnTracks();
    showLobbyError(describeError(err));
    return;
  } finally {
    ui.joinButton.disabled = false;
    ui.joinButton.textContent = 'Join class';
  }
  window.chorus = { room };
  enterClass();
}

/**
 * Camera and microphone, opened here rather than by the Room so that a student's microphone is
 * muted (track.enabled = false) before anything is sent. Whatever device fails is left out: a
 * student without a camera still follows the class.
 */
async function openDevices(role) {
  const video = role === 'teacher'
    ? { width: { ideal: 960 }, height: { ideal: 540 } }
    : { width: { ideal: 640 }, height: { ideal: 360 } };
  const audio = { echoCancellation: true, noiseSuppression: true, autoGainControl: true };
  let stream;
  try {
    stream = await navigator.mediaDevices.getUserMedia({ audio, video });
  } catch (both) {
    stream = new MediaStream();
    for (const kind of ['audio', 'video']) {
      try {
        const s = await navigator.mediaDevices.getUserMedia({ [kind]: kind === 'audio' ? audio : video });
        s.getTracks().forEach((t) => stream.addTrack(t));
      } catch { /* that device is unavailable */ }
    }
    if (stream.getTracks().length === 0 && both?.name === 'NotAllowedError') {
      // Joining without devices is allowed; say why the camera stays dark.
      setTimeout(() => say('Camera and microphone are blocked for this page: you follow the class without them.'), 0);
    }
  }
  for (const t of stream.getAudioTracks()) t.enabled = role === 'teacher';
  return stream;
}

function stopOwnTracks() {
  ownStream?.getTracks().forEach((t) => t.stop());
  ownStream = null;
  screenTrack?.stop();
  screenTrack = null;
}

function showLobbyError(text) {
  ui.joinError.textContent = text;
  ui.joinError.hidden = false;
}

function describeError(err) {
  switch (err?.code) {
    case 'media-unavailable': return `Camera or microphone unavailable (${err.message}).`;
    case 'signaling-unreachable': return 'Cannot reach the chorus server. Is it running?';
    case 'room-full': return 'This class is full.';
    case 'unauthorized': return `Not allowed in: ${err.message}`;
    default: return err?.message ?? String(err);
  }
}

// --- in class ---

function enterClass() {
  const r = room;
  document.body.dataset.view = 'class';
  document.body.dataset.role = r.role;
  ui.lobby.hidden = true;
  ui.klass.hidden = false;
  ui.roomInfo.hidden = false;
  ui.roomName.textContent = r.roomName;
  ui.rosterRoom.textContent = r.roomName;
  ui.roleBadge.textContent = r.role === 'teacher' ? 'Teacher' : 'Student';
  ui.roleBadge.dataset.role = r.role;
  history.replaceState(null, '', `?${new URLSearchParams({ room: r.roomName, name: r.displayName, role: r.role })}`);
  showState(r.state);
  showTopology(r.topology);
  if (r.mediaServer) showMediaServer(r.mediaServer);

  r.addEventListener('statechange', (e) => showState(e.state));
  r.addEventListener('peerjoined', (e) => {
    catchUp(e.peer);
    say(`${label(e.peer)} joined`);
    render();
  });
  r.addEventListener('peerleft', (e) => {
    others.delete(e.peerId);
    promoted.delete(e.peerId);
    quality.delete(e.peerId);
    layers.delete(e.peerId);
    scores.delete(e.peerId);
    sinks.get(e.peerId)?.remove();
    sinks.delete(e.peerId);
    levels?.set(e.peerId, null);
    say(`${label(e.peer)} left${e.reason === 'timeout' ? ' (connection lost)' : ''}`);
    render();
  });
  r.addEventListener('track', () => render());
  r.addEventListener('peerstatechange', () => render());
  r.addEventListener('message', (e) => onMessage(e.peer, e.data));
  r.addEventListener('topology', (e) => showTopology(e));
  r.addEventListener('mediaserver', (e) => showMediaServer(e));
  // On the SFU a peer's tracks are swapped inside peer.stream (mesh <-> server): redraw.
  r.addEventListener('mediapath', () => render());
  r.addEventListener('mix', () => render());
  r.addEventListener('layer', (e) => {
    layers.set(e.peerId, e.layer);
    render();
  });
  r.addEventListener('quality', (e) => {
    scores.set(e.peerId, e.score);
    render();
  });
  r.addEventListener('error', (e) => {
    console.warn('chorus error', e.code, e.message);
    if (e.fatal) exitClass(`You were disconnected: ${e.message}`);
    else say(`Problem: ${e.message}`);
  });

  announceMedia();
  render();
  levelTimer = setInterval(tickLevels, 100);
}

function exitClass(message) {
  if (!room) return;
  const r = room;
  room = null;
  r.leave();
  stopOwnTracks();
  clearInterval(levelTimer);
  for (const t of tiles.values()) t.remove();
  tiles.clear();
  for (const a of sinks.values()) a.remove();
  sinks.clear();
  for (const li of people.values()) li.remove();
  people.clear();
  others.clear();
  promoted.clear();
  quality.clear();
  layers.clear();
  scores.clear();
  handUp = false;
  speaker = null;
  levels?.retain(new Set());
  document.body.dataset.view = 'lobby';
  delete document.body.dataset.role;
  delete document.body.dataset.people;
  ui.klass.hidden = true;
  ui.lobby.hidden = false;
  ui.roomInfo.hidden = true;
  ui.mediaServer.hidden = true;
  if (message) showLobbyError(message);
}

ui.leave.addEventListener('click', () => exitClass());

function showState(state) {
  ui.state.dataset.state = state;
  ui.state.textContent = state;
  if (state === 'left' && room) exitClass();
}

function showTopology({ mode, reason }) {
  ui.topology.dataset.mode = mode;
  ui.topology.textContent = TOPOLOGY_LABELS[mode] ?? mode;
  ui.topology.title = `${TOPOLOGY_NOTES[mode] ?? mode}${reason ? ` (${reason})` : ''}`;
  ui.topology.setAttribute('aria-label', `Media topology: ${ui.topology.textContent}. ${ui.topology.title}`);
}

const MEDIA_SERVER_NOTES = {
  connecting: 'Connecting to the media server; the mesh carries the media meanwhile',
  ready: 'Media goes through the media server',
  lost: 'The media server link dropped; retrying, the mesh carries the media meanwhile',
};

/** This client's link to the media server (Room.mediaServer); hidden while there is none. */
function showMediaServer({ state, mode }) {
  ui.mediaServer.hidden = !state || state === 'closed';
  ui.mediaServer.dataset.state = state;
  ui.mediaServer.textContent = `Server ${state}`;
  ui.mediaServer.title = `${MEDIA_SERVER_NOTES[state] ?? state}${mode ? ` (${TOPOLOGY_LABELS[mode] ?? mode})` : ''}`;
  ui.mediaServer.setAttribute('aria-label', `Media server: ${ui.mediaServer.title}`);
}

let sayTimer = 0;
function say(text) {
  ui.status.textContent = text;
  clearTimeout(sayTimer);
  sayTimer = setTimeout(() => { ui.status.textContent = ''; }, 6000);
}

// --- the app protocol (protocol.js) ---

/** Sends to each peer on its own, so one slow or closed peer does not stop the others. */
function tell(msg, to = room ? [...room.peers.keys()] : []) {
  for (const id of to) {
    try {
      room.send(msg, { to: id });
    } catch (err) {
      console.warn('classroom: not sent to', id, err.code ?? err);
    }
  }
}

/** What a newcomer would have seen had it been here. */
function catchUp(peer) {
  const to = [peer.id];
  tell(mediaState(), to);
  if (handUp) tell(proto.hand(true), to);
  if (room.role === 'teacher') {
    for (const id of promoted) tell(proto.promote(id, true), to);
    if (screenTrack) tell(proto.screen(screenTrack.id), to);
  }
}

function stateOf(id) {
  let s = others.get(id);
  if (!s) others.set(id, s = { hand: false, handAt: 0, mic: null, camera: null, screen: null });
  return s;
}

function onMessage(peer, data) {
  const msg = proto.parse(data, peer.role);
  if (!msg) return;
  const s = stateOf(peer.id);
  switch (msg.type) {
    case 'hand':
      if (msg.up && !s.hand) {
        s.handAt = Date.now();
        if (room.role === 'teacher') say(`${label(peer)} raised a hand`);
      }
      s.hand = msg.up;
      break;
    case 'promote':
      if (msg.on) promoted.add(msg.peer);
      else promoted.delete(msg.peer);
      if (msg.peer === room.peerId) onPromoted(msg.on, peer);
      break;
    case 'screen':
      s.screen = msg.track;
      break;
    case 'media':
      s.mic = msg.mic;
      s.camera = msg.camera;
      break;
  }
  render();
}

/** The teacher let this student speak (on) or ended it. */
async function onPromoted(on, teacher) {
  try {
    if (on) {
      setHand(false);
      await room.setMicEnabled(true);
      await room.setCameraEnabled(true);
      say(`${label(teacher)} lets you speak: your microphone is on`);
    } else {
      await room.setMicEnabled(false);
      say('Your microphone is off again');
    }
  } catch (err) {
    say(describeError(err));
  }
  announceMedia();
  render();
}

function mediaState() {
  return proto.media({ mic: room.micEnabled, camera: !!localCamera()?.enabled });
}

function announceMedia() {
  if (room) tell(mediaState());
}

function setHand(up) {
  if (handUp === up) return;
  handUp = up;
  tell(proto.hand(up));
  render();
}

/** Teacher: let a student speak, or stop it. */
function setPromoted(id, on) {
  if (room?.role !== 'teacher') return;
  if (on) promoted.add(id);
  else promoted.delete(id);
  tell(proto.promote(id, on));
  if (on) stateOf(id).hand = false; // the student lowers it too; don't wait for it
  render();
}

// --- controls ---

ui.mic.addEventListener('click', async () => {
  if (!room) return;
  try {
    await room.setMicEnabled(!room.micEnabled);
  } catch (err) {
    say(describeError(err));
  }
  announceMedia();
  render();
});

ui.camera.addEventListener('click', async () => {
  if (!room) return;
  const cam = localCamera();
  const on = !cam?.enabled;
  try {
    // While a screen share runs, Room.setCameraEnabled would switch it too (it acts on every
    // video track of localStream), so the camera track is switched on its own.
    if (screenTrack && cam) cam.enabled = on;
    else await room.setCameraEnabled(on);
  } catch (err) {
    say(describeError(err));
  }
  announceMedia();
  render();
});

ui.share.addEventListener('click', () => (screenTrack ? stopScreen() : startScreen()));

async function startScreen() {
  if (!room || screenTrack) return;
  let stream;
  try {
    stream = await navigator.mediaDevices.getDisplayMedia({ video: { frameRate: { ideal: 15, max: 30 } }, audio: false });
  } catch (err) {
    if (err?.name !== 'NotAllowedError' && err?.name !== 'AbortError') say(`Cannot share the screen: ${err.message}`);
    return;
  }
  const track = stream.getVideoTracks()[0];
  if (!track || !room) {
    stream.getTracks().forEach((t) => t.stop());
    return;
  }
  track.contentHint = 'detail'; // text and slides: keep them sharp rather than smooth
  track.addEventListener('ended', stopScreen, { once: true }); // the browser's own "Stop sharing"
  screenTrack = track;
  room.addTrack(track);
  tell(proto.screen(track.id));
  say('Everyone sees your screen');
  render();
}

function stopScreen() {
  if (!screenTrack) return;
  const track = screenTrack;
  screenTrack = null;
  room?.removeTrack(track);
  track.stop();
  if (room) tell(proto.screen(null));
  render();
}

ui.hand.addEventListener('click', () => {
  if (room && !promoted.has(room.peerId)) setHand(!handUp);
});

ui.people.addEventListener('click', () => setPeopleOpen(document.body.dataset.people !== 'open'));
ui.rosterClose.addEventListener('click', () => setPeopleOpen(false));
function setPeopleOpen(open) {
  if (open) document.body.dataset.people = 'open';
  else delete document.body.dataset.people;
  ui.people.setAttribute('aria-expanded', String(open));
  if (open) ui.rosterClose.focus();
}
document.addEventListener('keydown', (e) => {
  if (e.key === 'Escape' && document.body.dataset.people === 'open') {
    setPeopleOpen(false);
    ui.people.focus();
  }
});

// --- sound and the active speaker ---

function startAudio() {
  if (!audioCtx) {
    audioCtx = new AudioContext();
    levels = new Levels(audioCtx);
    audioCtx.addEventListener('statechange', showSoundButton);
  }
  if (audioCtx.state === 'suspended') audioCtx.resume().catch(() => {});
}

// Autoplay with sound needs a user gesture; after an automatic join (a link) the first tap
// anywhere, or the "sound is off" button, starts it.
function unlockSound() {
  startAudio();
  for (const a of sinks.values()) a.play().then(showSoundButton, () => {});
}
document.addEventListener('pointerdown', unlockSound, true);
document.addEventListener('keydown', unlockSound, true);
ui.soundOn.addEventListener('click', unlockSound);

function showSoundButton() {
  const blocked = !!room && ((audioCtx?.state === 'suspended') || [...sinks.values()].some((a) => a.srcObject && a.paused));
  ui.soundOn.hidden = !blocked;
}

/** One <audio> per peer plays its voice; the same track feeds its level meter. */
function syncSound() {
  const ids = new Set();
  for (const peer of room.peers.values()) {
    const tracks = peer.audioTracks.filter((t) => t.readyState === 'live');
    let a = sinks.get(peer.id);
    if (!a) {
      a = document.createElement('audio');
      a.autoplay = true;
      a.dataset.peerId = peer.id;
      ui.sinks.append(a);
      sinks.set(peer.id, a);
    }
    const playing = a.srcObject?.getAudioTracks() ?? [];
    if (tracks.length !== playing.length || tracks.some((t) => !playing.includes(t))) {
      a.srcObject = tracks.length ? new MediaStream(tracks) : null;
      if (a.srcObject) a.play().then(showSoundButton, showSoundButton);
    }
    levels?.set(peer.id, tracks[0] ?? null);
    ids.add(peer.id);
  }
  // The audio MCU's mix (topology mcu-audio) plays on its own; it cannot say who speaks.
  const mix = room.mixStream?.getAudioTracks().filter((t) => t.readyState === 'live') ?? [];
  let m = sinks.get('mix');
  if (mix.length && !m) {
    m = document.createElement('audio');
    m.autoplay = true;
    m.dataset.peerId = 'mix';
    ui.sinks.append(m);
    sinks.set('mix', m);
  }
  if (m) {
    const playing = m.srcObject?.getAudioTracks() ?? [];
    if (mix.length !== playing.length || mix.some((t) => !playing.includes(t))) {
      m.srcObject = mix.length ? new MediaStream(mix) : null;
      if (m.srcObject) m.play().then(showSoundButton, showSoundButton);
    }
  }
  if (room.peerId) {
    levels?.set(room.peerId, room.localStream.getAudioTracks().find((t) => t.readyState === 'live') ?? null);
    ids.add(room.peerId);
  }
  levels?.retain(ids);
}

function tickLevels() {
  if (!room || !levels) return;
  lastLevels = levels.sample();
  const now = detector.update(lastLevels, performance.now());
  if (now !== speaker) {
    speaker = now;
    render();
  }
}

// --- what is shown where ---

function localCamera() {
  return room?.localStream.getVideoTracks().find((t) => t !== screenTrack && t.readyState === 'live') ?? null;
}

function label(peer) {
  return peer?.name || `Guest ${String(peer?.id ?? '').slice(0, 4)}`;
}

/** Every video source of the class: each camera (a dark one too) and each screen share. */
function sources() {
  const me = room.peerId;
  const cam = localCamera();
  const list = [{
    key: 'local:camera', peerId: me, kind: 'camera', local: true, name: `${room.displayName || 'You'} (you)`,
    role: room.role, track: cam, camera: !!cam?.enabled, mic: room.micEnabled, hand: handUp,
    promoted: promoted.has(me),
  }];
  if (screenTrack) {
    list.push({ key: 'local:screen', peerId: me, kind: 'screen', local: true, name: room.displayName || 'Your',
      role: room.role, track: screenTrack, camera: true, mic: false, hand: false, promoted: false });
  }
  for (const peer of room.peers.values()) {
    const s = stateOf(peer.id);
    const live = peer.videoTracks.filter((t) => t.readyState === 'live');
    // The teacher names its screen track; if the id does not match (a relayed track may carry
    // another), the screen is the video track that came last.
    let screen = null;
    if (s.screen) screen = live.find((t) => t.id === s.screen) ?? (live.length > 1 ? live.at(-1) : null);
    const camera = live.find((t) => t !== screen) ?? null;
    list.push({
      key: `${peer.id}:camera`, peerId: peer.id, kind: 'camera', local: false, name: label(peer), role: peer.role,
      track: camera, camera: s.camera ?? true, mic: s.mic ?? peer.audioTracks.length > 0, hand: s.hand,
      promoted: promoted.has(peer.id),
    });
    if (screen) {
      list.push({ key: `${peer.id}:screen`, peerId: peer.id, kind: 'screen', local: false, name: label(peer),
        role: peer.role, track: screen, camera: true, mic: false, hand: false, promoted: false });
    }
  }
  for (const s of list) {
    s.speaking = s.kind === 'camera' && s.peerId === speaker && speaker !== null;
    s.quality = s.kind === 'camera' && !s.local ? scores.get(s.peerId) ?? null : null;
  }
  return list;
}

/**
 * Big: the teacher's screen share (else its camera), and every student allowed to speak.
 * Thumbnails: everyone else, teachers first, then you, then the class in join order.
 */
function layout(list) {
  const teacherScreen = list.find((s) => s.kind === 'screen' && s.role === 'teacher');
  const teacherCamera = list.find((s) => s.kind === 'camera' && s.role === 'teacher');
  const main = [];
  if (teacherScreen ?? teacherCamera) main.push(teacherScreen ?? teacherCamera);
  for (const s of list) if (s.kind === 'camera' && s.promoted && s.role !== 'teacher') main.push(s);
  const rank = (s) => (s.role === 'teacher' ? 0 : s.local ? 1 : 2);
  const thumbs = list.filter((s) => !main.includes(s)).sort((a, b) => rank(a) - rank(b));
  return { main, thumbs };
}

function render() {
  if (!room) return;
  syncSound();
  const list = sources();
  const { main, thumbs } = layout(list);
  const keep = new Set(list.map((s) => s.key));
  for (const [key, tile] of tiles) {
    if (!keep.has(key)) {
      tile.remove();
      tiles.delete(key);
    }
  }
  const tileFor = (s) => {
    let t = tiles.get(s.key);
    if (!t) {
      tiles.set(s.key, t = new Tile(s));
      // The rendered size of each remote camera caps what is sent for it (the bitrate controller).
      if (s.kind === 'camera' && !s.local && typeof room.attachView === 'function') t.detachView = room.attachView(s.peerId, t.video);
    }
    t.update(s);
    return t;
  };
  main.forEach((s, i) => tileFor(s).place(ui.main, i, 'main'));
  thumbs.forEach((s, i) => tileFor(s).place(ui.thumbs, i, 'thumb'));
  ui.main.dataset.count = String(main.length);
  ui.waiting.hidden = main.length > 0;
  fitTiles(ui.main, main.length, { aspect: 16 / 9 });
  askQuality(main);
  renderControls();
  renderPeople();
}
new ResizeObserver(() => room && fitTiles(ui.main, ui.main.children.length, { aspect: 16 / 9 })).observe(ui.main);

/**
 * Thumbnails ask for the low simulcast layer, the main view for the high one. The Room keeps the
 * choice and applies it when the video comes from the media server (sfu); on a mesh it changes
 * nothing. (Checked for, so the page also runs on a build without it.)
 */
function askQuality(main) {
  if (typeof room.setVideoQuality !== 'function') return;
  const big = new Set(main.filter((s) => !s.local).map((s) => s.peerId));
  for (const peer of room.peers.values()) {
    const q = big.has(peer.id) ? 'high' : 'low';
    if (quality.get(peer.id) === q) continue;
    quality.set(peer.id, q);
    try {
      room.setVideoQuality(peer.id, q);
    } catch (err) {
      console.warn('classroom: setVideoQuality', err);
    }
  }
}

function renderControls() {
  const teacher = room.role === 'teacher';
  const mayTalk = teacher || promoted.has(room.peerId);
  const mic = room.micEnabled;
  ui.mic.setAttribute('aria-pressed', String(mic));
  ui.mic.disabled = !mayTalk && !mic;
  ui.mic.title = ui.mic.disabled ? 'Raise your hand: the teacher turns your microphone on'
    : mic ? 'Mute microphone' : 'Unmute microphone';
  ui.mic.setAttribute('aria-label', ui.mic.disabled ? 'Microphone (off until the teacher lets you speak)' : 'Microphone');
  const cam = !!localCamera()?.enabled;
  ui.camera.setAttribute('aria-pressed', String(cam));
  ui.camera.title = cam ? 'Turn camera off' : 'Turn camera on';
  ui.share.setAttribute('aria-pressed', String(!!screenTrack));
  ui.shareLabel.textContent = screenTrack ? 'Stop sharing' : 'Share screen';
  ui.share.title = screenTrack ? 'Stop sharing your screen' : 'Share your screen with the class';
  const speaking = promoted.has(room.peerId) && !teacher;
  ui.hand.setAttribute('aria-pressed', String(handUp));
  ui.hand.disabled = speaking;
  ui.handLabel.textContent = speaking ? 'You may speak' : handUp ? 'Lower hand' : 'Raise hand';
  ui.hand.title = speaking ? 'The teacher lets you speak' : handUp ? 'Lower your hand' : 'Raise your hand to speak';
}

/**
 * The people list: you, then teachers, raised hands (oldest first), students who may speak, and
 * the rest in join order. The teacher's rows have a button to let a student speak or stop it.
 */
function renderPeople() {
  const teacher = room.role === 'teacher';
  const me = {
    id: room.peerId, name: `${room.displayName || 'You'} (you)`, role: room.role, self: true,
  };
  const all = [...room.peers.values()];
  const rank = (p) => {
    const s = stateOf(p.id);
    if (p.role === 'teacher') return [1, 0];
    if (s.hand) return [2, s.handAt];
    if (promoted.has(p.id)) return [3, 0];
    return [4, 0];
  };
  const order = [me, ...all.map((p, i) => ({ p, r: rank(p), i }))
    .sort((a, b) => a.r[0] - b.r[0] || a.r[1] - b.r[1] || a.i - b.i).map((x) => x.p)];
  const shown = new Set(order.map((p) => p.id));
  for (const [id, li] of people) {
    if (!shown.has(id)) {
      li.remove();
      people.delete(id);
    }
  }
  order.forEach((p, i) => {
    let li = people.get(p.id);
    if (!li) {
      li = ui.personTemplate.content.firstElementChild.cloneNode(true);
      li.dataset.peerId = p.id;
      if (p.self) li.dataset.self = '';
      li.querySelector('.person-action').addEventListener('click', () => setPromoted(p.id, !promoted.has(p.id)));
      people.set(p.id, li);
    }
    const hand = p.self ? handUp : stateOf(p.id).hand;
    const mic = p.self ? room.micEnabled : stateOf(p.id).mic;
    const name = p.self ? p.name : label(p);
    const isPromoted = promoted.has(p.id);
    li.dataset.role = p.role;
    li.toggleAttribute('data-hand', hand);
    li.toggleAttribute('data-promoted', isPromoted);
    li.toggleAttribute('data-speaking', p.id === speaker);
    li.querySelector('.person-initials').textContent = initials(name.replace(/ \(you\)$/, ''));
    li.querySelector('.person-name').textContent = name;
    li.querySelector('.person-state').textContent = p.role === 'teacher' ? 'Teacher'
      : hand ? 'Hand raised' : isPromoted ? 'May speak' : mic ? 'Mic on' : 'Listening';
    const action = li.querySelector('.person-action');
    action.hidden = !teacher || p.role === 'teacher' || !!p.self;
    action.textContent = isPromoted ? 'Mute' : 'Let speak';
    action.setAttribute('aria-label', isPromoted ? `Stop ${name} speaking` : `Let ${name} speak`);
    action.dataset.promoted = String(isPromoted);
    if (ui.rosterList.children[i] !== li) ui.rosterList.insertBefore(li, ui.rosterList.children[i] ?? null);
  });
  const students = all.filter((p) => p.role !== 'teacher').length + (room.role === 'teacher' ? 0 : 1);
  const hands = all.filter((p) => stateOf(p.id).hand).length + (handUp ? 1 : 0);
  ui.rosterCount.textContent = `(${all.length + 1})`;
  ui.rosterEmpty.hidden = all.length > 0;
  ui.handCount.hidden = hands === 0;
  ui.handNumber.textContent = String(hands);
  ui.handCount.title = `${hands} raised hand${hands === 1 ? '' : 's'}`;
  ui.peopleHands.hidden = hands === 0;
  ui.peopleHands.textContent = String(hands);
  ui.people.setAttribute('aria-label', `People: ${all.length + 1} in class, ${students} student${students === 1 ? '' : 's'}, ${hands} raised hand${hands === 1 ? '' : 's'}`);
}

// Test and console hooks.
window.classroom = {
  get room() { return room; },
  hands: () => (room ? [...room.peers.keys()].filter((id) => stateOf(id).hand) : []),
  handUp: () => handUp,
  promoted: () => [...promoted],
  speaker: () => speaker,
  levels: () => Object.fromEntries(lastLevels),
  quality: () => Object.fromEntries(quality),
  layers: () => Object.fromEntries(layers),
  scores: () => Object.fromEntries(scores),
  layout: () => ({
    main: [...ui.main.querySelectorAll('.tile')].map((t) => t.dataset.key),
    thumbs: [...ui.thumbs.querySelectorAll('.tile')].map((t) => t.dataset.key),
  }),
  setPromoted,
  startScreen,
  stopScreen,
};
