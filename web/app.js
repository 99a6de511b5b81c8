// The chorus demo: join a room, see everyone, talk, chat, send files. All WebRTC work is the
// library's; this file is only UI. Test hooks: window.chorus.room, tiles [data-peer-id][data-state],
// #chat-log / #chat-input / #chat-send, #room-state[data-state], ?room=&name=&autojoin=1,
// #transfer-list > .xfer[data-direction][data-state][data-peer-id][data-sha256] with
// a.xfer-download (receiver, once complete) and .xfer-hash.
import { Room } from '/js-glue/index.js';
import { fitTiles } from '/web/layout.js';

const $ = (sel) => document.querySelector(sel);
const ui = {
  lobby: $('#lobby'), call: $('#call'), form: $('#join-form'), roomInput: $('#room-input'),
  nameInput: $('#name-input'), joinMic: $('#join-mic'), joinCamera: $('#join-camera'),
  joinButton: $('#join-button'), joinError: $('#join-error'), roomInfo: $('#room-info'),
  roomName: $('#room-name'), roomState: $('#room-state'), copyLink: $('#copy-link'),
  grid: $('#video-grid'), mic: $('#mic-toggle'), camera: $('#camera-toggle'),
  chatToggle: $('#chat-toggle'), chatClose: $('#chat-close'), unread: $('#chat-unread'),
  leave: $('#leave-button'), chatLog: $('#chat-log'), chatForm: $('#chat-form'),
  chatInput: $('#chat-input'), tileTemplate: $('#tile-template'), transfers: $('#transfers'),
  transferList: $('#transfer-list'), filePicker: $('#file-picker'), transferTemplate: $('#transfer-template'),
};

let room = null;
const tiles = new Map(); // peer id -> tile element ('local' for ourselves)
let unread = 0;
const announced = new Map(); // peer id -> {mic, camera} as the peer last told us

// --- lobby ---

const params = new URLSearchParams(location.search);
ui.roomInput.value = params.get('room') ?? '';
ui.nameInput.value = params.get('name') ?? localStorage.getItem('chorus.name') ?? '';
ui.form.addEventListener('submit', (e) => { e.preventDefault(); join(); });
if (params.get('autojoin') === '1' && ui.roomInput.value) join();

async function join() {
  const roomName = ui.roomInput.value.trim();
  const name = ui.nameInput.value.trim();
  if (!roomName) return ui.roomInput.focus();
  localStorage.setItem('chorus.name', name);
  ui.joinError.hidden = true;
  ui.joinButton.disabled = true;
  ui.joinButton.textContent = 'Joining…';
  try {
    room = await Room.join({
      room: roomName, name, media: { audio: ui.joinMic.checked, video: ui.joinCamera.checked },
    });
  } catch (err) {
    showLobbyError(describeError(err));
    return;
  } finally {
    ui.joinButton.disabled = false;
    ui.joinButton.textContent = 'Join room';
  }
  window.chorus = { room };
  enterCall(room);
}

function showLobbyError(text) {
  ui.joinError.textContent = text;
  ui.joinError.hidden = false;
}

function describeError(err) {
  switch (err?.code) {
    case 'media-unavailable':
      return `Camera or microphone unavailable (${err.message}). Untick them to join without.`;
    case 'signaling-unreachable': return 'Cannot reach the chorus server. Is it running?';
    case 'room-full': return 'This room is full.';
    default: return err?.message ?? String(err);
  }
}

// --- in the call ---

function enterCall(r) {
  document.body.dataset.view = 'call';
  ui.lobby.hidden = true;
  ui.call.hidden = false;
  ui.roomInfo.hidden = false;
  ui.roomName.textContent = r.roomName;
  const shared = new URL(location.href);
  shared.search = new URLSearchParams({ room: r.roomName }).toString();
  history.replaceState(null, '', `?${new URLSearchParams({ room: r.roomName, name: r.displayName })}`);
  ui.copyLink.onclick = () => navigator.clipboard?.writeText(shared.href).then(() => flash(ui.copyLink));
  showState(r.state);
  ui.chatLog.replaceChildren(emptyNote());

  addTile('local', { name: `${r.displayName || 'You'} (you)`, stream: r.localStream, local: true });
  tiles.get('local').dataset.peerId = r.peerId;
  for (const peer of r.peers.values()) addPeerTile(peer);
  updateLocalMedia();
  announceMedia(); // the peers already here learn our mic/camera state
  relayout();

  r.addEventListener('statechange', (e) => showState(e.state));
  r.addEventListener('peerjoined', (e) => {
    addPeerTile(e.peer);
    announceMedia(e.peer.id); // queued by the library until the channel to it opens
    systemMessage(`${label(e.peer)} joined`);
  });
  r.addEventListener('peerleft', (e) => {
    removeTile(e.peerId);
    announced.delete(e.peerId);
    systemMessage(`${label(e.peer)} left${e.reason === 'timeout' ? ' (connection lost)' : ''}`);
  });
  r.addEventListener('peerstatechange', (e) => updatePeerTile(e.peer));
  r.addEventListener('track', (e) => updatePeerTile(e.peer, true));
  r.addEventListener('message', (e) => onData(e.peer, e.data));
  r.addEventListener('file', (e) => showTransfer(e.transfer, label(e.peer)));
  r.addEventListener('error', (e) => {
    console.warn('chorus error', e.code, e.message);
    if (!e.fatal) systemMessage(`Problem: ${e.message}`);
    else exitCall(`You were disconnected: ${e.message}`);
  });
}

