// chorus walkie: push-to-talk channels on Room.pushToTalk(). This file wires the UI; the
// connection lives in radio.js, input in talk-button.js, recording in recorder.js + store.js,
// replay in player.js. Test hooks: window.walkie (below), window.chorus.room; query
// ?room=&name= override the saved channel and name.
import { Radio } from './radio.js';
import { holdToTalk } from './talk-button.js';
import { Recorder } from './recorder.js';
import { RecentList } from './recent.js';
import { Player, decodeMessage, rms } from './player.js';
import { Meter } from './meter.js';
import * as store from './store.js';

const PRESETS = ['ch-1', 'ch-2', 'ch-3', 'ch-4'];
const NOTICE_MS = 2200;   // how long the denied / cut-off state and other notices show
const $ = (id) => document.getElementById(id);
const ui = {
  name: $('name'), dispatcher: $('dispatcher'), roleBadge: $('role-badge'), conn: $('conn-state'),
  presets: $('channel-presets'), customForm: $('custom-form'), custom: $('custom-channel'),
  onair: $('onair'), onairLabel: $('onair-label'), talkerName: $('talker-name'), peerCount: $('peer-count'),
  talk: $('talk'), talkLabel: $('talk-label'), talkSub: $('talk-sub'), status: $('status'),
  soundOn: $('sound-on'), install: $('install'),
};

// --- settings (saved on this device) ---
const q = new URLSearchParams(location.search);
const settings = {
  name: q.get('name') ?? localStorage.getItem('walkie.name') ?? `Unit ${Math.floor(10 + Math.random() * 90)}`,
  channel: q.get('room') ?? localStorage.getItem('walkie.channel') ?? 'ch-1',
  dispatcher: q.get('role') ? q.get('role') === 'dispatcher' : localStorage.getItem('walkie.dispatcher') === '1',
};
const save = () => {
  localStorage.setItem('walkie.name', settings.name);
  localStorage.setItem('walkie.channel', settings.channel);
  localStorage.setItem('walkie.dispatcher', settings.dispatcher ? '1' : '0');
};
save();

// --- audio graph: voice -> analyser -> speaker; replay -> analyser -> speaker ---
const ctx = new AudioContext({ sampleRate: 48000, latencyHint: 'interactive' });
const voiceOut = ctx.createAnalyser();
voiceOut.connect(ctx.destination);
const replayOut = ctx.createAnalyser();
replayOut.connect(ctx.destination);
const talkerMeter = new Meter(voiceOut, ui.onair);
let micMeter = null;  // made once the microphone is open

// Browsers start audio only after a user gesture: any press anywhere unlocks it.
const unlock = () => { if (ctx.state === 'suspended') ctx.resume().catch(() => {}); };
document.addEventListener('pointerdown', unlock, true);
document.addEventListener('keydown', unlock, true);
ctx.addEventListener('statechange', () => { ui.soundOn.hidden = ctx.state !== 'suspended'; });
ui.soundOn.hidden = ctx.state !== 'suspended';
ui.soundOn.addEventListener('click', unlock);

const radio = new Radio({ audioContext: ctx, output: voiceOut });
const recorder = new Recorder();
const player = new Player(ctx, replayOut);
const recent = new RecentList({
  list: $('recent-list'), empty: $('recent-empty'), template: $('msg-template'),
  onToggle: (id) => (player.playing === id ? player.stop() : play(id)),
});

// --- UI state ---
let talk = 'idle';          // idle | requesting | talking | denied
let flash = null;           // {label, sub} shown while talk === 'denied'
let flashTimer = 0;
let deadline = 0;           // performance.now() when the grant runs out
let countdown = 0;
let holding = false;        // the button (or Space) is held down

const room = () => radio.room;
const peerName = (id) => {
  const r = room();
  if (!id || !r) return null;
  if (id === r.peerId) return settings.name || 'You';
  return r.peers.get(id)?.name || 'Someone';
};

