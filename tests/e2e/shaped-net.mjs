// A small routed network inside the test namespace, one "host" per peer, with shaped links.
//
// Run inside tools/netns-run.sh (as root). The test namespace (10.77.0.1 on ve0, where the
// signaling server listens) becomes a router:
//
//        peer ns chorus-<pid>-1                test namespace                 peer ns chorus-<pid>-2
//   eth0 10.78.1.2/24 ── veth ── cr1 10.78.1.1 [ip_forward=1] cr2 10.78.2.1 ── veth ── eth0 10.78.2.2/24
//   default via 10.78.1.1                        10.77.0.1 (ve0)              default via 10.78.2.1
//
// Each host is a fresh named namespace (`ip netns add`); every one this process made is deleted
// in cleanup(), which also runs on process exit and on SIGINT/SIGTERM, so a failed test leaves no
// namespace behind. Named namespaces live in /run/netns, shared with the whole machine: the
// names carry the process id.
//
// shape(host, { rateKbit, burstBytes, latencyMs, dir }) puts a tbf on the host's uplink (egress
// of eth0 inside its namespace: what the peer sends), dir 'down' on the router side (what it
// receives), or 'both'. The kernel here has no netem: no delay or loss emulation, only rate.
//
// launchChromium(host, opts) starts Chromium inside the host's namespace through a wrapper script
// (`ip netns exec <ns> /usr/lib/chromium/chromium "$@"`); hostEnv(host, opts) wraps it in a
// harness Env, so openPeer() and the Peer helpers work as in every other e2e test.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CHROMIUM, Env } from './harness.mjs';

const live = new Set(); // every ShapedNet not yet cleaned up, for the exit handlers
let hostSeq = 0; // across nets of this process: link names and subnets never collide