function exitCall(message) {
  if (!room) return;
  const r = room;
  room = null;
  r.leave();
  clearTransfers();
  for (const id of [...tiles.keys()]) removeTile(id);
  announced.clear();
  document.body.dataset.view = 'lobby';
  document.body.dataset.chat = '';
  ui.call.hidden = true;
  ui.lobby.hidden = false;
  ui.roomInfo.hidden = true;
  if (message) showLobbyError(message);
}

ui.leave.addEventListener('click', () => exitCall());

function showState(state) {
  ui.roomState.dataset.state = state;
  ui.roomState.textContent = state;
  if (state === 'left' && room) exitCall();
}

// --- tiles ---

function addTile(id, { name, stream, local = false }) {
  const tile = ui.tileTemplate.content.firstElementChild.cloneNode(true);
  const video = tile.querySelector('video');
  tile.dataset.peerId = id;
  if (local) {
    tile.dataset.local = '';
    video.muted = true; // never hear yourself
  }
  tile.querySelector('.tile-name').textContent = name;
  if (!local) {
    const send = tile.querySelector('.tile-send');
    send.title = `Send a file to ${name}`;
    send.setAttribute('aria-label', send.title);
    send.addEventListener('click', () => pickFilesFor(id));
    tile.querySelector('.drop-text').textContent = `Send to ${name}`;
  } else {
    tile.querySelector('.tile-send').remove();
    tile.querySelector('.drop-hint').remove();
  }
  tile.querySelector('.avatar').dataset.initials = initials(name);
  video.srcObject = stream;
  play(video);
  tiles.set(id, tile);
  if (local) ui.grid.prepend(tile);
  else ui.grid.append(tile);
  relayout();
  return tile;
}

function addPeerTile(peer) {
  if (tiles.has(peer.id)) return;
  addTile(peer.id, { name: label(peer), stream: peer.stream });
  updatePeerTile(peer);
}

function updatePeerTile(peer, tracksChanged = false) {
  const tile = tiles.get(peer.id);
  if (!tile) return;
  const state = peer.connectionState;
  tile.dataset.state = state;
  tile.querySelector('.tile-state').textContent = state === 'new' ? 'connecting' : state;
  const media = announced.get(peer.id);
  const hasVideo = peer.videoTracks.some((t) => t.readyState === 'live');
  tile.dataset.video = hasVideo && media?.camera !== false ? 'on' : 'off';
  tile.dataset.mic = media?.mic === false || (media === undefined && peer.audioTracks.length === 0) ? 'off' : 'on';
  if (tracksChanged) {
    const video = tile.querySelector('video');
    video.srcObject = peer.stream; // re-attach so the element picks up tracks added later
    play(video);
  }
}

function removeTile(id) {
  const tile = tiles.get(id);
  if (!tile) return;
  tile.querySelector('video').srcObject = null;
  tile.remove();
  tiles.delete(id);
  relayout();
}

function play(video) {
  video.play().catch(() => {
    // Autoplay with sound refused (no user gesture yet): play muted, unmute on first click.
    if (video.muted) return;
    video.muted = true;
    video.play().catch(() => {});
    document.addEventListener('pointerdown', () => { video.muted = false; }, { once: true });
  });
}

function relayout() {
  fitTiles(ui.grid, tiles.size);
  markTrayOverflow();
}
new ResizeObserver(relayout).observe(ui.grid);

function label(peer) { return peer.name || `Guest ${peer.id.slice(0, 4)}`; }
function initials(name) {
  return name.replace(/\(you\)/, '').trim().split(/\s+/).slice(0, 2).map((w) => w[0]?.toUpperCase() ?? '').join('') || '?';
}

// --- local media ---

