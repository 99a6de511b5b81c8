// One enumerated list of error codes (DESIGN.md): the C++ table, the JavaScript list and the
// docs table must name the same codes. Read as text: the C++ list lives in one source file.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ERROR_CODES } from '../../js-glue/errors.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const read = (p) => fs.readFileSync(path.join(ROOT, p), 'utf8');

test('the C++ error codes, ERROR_CODES, index.d.ts and docs/protocol.md list the same names', () => {
  const cpp = [...read('wasm/common/error_code.cpp').matchAll(/\{ErrorCode::\w+, "([a-z-]+)"\}/g)].map((m) => m[1]);
  assert.ok(cpp.length >= 30, `found ${cpp.length} C++ codes`);
  assert.deepEqual([...ERROR_CODES].sort(), [...cpp].sort());
  const dts = read('js-glue/index.d.ts');
  const union = dts.slice(dts.indexOf('export type ChorusErrorCode'), dts.indexOf('/** All codes of'));
  assert.deepEqual([...union.matchAll(/^\s*\| '([a-z-]+)'/gm)].map((m) => m[1]).sort(), [...cpp].sort());
  const docs = read('docs/protocol.md');
  const table = docs.slice(docs.indexOf('## Error codes'), docs.indexOf('## DataChannel frames'));
  assert.deepEqual([...table.matchAll(/^\| `([a-z-]+)` \|/gm)].map((m) => m[1]).sort(), [...cpp].sort());
});
