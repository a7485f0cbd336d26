// Nest injection tokens for the presence side (interfaces have no runtime value).

/** PresenceClient */
export const PRESENCE_CLIENT = Symbol('PRESENCE_CLIENT');
/** PresenceEventSource */
export const PRESENCE_EVENT_SOURCE = Symbol('PRESENCE_EVENT_SOURCE');