ui.mic.addEventListener('click', () => toggle((on) => room.setMicEnabled(on), room?.micEnabled));
ui.camera.addEventListener('click', () => toggle((on) => room.setCameraEnabled(on), room?.cameraEnabled));

async function toggle(set, current) {
  if (!room) return;
  try {
    await set(!current);
  } catch (err) {
    systemMessage(describeError(err));
  }
  updateLocalMedia();
  announceMedia();
}

function updateLocalMedia() {
  if (!room) return;
  const mic = room.micEnabled;
  const cam = room.cameraEnabled;
  ui.mic.setAttribute('aria-pressed', String(mic));
  ui.mic.title = mic ? 'Mute microphone' : 'Unmute microphone';
  ui.camera.setAttribute('aria-pressed', String(cam));
  ui.camera.title = cam ? 'Turn camera off' : 'Turn camera on';
  const tile = tiles.get('local');
  if (!tile) return;
  tile.dataset.mic = mic ? 'on' : 'off';
  tile.dataset.video = cam ? 'on' : 'off';
  const video = tile.querySelector('video');
  video.srcObject = room.localStream; // a camera acquired later is a new track in the same stream
  play(video);
}

// --- app messages over the DataChannels, JSON: {type: 'chat', text} | {type: 'media', mic, camera} ---

function announceMedia(to) {
  if (!room || room.peers.size === 0) return;
  try {
    room.send(JSON.stringify({ type: 'media', mic: room.micEnabled, camera: room.cameraEnabled }),
      to ? { to } : {});
  } catch (err) {
    console.warn('could not announce media state', err);
  }
}

ui.chatForm.addEventListener('submit', (e) => {
  e.preventDefault();
  const text = ui.chatInput.value.trim();
  if (!text || !room) return;
  try {
    if (room.peers.size > 0) room.send(JSON.stringify({ type: 'chat', text }));
  } catch (err) {
    return systemMessage(`Not sent: ${err.message}`);
  }
  appendMessage({ who: 'You', text, self: true });
  ui.chatInput.value = '';
});

function onData(peer, data) {
  let msg = data; // JSON text from this demo; a JSON value from apps that send objects
  if (typeof data === 'string') {
    try { msg = JSON.parse(data); } catch { return; }
  }
  if (msg?.type === 'media') {
    announced.set(peer.id, { mic: msg.mic !== false, camera: msg.camera !== false });
    return updatePeerTile(peer);
  }
  if (msg?.type !== 'chat' || typeof msg.text !== 'string') return;
  appendMessage({ who: label(peer), text: msg.text.slice(0, 2000), from: peer.id });
  if (document.body.dataset.chat !== 'open' && getComputedStyle(ui.chatToggle).display !== 'none') {
    ui.unread.textContent = String(++unread);
    ui.unread.hidden = false;
  }
}

function appendMessage({ who, text, self = false, from }) {
  ui.chatLog.querySelector('.chat-empty')?.remove();
  const li = document.createElement('li');
  li.className = 'msg';
  if (self) li.dataset.self = '';
  if (from) li.dataset.from = from;
  const whoEl = document.createElement('span');
  whoEl.className = 'who';
  whoEl.textContent = `${who} · ${new Date().toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' })}`;
  const textEl = document.createElement('span');
  textEl.className = 'text';
  textEl.textContent = text; // textContent, never innerHTML: messages come from other people
  li.append(whoEl, textEl);
  addToLog(li);
}

function systemMessage(text) {
  ui.chatLog.querySelector('.chat-empty')?.remove();
  const li = document.createElement('li');
  li.className = 'msg system';
  li.textContent = text;
  addToLog(li);
}

function addToLog(li) {
  const atBottom = ui.chatLog.scrollHeight - ui.chatLog.scrollTop - ui.chatLog.clientHeight < 40;
  ui.chatLog.append(li);
  if (atBottom) li.scrollIntoView({ block: 'end' });
}

function emptyNote() {
  const li = document.createElement('li');
  li.className = 'chat-empty';
  li.textContent = 'Messages go straight to the others over WebRTC DataChannels.';
  return li;
}

ui.chatToggle.addEventListener('click', () => {
  const open = document.body.dataset.chat !== 'open';
  document.body.dataset.chat = open ? 'open' : '';
  if (open) {
    unread = 0;
    ui.unread.hidden = true;
    ui.chatInput.focus();
  }
});
ui.chatClose.addEventListener('click', () => { document.body.dataset.chat = ''; });

function flash(el) {
  el.animate([{ background: 'var(--ok)' }, { background: '' }], { duration: 600 });
}

// --- files: drop one on a peer's tile (or use its paperclip button) to send it to that peer ---

