// Loads the WebAssembly core once per page: every Room shares the compiled module and makes its
// own ClientCore instance from it. dist/ is produced by `bash tools/build.sh wasm`.
import createChorusCore from '../dist/chorus-core.mjs';

let modulePromise = null;

/** @returns {Promise<any>} the Emscripten module exposing ClientCore */
export function loadCore() {
  if (!modulePromise) {
    modulePromise = createChorusCore().catch((err) => {
      modulePromise = null; // a failed fetch (offline, 404) may succeed on the next join
      throw err;
    });
  }
  return modulePromise;
}

// In a page, start fetching and compiling at import: an app usually imports early and joins
// on a click, so the module is ready by then. (Node loads it on first use instead.)
if (typeof window !== 'undefined') loadCore().catch(() => {});
