// `chorus-rtc-server --start-janus`: a private Janus (tools/janus/janus.mjs) started with the
// server, so `npm start` serves rooms that can go to the SFU / audio MCU with nothing else to set
// up. Janus gathers ICE candidates only on the address it is given and never on loopback, so it
// gets a real interface address: --janus-address, else the first non-internal IPv4 of the
// machine. No such address, no `janus` binary, or a Janus that does not come up: a warning, and
// the server runs without one (every room stays a mesh).
//
// tools/janus/ is not part of the npm package (package.json `files`), so the launcher is loaded
// only when asked for, and its absence is one more reason for the warning.

import os from 'node:os';

/**
 * The address to give a private Janus: the first non-internal IPv4 address of `interfaces`
 * (os.networkInterfaces() shape), a link-local one (169.254/16) only if there is nothing else;
 * null when there is none.
 * @param {Record<string, Array<{address: string, family: string|number, internal: boolean}>|undefined>} interfaces
 * @returns {string|null}
 */
export function pickJanusAddress(interfaces = os.networkInterfaces()) {
  const v4 = Object.values(interfaces).flat()
    .filter((i) => i && !i.internal && (i.family === 'IPv4' || i.family === 4))
    .map((i) => i.address);
  return v4.find((a) => !a.startsWith('169.254.')) ?? v4[0] ?? null;
}

const STAYS_MESH = 'the server runs without a media server: every room stays a mesh';

/**
 * Starts a private Janus, or explains why not.
 * @param {object} o
 * @param {string} [o.address]  listen / ICE address (default: pickJanusAddress())
 * @param {{info: Function, warn: Function}} o.log
 * @param {object} [o.interfaces]  where to pick an address from (default os.networkInterfaces())
 * @param {() => Promise<object>} [o.loadLauncher]  imports tools/janus/janus.mjs (tests)
 * @returns {Promise<null | {wsUrl: string, pid: number, dir: string, exited: Promise<object>,
 *   stop: () => Promise<object>}>}  null (after a warning) when no Janus could be started
 */
export async function startPrivateJanus({
  address, log, interfaces = os.networkInterfaces(), loadLauncher = () => import('../janus/janus.mjs'),
}) {
  address ??= pickJanusAddress(interfaces);
  if (!address) {
    log.warn(`--start-janus: this machine has no non-loopback IPv4 address, and Janus gathers no ICE candidates on loopback; ${STAYS_MESH}`);
    return null;
  }
  let launcher;
  try {
    launcher = await loadLauncher();
  } catch (err) {
    log.warn(`--start-janus needs tools/janus/janus.mjs, found only in a checkout of chorus-rtc (${err.code ?? err.message}); ${STAYS_MESH}`);
    return null;
  }
  let janus;
  try {
    janus = await launcher.startJanus({ address });
  } catch (err) {
    log.warn(`--start-janus: Janus could not be started (${err.message.split('\n')[0]}); ${STAYS_MESH}`,
      { binary: launcher.JANUS, address });
    return null;
  }
  log.info('janus started', { url: janus.wsUrl, pid: janus.pid, dir: janus.dir, version: janus.info?.version_string });
  return janus;
}