const transfers = new Map(); // FileTransfer -> { el, url (receiver's blob URL), who, end (last event) }
const MAX_TRANSFER_CARDS = 12; // finished cards beyond this are dropped, oldest first
let pickFor = null;            // peer id the file picker was opened for
let dropTile = null;           // the tile highlighted as the drop target
let dragTimer = 0;

function pickFilesFor(peerId) {
  pickFor = peerId;
  ui.filePicker.value = '';
  ui.filePicker.click();
}

ui.filePicker.addEventListener('change', () => {
  for (const file of ui.filePicker.files) sendFileTo(pickFor, file);
  ui.filePicker.value = '';
});

function sendFileTo(peerId, file) {
  if (!room) return;
  const peer = room.peers.get(peerId);
  const who = peer ? label(peer) : 'someone who left';
  try {
    showTransfer(room.sendFile(file, { to: peerId }), who);
  } catch (err) {
    // Not sent at all (e.g. the connection to that peer is not open yet): a failed card says why.
    showTransfer({ direction: 'send', peerId, name: file.name, size: file.size, state: 'failed',
      error: err }, who);
  }
}

// Files dragged over the window: remote tiles show they accept them, the one under the pointer
// is highlighted. A drop anywhere else is swallowed, so a missed tile does not navigate the call
// away to the file. The dragging state clears itself when dragover events stop coming (the drag
// left the window or ended) — more reliable than counting dragenter/dragleave over children.
const carriesFiles = (e) => !!e.dataTransfer && [...e.dataTransfer.types].includes('Files');
const tileFor = (e) => {
  const tile = e.target instanceof Element ? e.target.closest('.tile') : null;
  return tile && !('local' in tile.dataset) && ui.grid.contains(tile) ? tile : null;
};

function onDragOver(e) {
  if (!room || !carriesFiles(e)) return;
  e.preventDefault();
  const tile = tileFor(e);
  e.dataTransfer.dropEffect = tile ? 'copy' : 'none';
  document.body.dataset.dragging = 'files';
  setDropTile(tile);
  clearTimeout(dragTimer);
  dragTimer = setTimeout(endDrag, 250);
}
document.addEventListener('dragenter', onDragOver);
document.addEventListener('dragover', onDragOver);
document.addEventListener('dragend', endDrag);
document.addEventListener('drop', (e) => {
  const files = e.dataTransfer?.files;
  if (!files?.length && !carriesFiles(e)) return;
  e.preventDefault();
  endDrag();
  const tile = tileFor(e);
  if (!tile || !room) return;
  for (const file of files) sendFileTo(tile.dataset.peerId, file);
});

function setDropTile(tile) {
  if (tile === dropTile) return;
  if (dropTile) delete dropTile.dataset.drop;
  dropTile = tile;
  if (tile) tile.dataset.drop = 'over';
}

function endDrag() {
  clearTimeout(dragTimer);
  setDropTile(null);
  delete document.body.dataset.dragging;
}

/** Adds a card for `t` (a FileTransfer, or a plain record of one that could not start). */
function showTransfer(t, who) {
  const el = ui.transferTemplate.content.firstElementChild.cloneNode(true);
  const entry = { el, url: null, who, end: null };
  transfers.set(t, entry);
  el.dataset.direction = t.direction;
  el.dataset.peerId = t.peerId;
  el.querySelector('.xfer-name').textContent = t.name || 'unnamed file';
  el.querySelector('.xfer-name').title = t.name;
  el.querySelector('.xfer-size').textContent = formatBytes(t.size);
  el.querySelector('.xfer-peer').textContent = `${t.direction === 'send' ? 'to' : 'from'} ${who}`;
  el.querySelector('.xfer-bar').setAttribute('aria-label', `${t.name}, ${t.direction === 'send' ? 'sent' : 'received'}`);
  const cancel = el.querySelector('.xfer-cancel');
  cancel.title = `Stop ${t.direction === 'send' ? 'sending' : 'receiving'} ${t.name}`;
  cancel.addEventListener('click', () => t.cancel?.());
  el.querySelector('.xfer-dismiss').addEventListener('click', () => removeTransfer(t));
  if (t instanceof EventTarget) {
    t.addEventListener('progress', () => scheduleRender(t));
    for (const type of ['complete', 'cancel', 'error']) {
      t.addEventListener(type, (e) => { entry.end = e; renderTransfer(t); });
    }
  } else {
    entry.end = t.error;
  }
  ui.transferList.prepend(el); // newest first
  ui.transfers.hidden = false;
  renderTransfer(t);
  trimTransfers();
  markTrayOverflow();
}

