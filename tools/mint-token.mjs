#!/usr/bin/env node
// Mints a development join token for a chorus-rtc server started with CHORUS_AUTH_SECRET:
//
//   CHORUS_AUTH_SECRET=... node tools/mint-token.mjs --room lobby --identity ada [--role dispatcher] [--ttl 3600]
//
// Prints the token on stdout; a client passes it as Room.join's token (join.token).

import { parseArgs } from 'node:util';
import { mintToken, ROLES, DEFAULT_TTL_SECONDS } from './server/token.mjs';
import { ConfigError, parseInteger, readSecretFile } from './server/config.mjs';

const USAGE = `Usage: node tools/mint-token.mjs --room ROOM --identity ID [options]

  --room ROOM          the room the token admits to ("*" = any room)
  --identity ID        who the holder is (the token's sub)
  --role ROLE          ${ROLES.join(' | ')} (default: none, the server's default role)
  --ttl SECONDS        lifetime (default ${DEFAULT_TTL_SECONDS})
  --secret-file PATH   the server's token key (default: $CHORUS_AUTH_SECRET)
  -h, --help           show this text

The key is never taken from the command line (other local users can read it there).
`;

function main(argv, env) {
  if (argv.some((a) => a === '--secret' || a.startsWith('--secret='))) {
    throw new ConfigError('--secret is not accepted on the command line; set CHORUS_AUTH_SECRET or use --secret-file PATH');
  }
  let args;
  try {
    args = parseArgs({
      args: argv,
      options: {
        room: { type: 'string' }, identity: { type: 'string' }, role: { type: 'string' },
        ttl: { type: 'string' }, 'secret-file': { type: 'string' }, help: { type: 'boolean', short: 'h' },
      },
      strict: true, allowPositionals: false,
    }).values;
  } catch (err) {
    throw new ConfigError(err.message);
  }
  if (args.help) return { help: true };
  const secret = args['secret-file'] !== undefined
    ? readSecretFile('--secret-file', args['secret-file'])
    : env.CHORUS_AUTH_SECRET;
  if (!secret) throw new ConfigError('no key: set CHORUS_AUTH_SECRET or use --secret-file PATH');
  if (!args.room) throw new ConfigError('--room is required');
  if (!args.identity) throw new ConfigError('--identity is required');
  if (args.role !== undefined && !ROLES.includes(args.role)) {
    throw new ConfigError(`--role must be one of ${ROLES.join(', ')}, got "${args.role}"`);
  }
  const ttlSeconds = args.ttl === undefined ? DEFAULT_TTL_SECONDS : parseInteger('--ttl', args.ttl, 1, 366 * 86400);
  return { token: mintToken({ secret, room: args.room, identity: args.identity, role: args.role, ttlSeconds }) };
}

try {
  const r = main(process.argv.slice(2), process.env);
  process.stdout.write(r.help ? USAGE : `${r.token}\n`);
} catch (err) {
  if (!(err instanceof ConfigError)) throw err;
  process.stderr.write(`mint-token: ${err.message}\n\n${USAGE}`);
  process.exitCode = 2;
}
