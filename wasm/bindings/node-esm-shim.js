// --extern-pre-js: emscripten 3.1.6's EXPORT_ES6 output calls require()/__dirname on Node,
// which ES modules lack. Define them module-locally, on Node only, without a top-level await
// (which would break browser bundlers). Browsers see two undefined locals and nothing else.
var require = typeof process === 'object' && process.versions && process.versions.node
  ? process.getBuiltinModule('module').createRequire(import.meta.url)
  : undefined;
var __dirname = require ? require('path').dirname(require('url').fileURLToPath(import.meta.url)) : '';
