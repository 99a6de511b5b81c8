// Room events are plain Event subclasses whose payload sits in named fields (event.peer,
// event.data ...) so listeners read them directly, as with the browser's own events.

export class RoomEvent extends Event {
  /**
   * @param {string} type
   * @param {Record<string, unknown>} fields copied onto the event
   */
  constructor(type, fields = {}) {
    super(type);
    Object.assign(this, fields);
  }
}