function renderSettings() {
  ui.name.value = settings.name;
  ui.dispatcher.checked = settings.dispatcher;
  ui.roleBadge.hidden = !settings.dispatcher;
  for (const input of ui.presets.querySelectorAll('input[name=channel]')) input.checked = input.value === settings.channel;
  const custom = !PRESETS.includes(settings.channel);
  ui.customForm.classList.toggle('active', custom);
  if (custom) ui.custom.value = settings.channel;
  else if (document.activeElement !== ui.custom) ui.custom.value = '';
  ui.talk.dataset.role = settings.dispatcher ? 'dispatcher' : 'talker';
}

function renderTalk() {
  const r = room();
  const connected = radio.state === 'joined' && r && radio.ptt;
  const holder = r?.floor.holder ?? null;
  const other = holder && holder !== r.peerId ? holder : null;
  let state, label, sub;
  if (!connected) {
    state = 'offline';
    label = !offline() && (radio.state === 'connecting' || radio.state === 'reconnecting') ? 'Connecting…' : 'Offline';
    sub = '';
  } else if (talk === 'denied' && flash) {
    state = 'denied'; ({ label, sub } = flash);
  } else if (talk === 'requesting') {
    state = 'requesting'; label = 'Requesting…'; sub = '';
  } else if (talk === 'talking') {
    state = 'talking'; label = 'Talking';
    const left = Math.max(0, deadline - performance.now());
    sub = `${Math.ceil(left / 1000)} s left`;
  } else if (other) {
    state = 'busy'; label = `${peerName(other)} is talking`;
    sub = settings.dispatcher ? 'Hold to interrupt' : 'Wait for them to finish';
  } else {
    state = 'idle'; label = 'Hold to talk'; sub = r.peers.size ? '' : 'Nobody else here yet';
  }
  ui.talk.dataset.state = state;
  ui.talk.setAttribute('aria-pressed', String(state === 'talking' || state === 'requesting'));
  ui.talk.setAttribute('aria-disabled', String(!connected));
  ui.talkLabel.textContent = label;
  ui.talkSub.textContent = sub;
  ui.talk.setAttribute('aria-label', sub ? `${label}. ${sub}` : label);
}

function renderOnAir() {
  const r = room();
  const holder = r?.floor.holder ?? null;
  const playing = radio.ptt?.talker ?? null;
  let state = 'quiet', label = 'On air', name = 'Nobody';
  if (talk === 'talking') {
    state = 'talking'; label = 'You are on air'; name = settings.name || 'You';
  } else if (holder && r && holder !== r.peerId) {
    state = playing === holder ? 'listening' : 'holding';
    label = playing === holder ? 'Talking now' : 'Holds the channel';
    name = peerName(holder);
  }
  ui.onair.dataset.state = state;
  ui.onairLabel.textContent = label;
  ui.talkerName.textContent = name;
  const n = r?.peers.size ?? 0;
  ui.peerCount.textContent = r ? `${n} other${n === 1 ? '' : 's'} here` : '';
  if (state === 'listening') talkerMeter.start(); else talkerMeter.stop();
  if (state === 'talking') micMeter?.start(); else micMeter?.stop();
}

// The status line (a live region) says what the radio is doing; a notice (denied, cut off,
// an error) overrides it for a moment.
let notice = null;
let noticeTimer = 0;
let lastError = null;
function notify(text, tone = 'warn') {
  clearTimeout(noticeTimer);
  notice = { text, tone };
  noticeTimer = setTimeout(() => { notice = null; renderStatus(); }, NOTICE_MS);
  renderStatus();
}

const offline = () => radio.state === 'offline' || (radio.state === 'connecting' && !navigator.onLine);

