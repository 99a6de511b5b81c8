// --pre-js: on Node >= 18, emscripten 3.1.6 tries fetch('file://...') for the .wasm and fails.
// Read the file next to the .mjs instead.
if (typeof process === 'object' && process.versions && process.versions.node && !Module['wasmBinary']) {
  Module['wasmBinary'] = require('fs').readFileSync(require('path').join(__dirname, 'chorus-core.wasm'));
}
