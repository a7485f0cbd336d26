// Slot leases live in presence next to peer leases, under IDs no gateway
// ever assigns to a client: the gateway's peer IDs are random UUID v4
// (122 random bits), these are fixed ones with a zero time-low field, so a
// collision is a 2^-122 event. Presence checks only the UUID v4 shape.
const SLOT_ID_PREFIX = '00000000-0000-4000-8000-';
const SLOT_ID = /^00000000-0000-4000-8000-([0-9a-f]{12})$/;

/** The presence lease ID of partition slot `slot` of the routed signal topic. */
export function slotPeerId(slot: number): string {
  return SLOT_ID_PREFIX + slot.toString(16).padStart(12, '0');
}

/** The slot a slot lease ID names, or undefined for any other ID. */
export function slotOfPeerId(peerId: string): number | undefined {
  const match = SLOT_ID.exec(peerId);
  return match ? Number.parseInt(match[1] as string, 16) : undefined;
}
