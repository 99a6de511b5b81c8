// The npm package as a user gets it: `npm pack`, install the tarball into an empty project,
// then import `chorus-rtc` (without a browser), `chorus-rtc/opus` and `chorus-rtc/server`, start
// a server and run the `chorus-rtc-server` bin.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';

const run = promisify(execFile);
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const NPM = process.platform === 'win32' ? 'npm.cmd' : 'npm';

let tmp;
let project;
let packed;

before(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'chorus-pack-'));
  const { stdout } = await run(NPM, ['pack', '--json', '--pack-destination', tmp], {
    cwd: ROOT, maxBuffer: 16 << 20,
  });
  [packed] = JSON.parse(stdout);
  project = path.join(tmp, 'consumer');
  fs.mkdirSync(project);
  fs.writeFileSync(path.join(project, 'package.json'),
    JSON.stringify({ name: 'chorus-consumer', version: '1.0.0', private: true, type: 'module' }));
  // ws is the only dependency; --prefer-offline takes it from npm's cache when it is there.
  await run(NPM, ['install', '--no-audit', '--no-fund', '--prefer-offline', '--no-package-lock',
    path.join(tmp, packed.filename)], { cwd: project, maxBuffer: 16 << 20, timeout: 180000 });
});

after(() => {
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

/** Runs an ES module snippet with Node inside the consumer project. */
async function nodeEval(code) {
  const { stdout } = await run(process.execPath, ['--input-type=module', '-e', code], {
    cwd: project, timeout: 60000,
  });
  return stdout;
}

test('the tarball holds the runtime files and nothing from the source tree', () => {
  const files = new Set(packed.files.map((f) => f.path));
  for (const f of ['package.json', 'dist/chorus-core.mjs', 'dist/chorus-core.wasm', 'dist/chorus-media.mjs', 'dist/chorus-media.wasm', 'dist/chorus-server.mjs', 'dist/chorus-server.wasm', 'js-glue/index.js',
    'js-glue/index.d.ts', 'dist/chorus-opus.mjs', 'dist/chorus-opus.wasm', 'js-glue/opus.js', 'js-glue/opus.d.ts', 'tools/server/server.mjs', 'tools/server/static.mjs', 'tools/server/cli.mjs']) {
    assert.ok(files.has(f), `missing ${f}`);
  }
  for (const f of files) {
    assert.ok(!/^(tests|wasm|build|node_modules|tools\/(?!server\/))/.test(f), `should not ship ${f}`);
  }
});

test('import "chorus-rtc" works in Node without browser globals', async () => {
  const out = await nodeEval(`
    const m = await import('chorus-rtc');
    console.log(JSON.stringify(Object.keys(m).sort()));
    console.log(typeof m.Room, typeof m.Room?.join);
  `);
  const [keysLine, typesLine] = out.trim().split('\n');
  const keys = JSON.parse(keysLine);
  assert.ok(keys.includes('Room'), `exports: ${keysLine}`);
  assert.equal(typesLine, 'function function');
});

/**
 * Runs a snippet like nodeEval() with a module-resolution hook that records every URL Node
 * resolves (static imports, dynamic import()s, their dependencies); returns { stdout, loaded }.
 */
async function nodeEvalTracingImports(code) {
  const log = path.join(tmp, `loaded-${Date.now()}-${Math.random().toString(36).slice(2)}.txt`);
  fs.writeFileSync(path.join(project, 'trace-hooks.mjs'), `
    import fs from 'node:fs';
    export async function resolve(specifier, context, next) {
      const r = await next(specifier, context);
      fs.appendFileSync(process.env.CHORUS_IMPORT_LOG, r.url + '\\n');
      return r;
    }`);
  fs.writeFileSync(path.join(project, 'trace-register.mjs'),
    "import { register } from 'node:module'; register('./trace-hooks.mjs', import.meta.url);");
  fs.writeFileSync(log, '');
  const { stdout } = await run(process.execPath, ['--import', './trace-register.mjs', '--input-type=module', '-e', code], {
    cwd: project, timeout: 60000, env: { ...process.env, CHORUS_IMPORT_LOG: log },
  });
  return { stdout, loaded: fs.readFileSync(log, 'utf8').split('\n').filter(Boolean) };
}

test('import "chorus-rtc/opus" resolves to the lazy loader, which encodes and decodes', async () => {
  const { stdout, loaded } = await nodeEvalTracingImports(`
    const m = await import('chorus-rtc/opus');
    const before = Object.keys(m).sort();
    const opus = await m.loadOpus();
    const enc = new opus.OpusEncoder({ bitrate: 32000 });
    const tone = Float32Array.from({ length: 960 }, (_, i) => 0.3 * Math.sin(i / 10));
    const packet = enc.encode(tone);
    const pcm = new opus.OpusDecoder().decode(packet);
    console.log(JSON.stringify({ before, version: opus.version, bytes: packet.length, samples: pcm.length }));
  `);
  const r = JSON.parse(stdout.trim());
  assert.deepEqual(r.before, ['OPUS_WASM_URL', 'OpusError', 'SAMPLE_RATE', 'loadOpus', 'moduleSettings', 'opusApi']);
  assert.match(r.version, /^libopus 1\.5/);
  assert.ok(r.bytes > 2 && r.bytes < 400, `packet of ${r.bytes} bytes`);
  assert.equal(r.samples, 960);
  // The control for the next test: loading the codec does show up in the trace.
  assert.ok(loaded.some((u) => u.endsWith('/node_modules/chorus-rtc/js-glue/opus.js')), loaded.join('\n'));
  assert.ok(loaded.some((u) => u.endsWith('/node_modules/chorus-rtc/dist/chorus-opus.mjs')), loaded.join('\n'));
});

test('import "chorus-rtc" does not load the Opus module (it is only loaded on demand)', async () => {
  const { stdout, loaded } = await nodeEvalTracingImports(`
    const m = await import('chorus-rtc');
    console.log(typeof m.Room);
  `);
  assert.equal(stdout.trim(), 'function');
  assert.ok(loaded.some((u) => u.endsWith('/node_modules/chorus-rtc/js-glue/index.js')), 'the trace sees the main entry');
  const opus = loaded.filter((u) => /chorus-opus/.test(u));
  assert.deepEqual(opus, [], 'the main entry\'s module graph pulls in chorus-opus');
});

test('import "chorus-rtc" does not load the media-server module (only a room that leaves the mesh does)', async () => {
  const { stdout, loaded } = await nodeEvalTracingImports(`
    const m = await import('chorus-rtc');
    console.log(typeof m.Room);
  `);
  assert.equal(stdout.trim(), 'function');
  assert.ok(loaded.some((u) => u.endsWith('/node_modules/chorus-rtc/js-glue/media-server.js')),
    'the trace sees the media glue (the control: it is in the main graph, its wasm is not)');
  assert.deepEqual(loaded.filter((u) => /chorus-media/.test(u)), [], 'the main entry\'s module graph pulls in chorus-media');
});

test('the server\'s wasm module in the package instantiates in Node', async () => {
  const out = await nodeEval(`
    import { pathToFileURL } from 'node:url';
    import { createRequire } from 'node:module';
    const require = createRequire(import.meta.url);
    const dir = require.resolve('chorus-rtc/package.json').replace(/package\\.json$/, '');
    const { default: create } = await import(pathToFileURL(dir + 'dist/chorus-server.mjs'));
    const mod = await create();
    const core = new mod.ServerCore('{}');
    core.handleConnect(1, 0, '', '');
    core.handleMessage(1, JSON.stringify({ type: 'ping', id: 5 }), false, 22, 1);
    console.log(core.poll());
    core.delete();
  `);
  const action = JSON.parse(out.trim());
  assert.equal(action.action, 'send');
  assert.deepEqual(JSON.parse(action.data), { type: 'pong', id: 5 });
});

test('import "chorus-rtc/server" starts a working server', async () => {
  const out = await nodeEval(`
    import { startServer } from 'chorus-rtc/server';
    import { WebSocket } from 'ws';
    const srv = await startServer({ port: 0, host: '127.0.0.1', logger: null });
    const health = (await (await fetch(srv.url + 'healthz')).json()).status;
    const wasm = await fetch(srv.url + 'dist/chorus-core.wasm');
    const ws = new WebSocket(srv.wsUrl);
    const welcome = await new Promise((resolve, reject) => {
      ws.on('open', () => ws.send(JSON.stringify({ type: 'join', v: 1, room: 'r', name: 'n' })));
      ws.on('message', (d) => resolve(JSON.parse(String(d))));
      ws.on('error', reject);
    });
    ws.terminate();
    await srv.close();
    console.log(JSON.stringify({ health, wasmType: wasm.headers.get('content-type'), type: welcome.type }));
  `);
  assert.deepEqual(JSON.parse(out.trim()), { health: 'ok', wasmType: 'application/wasm', type: 'welcome' });
});

test('the chorus-rtc-server bin is installed and runs', async () => {
  const bin = path.join(project, 'node_modules', '.bin', 'chorus-rtc-server');
  assert.ok(fs.existsSync(bin), 'node_modules/.bin/chorus-rtc-server exists');
  fs.accessSync(bin, fs.constants.X_OK);
  const { stdout } = await run(bin, ['--help'], { cwd: project, timeout: 30000 });
  assert.match(stdout, /Usage: chorus-rtc-server/);
});
