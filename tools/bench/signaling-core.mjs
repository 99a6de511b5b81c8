#!/usr/bin/env node
// The room machine alone (dist/chorus-server.mjs, no sockets): CPU per relayed `signal` and per
// `ping` at --clients connections in rooms of 5, as the server host drives it (setWallClock,
// handleMessage, then poll() and JSON.parse of each output until empty), and one sweep
// (handleTimeout). With --native, the same C++ built natively (clang++ or g++ at -Oz and -O2,
// objects in a temp dir; tools/bench/signaling-core-native.cpp drives it) for comparison.
// Explains how much of signaling-load.mjs's server CPU is the core's.
//
//   node tools/bench/signaling-core.mjs [--clients 10000] [--native]

import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import createChorusServer from '../../dist/chorus-server.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const { values: opt } = parseArgs({
  options: { clients: { type: 'string', default: '10000' }, native: { type: 'boolean', default: false } },
});
const N = Number(opt.clients);

const signal = (to, i) => `{"type":"signal","to":"${to}","kind":"candidate","candidate":"candidate:${i} 1 udp ` +
  '1686052607 203.0.113.5 20000 typ srflx raddr 192.168.1.20 rport 54321 generation 0 ufrag x7Qd network-id 1",' +
  '"sdpMid":"0","sdpMLineIndex":0}';

async function wasm() {
  const core = new (await createChorusServer()).ServerCore(JSON.stringify({ seed: [1, 2, 3, 4] }));
  const ids = [];
  let outputs = 0;
  const drain = () => {
    for (;;) {
      const out = core.poll();
      if (!out) break;
      outputs++;
      const action = JSON.parse(out); // what server.mjs's execute() does with each output
      if (action.data?.includes('"welcome"')) ids[action.conn] = JSON.parse(action.data).peerId;
    }
  };
  let now = 0;
  for (let c = 1; c <= N; c++) {
    core.setWallClock(Date.now());
    core.handleConnect(c, now, `127.77.${(c >> 8) & 255}.${c & 255}`, '');
    core.handleMessage(c, JSON.stringify({ type: 'join', v: 1, room: `r${Math.floor((c - 1) / 5)}`, name: 'n' }), false, 50, now);
    drain();
  }
  const result = {};
  for (const phase of ['warm-up', 'measured']) {
    const K = 100000;
    let handle = 0;
    let poll = 0;
    outputs = 0;
    for (let i = 0; i < K; i++) {
      const c = 1 + ((i * 7919) % N);
      const base = Math.floor((c - 1) / 5) * 5 + 1;
      const frame = signal(ids[base + ((c - base + 1) % 5)], i);
      now += 0.2;
      const t0 = performance.now();
      core.setWallClock(Date.now());
      core.handleMessage(c, frame, false, frame.length, now);
      const t1 = performance.now();
      drain();
      handle += t1 - t0;
      poll += performance.now() - t1;
    }
    if (phase === 'measured') Object.assign(result, { handle: (handle / K) * 1000, poll: (poll / K) * 1000, outputs: outputs / K });
  }
  {
    const K = 50000;
    let t = 0;
    for (let i = 0; i < K; i++) {
      const c = 1 + ((i * 7919) % N);
      now += 0.2;
      const t0 = performance.now();
      core.setWallClock(Date.now());
      core.handleMessage(c, `{"type":"ping","id":${i}}`, false, 25, now);
      drain();
      t += performance.now() - t0;
    }
    result.ping = (t / K) * 1000;
  }
  {
    const t0 = performance.now();
    for (let i = 0; i < 20; i++) {
      now += 1000;
      core.handleTimeout(now);
      drain();
    }
    result.sweepMs = (performance.now() - t0) / 20;
  }
  core.delete();
  return result;
}

function native() {
  const cxx = ['clang++-14', 'clang++', 'g++'].find((c) => {
    try { execFileSync(c, ['--version'], { stdio: 'ignore' }); return true; } catch { return false; }
  });
  const sources = ['common', 'signaling', 'topology', 'janus'].flatMap((d) => {
    const dir = path.join(ROOT, 'wasm', d);
    return fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => f.endsWith('.cpp')).map((f) => path.join(dir, f)) : [];
  });
  const include = ['-I', path.join(ROOT, 'wasm'), '-I', path.join(ROOT, 'build/wasm/deps-include'), '-I', '/usr/include'];
  const out = {};
  for (const level of ['-Oz', '-O2']) {
    if (level === '-Oz' && cxx === 'g++') continue;
    const dir = path.join(os.tmpdir(), `chorus-core-native${level}`);
    fs.mkdirSync(dir, { recursive: true });
    const flags = ['-std=c++17', level, '-DJSON_NOEXCEPTION', '-fno-exceptions', ...include];
    const objects = sources.map((src) => {
      const obj = path.join(dir, `${path.basename(path.dirname(src))}-${path.basename(src, '.cpp')}.o`);
      if (!fs.existsSync(obj) || fs.statSync(obj).mtimeMs < fs.statSync(src).mtimeMs) {
        console.error(`${cxx} ${level} ${path.relative(ROOT, src)}`);
        execFileSync(cxx, [...flags, '-c', src, '-o', obj], { stdio: 'inherit' });
      }
      return obj;
    });
    const exe = path.join(dir, 'bench');
    execFileSync(cxx, [...flags, path.join(ROOT, 'tools/bench/signaling-core-native.cpp'), ...objects, '-o', exe], { stdio: 'inherit' });
    const [us, outputs] = execFileSync(exe, [String(N)], { encoding: 'utf8' }).trim().split(' ').map(Number);
    out[level] = { us, outputs, cxx };
  }
  return out;
}

const w = await wasm();
console.log(`room machine, ${N} connections in rooms of 5, Node ${process.version}:`);
console.log(`  wasm (dist/chorus-server.wasm): signal ${(w.handle + w.poll).toFixed(1)} us ` +
  `(handleMessage ${w.handle.toFixed(1)} + poll and JSON.parse ${w.poll.toFixed(1)}, ${w.outputs.toFixed(2)} outputs); ` +
  `ping ${w.ping.toFixed(1)} us; sweep (handleTimeout) ${w.sweepMs.toFixed(2)} ms`);
if (opt.native) {
  for (const [level, r] of Object.entries(native())) {
    console.log(`  native ${r.cxx} ${level}: signal ${r.us.toFixed(1)} us (handle_message + poll, ${r.outputs.toFixed(2)} outputs)`);
  }
}
