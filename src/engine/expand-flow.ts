/**
 * A loaded flow expanded into the requests a call delivers: ids, timestamps and bodies per event, on the run's clock.
 */
import { maxTimerMs } from "../core/limits.js";
import type { CallInfo, Platform, WebhookRequest } from "../platforms/types.js";

import { type Expectation } from "../files/expectation-schema.js";
import { type RawRequest, type RecordedResponse, rawBody } from "../files/raw-request.js";
import { randomId } from "../core/ids.js";
import { type CallFlow, type FlowEvent, type LoadedFlow } from "../files/call-flow.js";

/** A request the platform built (its own headers besides the signature), or one replayed from a recording. */
export type EventOrigin =
  | { kind: "built"; request: WebhookRequest }
  | {
      kind: "recorded";
      /** Recorded headers, sent along (less hop-by-hop ones and, unless kept, the old signature). */
      headers: Record<string, string>;
      /** The recorded path and query, kept on replay unless --url has a path. */
      path: string;
      /** The handler's recorded reply, for --compare-replies. */
      response: RecordedResponse | undefined;
    };

/** The request as the platform built it, or undefined for a recorded one. */
export const builtRequest = (planned: Pick<PlannedEvent, "origin">): WebhookRequest | undefined =>
  planned.origin.kind === "built" ? planned.origin.request : undefined;

export interface PlannedEvent {
  index: number;
  eventType: string;
  eventId: string;
  callId: string;
  sequence: number;
  method: string;
  /** The exact bytes to send (a retry sends them again). */
  body: Buffer;
  contentType: string;
  /** Where the request comes from: the platform built it, or the tunnel recorded it. */
  origin: EventOrigin;
  expect: Expectation | undefined;
  /** Platform time since the previous event; `--realtime` waits it. */
  afterMs: number;
}

export interface ExpansionOptions {
  /** Platform time of the first event. */
  start: Date;
  /** The URL the platform is configured with (signed over; the public URL behind a tunnel). */
  url: URL;
  newId?: (prefix: string) => string;
  /** Overrides the flow's call id (load mode runs many copies of a flow). */
  callId?: string | undefined;
  /** Ignore event ids given in the flow, so every copy of it gets its own (load mode). */
  freshIds?: boolean;
}

export function planRaw(
  event: FlowEvent & { raw: RawRequest },
  index: number,
  previousAt: number | undefined,
  platform: Platform,
  newId: (prefix: string) => string,
): PlannedEvent {
  const { raw } = event;
  const body = rawBody(raw);
  const identity = platform.identify({ method: raw.method, path: raw.path, headers: raw.headers, body });
  const receivedAt = Date.parse(raw.received_at);
  let sequence = index + 1;
  try {
    const value = (JSON.parse(body.toString("utf8")) as { sequence?: unknown } | null)?.sequence;
    if (typeof value === "number") sequence = value;
  } catch {
    // Not JSON (a form post, say): recorded order stands.
  }
  return {
    index,
    eventType: identity.eventType ?? event.event_type ?? "raw",
    eventId: identity.eventId ?? newId("evt"),
    callId: identity.callId ?? "",
    sequence,
    method: raw.method,
    body,
    contentType: raw.headers["content-type"] ?? "application/octet-stream",
    origin: { kind: "recorded", headers: raw.headers, path: raw.path, response: raw.response },
    expect: event.expect,
    // Recorded times can lie years apart: --realtime waits at most what a timer can (issue 12, item 2).
    afterMs: event.after_ms ?? (previousAt === undefined ? 0 : Math.min(maxTimerMs, Math.max(0, receivedAt - previousAt))),
  };
}

/** The call a flow describes, with its id decided. */
export function callInfo(flow: CallFlow, callId: string): CallInfo {
  return { callId, from: flow.call?.from, to: flow.call?.to, direction: flow.call?.direction };
}

// One object for every event without a payload, so encoders can keep what they made of it (load mode).
export const noPayload: Readonly<Record<string, unknown>> = Object.freeze({});

/** Fills in ids, sequences and timestamps (README: Call-flow files) and has the platform build each request, in order. */
export function expandFlow(loaded: Pick<LoadedFlow, "flow" | "platform">, options: ExpansionOptions): PlannedEvent[] {
  const { flow, platform } = loaded;
  const newId = options.newId ?? randomId;
  const callId = options.callId ?? flow.call?.call_id ?? newId("call");
  const call = callInfo(flow, callId);
  let clock = options.start.getTime();
  let sequence = 0;
  let previousRawAt: number | undefined;
  return (flow.events ?? []).map((event, index) => {
    if (event.raw) {
      const planned = planRaw(event as FlowEvent & { raw: RawRequest }, index, previousRawAt, platform, newId);
      previousRawAt = Date.parse(event.raw.received_at);
      return planned;
    }
    const eventType = event.event_type ?? "";
    const afterMs = event.after_ms ?? 0;
    clock = event.timestamp !== undefined ? Date.parse(event.timestamp) : clock + afterMs;
    sequence = event.sequence ?? sequence + 1;
    const eventId = (options.freshIds ? undefined : event.event_id) ?? newId("evt");
    const request = platform.encode({ eventType, eventId, sequence, timestamp: new Date(clock), payload: event.payload ?? noPayload, call, url: options.url });
    return {
      index,
      eventType,
      eventId,
      callId,
      sequence,
      method: request.method,
      body: request.body,
      contentType: request.contentType ?? "application/octet-stream",
      origin: { kind: "built", request },
      expect: event.expect,
      afterMs,
    };
  });
}