function renderStatus() {
  const r = room();
  const channel = settings.channel;
  let text = '', tone = '';
  if (notice) ({ text, tone } = notice);
  else if (offline()) [text, tone] = [navigator.onLine ? 'Cannot reach the server — retrying' : 'Offline — recent messages still play', 'bad'];
  else if (radio.state === 'refused') [text, tone] = [`The server refused to join: ${lastError?.message ?? 'role not allowed'}`, 'bad'];
  else if (radio.state === 'connecting') text = `Joining ${channel}…`;
  else if (radio.state === 'reconnecting') [text, tone] = ['Connection lost — reconnecting…', 'warn'];
  else if (talk === 'talking') text = `You are talking on ${channel}`;
  else if (r?.floor.holder && r.floor.holder !== r.peerId) text = `${peerName(r.floor.holder)} is talking`;
  else if (radio.micState === 'unavailable') [text, tone] = [`On ${channel}, listening only: no microphone`, 'warn'];
  else text = `On ${channel}`;
  // The live region speaks changes, not repeats.
  if (ui.status.textContent !== text) ui.status.textContent = text;
  ui.status.dataset.tone = tone;
  const pill = offline() ? 'offline' : radio.state;
  ui.conn.dataset.state = pill;
  ui.conn.textContent = pill === 'joined' ? channel : pill;
}

function render() {
  renderTalk();
  renderOnAir();
  renderStatus();
}

// --- talking ---
function setTalk(next) {
  talk = next;
  clearInterval(countdown);
  if (talk === 'talking') countdown = setInterval(() => { ui.talk.style.setProperty('--remaining', remaining()); renderTalk(); }, 250);
  ui.talk.style.setProperty('--remaining', talk === 'talking' ? remaining() : 1);
  render();
}
let maxTalkMs = 60000;
const remaining = () => Math.max(0, (deadline - performance.now()) / maxTalkMs).toFixed(3);

function showDenied(label, sub, announce) {
  clearTimeout(flashTimer);
  flash = { label, sub };
  setTalk('denied');
  notify(announce);
  flashTimer = setTimeout(() => {
    flash = null;
    if (talk === 'denied') setTalk('idle');
  }, NOTICE_MS);
}

async function press() {
  holding = true;
  const ptt = radio.ptt;
  if (!ptt || radio.state !== 'joined') return;
  clearTimeout(flashTimer);
  setTalk('requesting');
  try {
    const grant = await ptt.press();
    if (ptt !== radio.ptt) return;
    if (!holding) return setTalk('idle');  // let go before the grant: press() gave it back
    maxTalkMs = grant.maxTalkMs ?? maxTalkMs;
    deadline = performance.now() + maxTalkMs;
    setTalk('talking');
  } catch (err) {
    if (ptt !== radio.ptt) return;
    if (err?.code === 'floor-denied') {
      const who = peerName(err.holder) ?? 'Someone';
      showDenied('Channel busy', `${who} is talking`, `Busy: ${who} is talking`);
    } else {
      setTalk('idle');
      notify(`Could not talk: ${err?.message ?? err}`, 'bad');
    }
  }
}

function release() {
  holding = false;
  if (talk === 'requesting' || talk === 'talking') {
    radio.ptt?.release();
    setTalk('idle');
  }
}

holdToTalk(ui.talk, { onPress: press, onRelease: release });
// Enter / click from assistive tech: a tap toggles nothing, so say how it works instead.
ui.talk.addEventListener('keydown', (e) => {
  if (e.key === 'Enter') notify('Hold the button, or hold Space, to talk', '');
});

