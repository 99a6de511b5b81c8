// getUserMedia wrappers. Failures become ChorusError('media-unavailable') so the app sees one
// error type whatever the browser's DOMException was (NotAllowedError, NotFoundError ...).
import { ChorusError } from './errors.js';

/** Normalises Room.join's `media` option; the default is camera and microphone. */
export function normaliseMedia(media) {
  if (media === undefined || media === null) return { audio: true, video: true };
  if (typeof MediaStream !== 'undefined' && media instanceof MediaStream) return media;
  if (typeof media !== 'object') throw new TypeError('media must be {audio, video} or a MediaStream');
  return { audio: media.audio ?? false, video: media.video ?? false };
}

/**
 * @param {{audio: boolean|MediaTrackConstraints, video: boolean|MediaTrackConstraints}} constraints
 * @returns {Promise<MediaStream>}
 */
export async function getUserMedia(constraints) {
  if (!constraints.audio && !constraints.video) return new MediaStream();
  if (!globalThis.navigator?.mediaDevices?.getUserMedia) {
    // Browsers hide mediaDevices outside secure contexts (http:// on a non-localhost host).
    throw new ChorusError('media-unavailable',
      'getUserMedia is not available here (the page needs https:// or localhost)');
  }
  try {
    return await navigator.mediaDevices.getUserMedia(constraints);
  } catch (err) {
    throw new ChorusError('media-unavailable',
      `could not get ${describe(constraints)}: ${err?.name ?? 'Error'}: ${err?.message ?? err}`,
      { cause: err });
  }
}

/** One fresh track of `kind` ('audio' | 'video'), for turning a device on after joining. */
export async function getTrack(kind, constraints) {
  const stream = await getUserMedia({ [kind]: constraints || true });
  const [track] = kind === 'audio' ? stream.getAudioTracks() : stream.getVideoTracks();
  if (!track) throw new ChorusError('media-unavailable', `no ${kind} track was returned`);
  return track;
}

function describe(c) {
  return [c.audio && 'microphone', c.video && 'camera'].filter(Boolean).join(' and ');
}
