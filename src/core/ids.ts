/**
 * Call, event and stream ids: unique within a run and across runs, cheap enough for load mode.
 */
import { randomBytes } from "node:crypto";



// Ids are a random per-process part plus a counter: unique within a run and across runs (72 random
// bits), and cheap enough for load mode, where a fresh randomBytes() per id was the top cost.
export const processPart = randomBytes(9).toString("base64url");
export let idCounter = 0;

export function randomId(prefix: string): string {
  return `${prefix}_${processPart}${(idCounter++).toString(36)}`;
}