// --- the room's events ---
radio.addEventListener('state', ({ error }) => { lastError = error; render(); });
window.addEventListener('online', render);
window.addEventListener('offline', render);
radio.addEventListener('leaving', () => {
  recorder.endAll();
  holding = false;
  setTalk('idle');
});
radio.addEventListener('room', ({ room: r, ptt }) => {
  if (!micMeter && radio.micState === 'ok') {
    const analyser = ctx.createAnalyser();
    ctx.createMediaStreamSource(radio.microphone).connect(analyser);
    micMeter = new Meter(analyser, ui.onair);
  }
  const channel = settings.channel;
  for (const type of ['floor', 'peerjoined', 'peerleft']) r.addEventListener(type, render);
  ptt.addEventListener('talkstart', render);
  ptt.addEventListener('talkend', render);
  ptt.addEventListener('revoked', ({ reason }) => {
    const holder = r.floor.holder;
    if (reason === 'preempted') {
      const who = peerName(holder) ?? 'a dispatcher';
      showDenied('Interrupted', `by ${who}`, `The dispatcher ${who} took the channel`);
    } else if (reason === 'dropped') {
      showDenied('Connection lost', 'Press again when back', 'The connection dropped: you are off the air');
    } else {
      showDenied('Time is up', 'Release and press again', 'Talk time is up');
    }
  });
  ptt.addEventListener('voicepacket', (ev) => {
    recorder.add(ev, { channel, talker: peerName(ev.peerId) });
  });
  // Your own bursts are kept too, so you can hear what went out.
  ptt.addEventListener('sentpacket', (ev) => {
    recorder.add({ ...ev, peerId: r.peerId }, { channel, talker: `${settings.name} (you)` });
  });
  ptt.addEventListener('error', (e) => console.warn('walkie:', e.code, e.message));
});

// --- settings input ---
function reconnect() {
  save();
  renderSettings();
  radio.connect({ channel: settings.channel, name: settings.name, role: settings.dispatcher ? 'dispatcher' : 'talker' });
}
ui.presets.addEventListener('change', (e) => {
  if (e.target.name !== 'channel') return;
  settings.channel = e.target.value;
  reconnect();
});
ui.customForm.addEventListener('submit', (e) => {
  e.preventDefault();
  const channel = ui.custom.value.trim();
  if (!channel || channel === settings.channel) return;
  settings.channel = channel;
  ui.custom.blur();
  reconnect();
});
ui.name.addEventListener('change', () => {
  const name = ui.name.value.trim();
  if (!name || name === settings.name) return renderSettings();
  settings.name = name;
  reconnect();  // the name is part of the join
});
ui.name.addEventListener('keydown', (e) => { if (e.key === 'Enter') ui.name.blur(); });
ui.dispatcher.addEventListener('change', () => {
  settings.dispatcher = ui.dispatcher.checked;
  reconnect();  // so is the role
});

// --- recent messages ---
async function refreshRecent() {
  try {
    recent.render(await store.listMessages());
  } catch (err) {
    console.warn('walkie: reading recent messages failed', err);
  }
}
let refreshing = 0;
recorder.addEventListener('change', () => {
  // Batches of changes (every flush) coalesce into one read per frame.
  refreshing ||= requestAnimationFrame(() => { refreshing = 0; refreshRecent(); });
});
player.addEventListener('progress', ({ id, fraction }) => {
  recent.setProgress(id, fraction);
  walkie.replayPeak = Math.max(walkie.replayPeak, replayMeter.rms());
});
player.addEventListener('ended', ({ id }) => recent.setPlaying(id, false));
const replayMeter = new Meter(replayOut, document.createElement('i'));

async function play(id) {
  unlock();
  recent.setPlaying(id, true);
  try {
    await player.play(id);
  } catch (err) {
    recent.setPlaying(id, false);
    notify(`Could not play the message: ${err?.message ?? err}`, 'bad');
  }
}

// --- install and offline ---
let installPrompt = null;
window.addEventListener('beforeinstallprompt', (e) => {
  e.preventDefault();
  installPrompt = e;
  ui.install.hidden = false;
});
ui.install.addEventListener('click', async () => {
  ui.install.hidden = true;
  await installPrompt?.prompt();
  installPrompt = null;
});
navigator.serviceWorker?.register('sw.js').catch((err) => console.warn('walkie: no offline support:', err));

// Test hooks and a console handle.
const walkie = window.walkie = {
  radio, player, store, recorder, replayPeak: 0,
  get talk() { return talk; },
  /** Decodes a stored message as replay would: {samples, rms}. */
  async decode(id) {
    const pcm = await decodeMessage(id);
    return { samples: pcm.length, rms: rms(pcm) };
  },
  play,
};

renderSettings();
render();
store.finishStale().catch(() => {}).then(refreshRecent);
reconnect();
