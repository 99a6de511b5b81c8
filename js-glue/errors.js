// Every failure the library reports carries one code from the list in docs/protocol.md (the
// C++ chorus::ErrorCode enum and the ChorusErrorCode union in index.d.ts are the same list), so
// apps can branch on `err.code` instead of parsing messages.

export const ERROR_CODES = Object.freeze([
  'bad-json',
  'bad-message',
  'unknown-type',
  'message-too-large',
  'binary-not-supported',
  'unsupported-version',
  'not-joined',
  'already-joined',
  'room-full',
  'unknown-peer',
  'resume-rejected',
  'signaling-unreachable',
  'negotiation-failed',
  'media-unavailable',
  'not-connected',
  'bad-frame',
  'reassembly-limit',
  'send-queue-full',
  'integrity-mismatch',
  'transfer-failed',
  'floor-denied',
  'floor-violation',
  'bad-audio',
  'unauthorized',
  'token-expired',
  'rate-limited',
  'too-many-connections',
  'too-many-rooms',
  'origin-not-allowed',
  'janus-error',
  'janus-timeout',
  'janus-unreachable',
  'bad-stats',
]);

export class ChorusError extends Error {
  /**
   * @param {string} code one of ERROR_CODES
   * @param {string} message human-readable text
   * @param {{cause?: unknown, peerId?: string}} [options]
   */
  constructor(code, message, options = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ChorusError';
    this.code = code;
    if (options.peerId !== undefined) this.peerId = options.peerId;
  }
}
