#!/usr/bin/env node
// Self time by function from a V8 .cpuprofile (node --cpu-prof), for the load bench's notes.
//
//   node tools/bench/cpuprofile-summary.mjs FILE.cpuprofile [--top 25]

import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';

/**
 * @returns {{totalMs: number, idleMs: number, rows: {name: string, where: string, selfMs: number, share: number}[],
 *   groups: {group: string, selfMs: number, share: number}[]}}
 *   rows: self time per function (share of non-idle time); groups: by module (wasm, ws, node internals, ...).
 */
export function summarize(file, top = 25) {
  const prof = JSON.parse(fs.readFileSync(file, 'utf8'));
  const byId = new Map(prof.nodes.map((n) => [n.id, n]));
  const selfUs = new Map();
  const { samples, timeDeltas } = prof;
  for (let i = 0; i < samples.length; i++) {
    const dt = timeDeltas[i + 1] ?? 0; // the time until the next sample belongs to this one
    selfUs.set(samples[i], (selfUs.get(samples[i]) ?? 0) + dt);
  }
  const fns = new Map();
  let total = 0;
  let idle = 0;
  for (const [id, us] of selfUs) {
    const cf = byId.get(id).callFrame;
    total += us;
    if (cf.functionName === '(idle)') {
      idle += us;
      continue;
    }
    const url = cf.url || '';
    const where = url ? `${path.basename(url.replace(/^file:\/\//, ''))}:${cf.lineNumber + 1}` : '';
    const key = `${cf.functionName || '(anonymous)'}|${where}`;
    const row = fns.get(key) ?? { name: cf.functionName || '(anonymous)', where, url, selfMs: 0 };
    row.selfMs += us / 1000;
    fns.set(key, row);
  }
  const busy = (total - idle) / 1000;
  const rows = [...fns.values()].sort((a, b) => b.selfMs - a.selfMs);
  const groupOf = (r) => {
    if (r.url.startsWith('wasm://') || /\.wasm/.test(r.url)) return 'wasm (room machine)';
    if (/node_modules\/ws\//.test(r.url)) return 'ws library';
    if (/chorus-server\.mjs/.test(r.url)) return 'chorus-server.mjs (wasm glue)';
    if (/tools\/server\//.test(r.url)) return 'tools/server (host)';
    if (r.url.startsWith('node:')) return 'node internals (JS)';
    if (r.name === '(garbage collector)') return 'garbage collector';
    if (r.name === '(program)') return '(program): native, outside JS';
    if (!r.url) return `native: ${r.name}`;
    return 'other JS';
  };
  const groups = new Map();
  for (const r of rows) groups.set(groupOf(r), (groups.get(groupOf(r)) ?? 0) + r.selfMs);
  return {
    totalMs: total / 1000,
    idleMs: idle / 1000,
    rows: rows.slice(0, top).map((r) => ({ name: r.name, where: r.where, selfMs: r.selfMs, share: r.selfMs / busy })),
    groups: [...groups].map(([group, selfMs]) => ({ group, selfMs, share: selfMs / busy }))
      .sort((a, b) => b.selfMs - a.selfMs),
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values, positionals } = parseArgs({ options: { top: { type: 'string', default: '25' } }, allowPositionals: true });
  for (const f of positionals) {
    const s = summarize(f, Number(values.top));
    console.log(`${f}: ${(s.totalMs / 1000).toFixed(1)} s sampled, ${((s.totalMs - s.idleMs) / 1000).toFixed(1)} s busy`);
    for (const g of s.groups) console.log(`  ${(g.share * 100).toFixed(1).padStart(5)}%  ${g.group}`);
    console.log('');
    for (const r of s.rows) console.log(`  ${(r.share * 100).toFixed(1).padStart(5)}%  ${r.name}  ${r.where}`);
  }
}
