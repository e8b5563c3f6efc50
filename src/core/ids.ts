/**
 * Call, event and stream ids: unique within a run and across runs, cheap enough for load mode.
 */
import { createHash, randomBytes } from "node:crypto";

// Ids are a random per-process part plus a counter: unique within a run and across runs (72 random
// bits), and cheap enough for load mode, where a fresh randomBytes() per id was the top cost.
export const processPart = randomBytes(9).toString("base64url");
export let idCounter = 0;

export function randomId(prefix: string): string {
  return `${prefix}_${processPart}${(idCounter++).toString(36)}`;
}

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A version-4-shaped UUID derived from a seed: the same seed always gives the same UUID. */
export function derivedUuid(label: string, seed: string): string {
  const hex = createHash("sha256").update(`${label}:${seed}`).digest("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/** A platform's UUID call id (Plivo CallUUID, Vonage uuid, Vapi call.id) for vwh's call id: the id itself when it is one. */
export function uuidCallId(callId: string): string {
  return uuidPattern.test(callId) ? callId.toLowerCase() : derivedUuid("call", callId);
}
