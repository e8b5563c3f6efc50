/** FreJun Teler (docs/platforms/teler.md, README: Platforms and caller scripts): the flow_url request, its stream/play/hangup reply, status callbacks. */
import * as z from "zod";
import type { EventSpec, Platform } from "../types.js";
import { TelerCallDriver } from "./driver.js";
import { grammar } from "./grammar.js";
import { flowBody, flowEventType, identifyTeler, newTelerCall, statusBody, statusEvents } from "./messages.js";
import { parseTelerReply } from "./reply.js";
import { telerStarters } from "./starters.js";

const events: Record<string, EventSpec> = {
  [flowEventType]: {
    payload: z.looseObject({ direction: z.enum(["inbound", "outbound"]).optional() }),
    waits: true,
    description: 'the call connected: Teler asks flow_url what to do, {"action": "stream" | "play" | "hangup", …}',
  },
  ...Object.fromEntries(
    statusEvents.map((event) => [
      event,
      {
        payload: z.looseObject({}),
        waits: false,
        description: `status callback: ${event.slice(5)}`,
        replyIgnored: { setting: "status_callback_url (vwh: --status-callback)" },
      } satisfies EventSpec,
    ]),
  ),
};

export const telerPlatform = {
  id: "teler",
  summary: `FreJun Teler: flow_url requests answered with stream/play/hangup (${grammar.sdk.name} ${grammar.sdk.version}); request shape unverified`,
  scheme: "hmac",
  profile: undefined,
  events,
  eventType: z.string().refine((type) => Object.hasOwn(events, type), { error: `expected a Teler event (${Object.keys(events).join(", ")})` }),
  actions: ["stream", "play", "hangup"],
  // say/interrupt/silence are the caller's audio on the stream (the media session plays them, issue 24).
  callerInputs: ["connect", "say", "interrupt", "silence", "hangup", "event"],
  settings: z.looseObject({ teler_status_callback: z.string().min(1).optional().describe("the status_callback_url, absolute or relative to the flow URL") }),

  encode(event) {
    const { callId, from, to, direction } = event.call;
    const call = newTelerCall(callId, from, to, direction);
    const body = event.eventType === flowEventType ? flowBody(call, event.payload) : statusBody(call, event.eventType, event.timestamp, event.payload);
    return { method: "POST", url: event.url, body, contentType: "application/json", headers: {} };
  },

  parseReply: parseTelerReply,

  async startCall(setup) {
    return new TelerCallDriver(setup);
  },

  identify: (request) => identifyTeler(request.body),

  redaction: { phone: [/_number$/i], text: [] },
  handlerSecret: { env: "TELER_SECRET", readBy: "examples/teler-handler.js (Teler signs nothing: your own signing layer)" },
  starters: telerStarters,
  media: { teler: () => import("./media.js") },
  examplePath: "/teler/flow",
  secretName: "the HMAC key you gave Teler",
} satisfies Platform;
