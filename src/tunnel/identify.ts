/**
 * What the tunnel shows and records of a request: its event type, call id, event id and sequence. It
 * asks the platforms (README: Platforms and caller scripts: each platform's `identify`): the --platform alone when one is given,
 * otherwise each registered platform in turn until one recognises the request.
 */
import type { Platform } from "../platforms/types.js";
import { vwhPlatform } from "../platforms/vwh/index.js";

export interface IdentifiableRequest {
  method: string;
  path: string;
  headers: Readonly<Record<string, string>>;
  body: Buffer;
}

export interface RequestIdentity {
  eventType: string | undefined;
  callId: string | undefined;
  eventId: string | undefined;
  sequence: number | undefined;
  /** A platform named the event type, so a recording may carry it. */
  recordable: boolean;
  /** The platform that recognised the request (its reply reader checks the reply). */
  platform?: Platform | undefined;
}

export type Identify = (request: IdentifiableRequest) => RequestIdentity;

/** A JSON body's own `sequence` (vwh envelopes have one), shown beside the call id. */
function sequenceOf(body: Buffer): number | undefined {
  try {
    const value: unknown = JSON.parse(body.toString("utf8"));
    const sequence = value && typeof value === "object" ? (value as { sequence?: unknown }).sequence : undefined;
    return typeof sequence === "number" ? sequence : undefined;
  } catch {
    return undefined;
  }
}

/** The first of `platforms` that recognises the request names it; an unrecognised one keeps its `webhook-id`. */
export function requestIdentifier(platforms: readonly Platform[]): Identify {
  return (request) => {
    for (const platform of platforms) {
      const identity = platform.identify(request);
      if (identity.eventType !== undefined || identity.callId !== undefined) {
        return { ...identity, sequence: sequenceOf(request.body), recordable: identity.eventType !== undefined, platform };
      }
    }
    return { eventType: undefined, callId: undefined, eventId: request.headers["webhook-id"], sequence: undefined, recordable: false };
  };
}

/** Without a platform list: vwh's own envelope, the default platform. */
export const identifyRequest: Identify = requestIdentifier([vwhPlatform]);