// A tray taller than its room scrolls; its bottom edge fades while more cards are below.
function markTrayOverflow() {
  const { scrollHeight, scrollTop, clientHeight } = ui.transfers;
  ui.transfers.toggleAttribute('data-more', scrollHeight - scrollTop - clientHeight > 2);
}
ui.transfers.addEventListener('scroll', markTrayOverflow, { passive: true });

// Progress can come hundreds of times a second: draw at most once a frame.
const dirty = new Set();
function scheduleRender(t) {
  if (dirty.has(t)) return;
  dirty.add(t);
  if (dirty.size === 1) requestAnimationFrame(() => {
    for (const x of dirty) renderTransfer(x);
    dirty.clear();
  });
}

function renderTransfer(t) {
  const entry = transfers.get(t);
  if (!entry) return;
  const { el } = entry;
  const state = t.state;
  el.dataset.state = state;
  const fraction = state === 'complete' ? 1 : t.size > 0 ? Math.min(1, (t.bytes ?? 0) / t.size) : 0;
  const bar = el.querySelector('.xfer-bar');
  bar.style.setProperty('--progress', String(fraction));
  bar.setAttribute('aria-valuenow', String(Math.round(fraction * 100)));
  const detail = el.querySelector('.xfer-detail');
  el.querySelector('.xfer-cancel').hidden = state !== 'active';
  el.querySelector('.xfer-dismiss').hidden = state === 'active';

  if (state === 'active') {
    const pct = `${Math.floor(fraction * 100)}%`;
    detail.textContent = t.rate > 0 ? `${pct} · ${formatRate(t.rate)} · ${formatEta(t.eta)}` : `${pct} · starting…`;
  } else if (state === 'complete') {
    el.dataset.sha256 = t.sha256 ?? '';
    const hash = document.createElement('code');
    hash.className = 'xfer-hash';
    hash.textContent = (t.sha256 ?? '').slice(0, 12);
    hash.title = `SHA-256 ${t.sha256}`;
    detail.replaceChildren('✓ SHA-256 verified ', hash);
    if (t.direction === 'receive' && t.blob && !entry.url) {
      entry.url = URL.createObjectURL(t.blob);
      const link = el.querySelector('.xfer-download');
      link.href = entry.url;
      link.download = t.name || 'download';
      link.title = `Save ${t.name} (${formatBytes(t.blob.size)})`;
      link.hidden = false;
    }
  } else if (state === 'cancelled') {
    detail.textContent = describeCancel(entry.end, entry.who);
  } else {
    const err = entry.end ?? {};
    detail.textContent = `Failed: ${err.message ?? 'unknown error'}`;
    detail.title = err.code ?? '';
  }
  if (state !== 'active') detail.title ||= detail.textContent;
}

function describeCancel(ev, who) {
  const reason = ev?.reason ?? '';
  const generic = !reason || reason === 'cancelled' || reason === 'cancelled by the peer';
  if (ev?.by === 'local') return generic ? 'You cancelled' : `Cancelled: ${reason}`;
  if (reason === 'the peer left') return `Stopped: ${who} left`;
  return generic ? `${who} cancelled` : `${who} cancelled: ${reason}`;
}

function removeTransfer(t) {
  const entry = transfers.get(t);
  if (!entry) return;
  transfers.delete(t);
  dirty.delete(t);
  if (entry.url) URL.revokeObjectURL(entry.url);
  entry.el.remove();
  ui.transfers.hidden = transfers.size === 0;
  markTrayOverflow();
}

function trimTransfers() {
  const ended = [...transfers.keys()].filter((t) => t.state !== 'active'); // oldest first
  for (const t of ended.slice(0, Math.max(0, transfers.size - MAX_TRANSFER_CARDS))) removeTransfer(t);
}

function clearTransfers() {
  for (const t of [...transfers.keys()]) removeTransfer(t);
  endDrag();
}

function formatBytes(n) {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
  return i === 0 ? `${n} B` : `${n < 10 ? n.toFixed(1) : Math.round(n)} ${units[i]}`;
}

function formatRate(bytesPerSecond) {
  const mb = bytesPerSecond / 1e6;
  return `${mb < 10 ? mb.toFixed(1) : Math.round(mb)} MB/s`;
}

function formatEta(seconds) {
  if (seconds == null || !Number.isFinite(seconds)) return 'estimating…';
  if (seconds < 1) return 'almost done';
  const s = Math.ceil(seconds);
  if (s < 60) return `${s} s left`;
  if (s < 600) return `${Math.floor(s / 60)} min ${s % 60} s left`;
  if (s < 3600) return `${Math.round(s / 60)} min left`;
  return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min left`;
}
