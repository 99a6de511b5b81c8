// Writes one benchmark's section of docs/BENCHMARKS.md, leaving the others alone.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** Replaces the `<!-- name:begin ... -->` ... `<!-- name:end -->` block (or appends it). */
export function writeSection(section, name) {
  const file = path.join(ROOT, 'docs/BENCHMARKS.md');
  let text = fs.existsSync(file) ? fs.readFileSync(file, 'utf8')
    : '# Benchmarks\n\nEvery figure here was written by the command shown with it; rerun the command to ' +
      'refresh its section.\n';
  const re = new RegExp(`<!-- ${name}:begin[\\s\\S]*?<!-- ${name}:end -->`);
  text = re.test(text) ? text.replace(re, () => section) : `${text.trimEnd()}\n\n${section}\n`;
  fs.writeFileSync(file, text);
}

/** `Chromium 156.0...` of the browser the benchmarks drive, for the measurement's header. */
export function chromiumVersion() {
  try {
    return execFileSync('/usr/lib/chromium/chromium', ['--version'], { encoding: 'utf8' }).trim();
  } catch {
    return 'Chromium';
  }
}
