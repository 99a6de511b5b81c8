// chorus-rtc: the browser API. See index.d.ts for the documented surface.
export { Room } from './room.js';
export { Peer } from './peer.js';
export { RoomEvent } from './events.js';
export { ChorusError, ERROR_CODES } from './errors.js';
export { FileTransfer } from './file-transfer.js';