function run(args, { ns } = {}) {
  const argv = ns ? ['netns', 'exec', ns, ...args] : args;
  const cmd = ns ? 'ip' : argv[0];
  const rest = ns ? argv : argv.slice(1);
  try {
    return execFileSync(cmd, rest, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (e) {
    throw new Error(`${[cmd, ...rest].join(' ')} failed: ${(e.stderr || e.message || '').toString().trim()}`);
  }
}

let exitHooked = false;
function hookExit() {
  if (exitHooked) return;
  exitHooked = true;
  process.on('exit', () => { for (const n of live) n.cleanupSync(); });
  for (const sig of ['SIGINT', 'SIGTERM']) {
    // Exit here: Playwright has its own SIGINT/SIGTERM listeners (they close the browsers but
    // do not end the process), so re-raising the signal would not stop a bench.
    process.once(sig, () => {
      for (const n of live) n.cleanupSync();
      process.exit(sig === 'SIGINT' ? 130 : 143);
    });
  }
}

export class ShapedNet {
  /** @param {{prefix?: string}} o  namespaces are named `${prefix}-${pid}-${n}` */
  constructor({ prefix = 'chorus' } = {}) {
    if (process.getuid?.() !== 0) throw new Error('ShapedNet needs root (run through tools/netns-run.sh)');
    if (!process.env.CHORUS_NETNS) {
      throw new Error('ShapedNet must run inside tools/netns-run.sh (it turns the namespace into a router)');
    }
    this.prefix = prefix;
    this.hosts = [];
    this.envs = [];
    this.tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'chorus-shaped-'));
    // This namespace routes between the hosts (and to the signaling server on 10.77.0.1).
    fs.writeFileSync('/proc/sys/net/ipv4/ip_forward', '1');
    sweepStale(prefix);
    live.add(this);
    hookExit();
  }

  /** Makes a host: a named namespace joined to this one by a veth pair. Returns
   *  { n, name, ns, ip, gw, routerIf, hostIf: 'eth0', chromium } (chromium: the wrapper script). */
  addHost(name) {
    const n = ++hostSeq;
    if (n > 250) throw new Error('too many hosts for 10.78.<n>.0/24');
    const ns = `${this.prefix}-${process.pid}-${n}`;
    const routerIf = `cr${n}`;
    const host = { n, name: name || `h${n}`, ns, ip: `10.78.${n}.2`, gw: `10.78.${n}.1`, routerIf, hostIf: 'eth0' };
    run(['ip', 'netns', 'add', ns]);
    this.hosts.push(host); // from here on cleanup deletes it
    // No IPv6 in the host: its link-local address would appear a moment after the link comes
    // up, and Chromium, seeing the network change, aborts the page's loads
    // (net::ERR_NETWORK_CHANGED).
    for (const conf of ['all', 'default']) {
      run(['sysctl', '-q', '-w', `net.ipv6.conf.${conf}.disable_ipv6=1`], { ns });
    }
    run(['ip', 'link', 'add', routerIf, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns]);
    run(['ip', 'addr', 'add', `${host.gw}/24`, 'dev', routerIf]);
    run(['ip', 'link', 'set', routerIf, 'up']);
    run(['ip', 'link', 'set', 'lo', 'up'], { ns });
    run(['ip', 'addr', 'add', `${host.ip}/24`, 'dev', 'eth0'], { ns });
    run(['ip', 'link', 'set', 'eth0', 'up'], { ns });
    run(['ip', 'route', 'add', 'default', 'via', host.gw], { ns });
    host.chromium = path.join(this.tmp, `chromium-${n}.sh`);
    fs.writeFileSync(host.chromium,
      `#!/bin/sh\n# Chromium inside network namespace ${ns} (tests/e2e/shaped-net.mjs)\n` +
      `exec ip netns exec ${ns} ${process.env.CHORUS_CHROMIUM || CHROMIUM} "$@"\n`, { mode: 0o755 });
    return host;
  }

  /** Rate-limits a host's link with tbf. dir: 'up' (what the host sends; default), 'down' (what
   *  it receives) or 'both'. burstBytes defaults to 20 ms at the rate (at least 10 KB);
   *  latencyMs is how long a packet may wait in the queue before tbf drops it. */
  shape(host, { rateKbit, burstBytes, latencyMs = 100, dir = 'up' } = {}) {
    if (!(rateKbit > 0)) throw new RangeError('rateKbit must be > 0');
    const burst = burstBytes ?? Math.max(10000, Math.round(rateKbit * 1000 / 8 / 50));
    const args = ['root', 'tbf', 'rate', `${rateKbit}kbit`, 'burst', String(burst), 'latency', `${latencyMs}ms`];
    if (dir === 'up' || dir === 'both') run(['tc', 'qdisc', 'replace', 'dev', host.hostIf, ...args], { ns: host.ns });
    if (dir === 'down' || dir === 'both') run(['tc', 'qdisc', 'replace', 'dev', host.routerIf, ...args]);
    host.shaped = { rateKbit, burst, latencyMs, dir };
  }

  /** Removes the shaping (both directions). */
  unshape(host) {
    for (const [dev, ns] of [[host.hostIf, host.ns], [host.routerIf, undefined]]) {
      try { run(['tc', 'qdisc', 'del', 'dev', dev, 'root'], { ns }); } catch { /* none there */ }
    }
    host.shaped = null;
  }

  /** tbf counters of the host's uplink qdisc: { sentBytes, sentPackets, dropped, overlimits }. */
  qdiscStats(host, dir = 'up') {
    const out = dir === 'up' ? run(['tc', '-s', 'qdisc', 'show', 'dev', host.hostIf], { ns: host.ns })
      : run(['tc', '-s', 'qdisc', 'show', 'dev', host.routerIf]);
    const m = out.match(/Sent (\d+) bytes (\d+) pkt \(dropped (\d+), overlimits (\d+)/);
    return m ? { sentBytes: +m[1], sentPackets: +m[2], dropped: +m[3], overlimits: +m[4] } : null;
  }

  /** A harness Env whose browser runs inside the host's namespace. Pages come from
   *  tests/e2e/pages at `${origin}/e2e/` (routed), the signaling server is `origin`.
   *  `y4m`: a file for --use-file-for-fake-video-capture. */
  async hostEnv(host, { origin, y4m, extraArgs = [] } = {}) {
    const env = await Env.create({
      server: 'none', origins: [origin], routedPages: true, executablePath: host.chromium,
      extraArgs: [...(y4m ? [`--use-file-for-fake-video-capture=${y4m}`] : []), ...extraArgs],
    });
    env.origin = origin;
    env.serveFromDisk('/e2e/', 'tests/e2e/pages');
    this.envs.push(env);
    host.env = env;
    return env;
  }

  /** Closes the browsers, then deletes every namespace this net made. Safe to call twice. */
  async cleanup() {
    const envs = this.envs;
    this.envs = [];
    await Promise.all(envs.map((e) => e.close().catch(() => {})));
    this.cleanupSync();
  }

  cleanupSync() {
    for (const env of this.envs) {
      try { env.browser?.process?.()?.kill('SIGKILL'); } catch { /* gone */ }
    }
    for (const host of this.hosts.splice(0)) {
      try { execFileSync('ip', ['link', 'del', host.routerIf], { stdio: 'ignore' }); } catch { /* gone */ }
      try { execFileSync('ip', ['netns', 'del', host.ns], { stdio: 'ignore' }); } catch { /* gone */ }
    }
    try { fs.rmSync(this.tmp, { recursive: true, force: true }); } catch { /* gone */ }
    live.delete(this);
  }
}

/** Deletes `${prefix}-<pid>-<n>` namespaces whose process is gone (a run that was SIGKILLed
 *  could not clean up after itself). */
function sweepStale(prefix) {
  let names = [];
  try { names = fs.readdirSync('/run/netns'); } catch { return; }
  const re = new RegExp(`^${prefix}-(\\d+)-\\d+$`);
  for (const name of names) {
    const m = name.match(re);
    if (!m || Number(m[1]) === process.pid || fs.existsSync(`/proc/${m[1]}`)) continue;
    try { execFileSync('ip', ['netns', 'del', name], { stdio: 'ignore' }); } catch { /* someone else's */ }
  }
}

/** Names of the named namespaces this process made and still has (for tests of the cleanup). */
export function leftoverNamespaces(prefix = 'chorus') {
  try {
    return fs.readdirSync('/run/netns').filter((n) => n.startsWith(`${prefix}-${process.pid}-`));
  } catch {
    return [];
  }
}
