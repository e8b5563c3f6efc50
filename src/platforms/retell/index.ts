/** Retell AI (docs/platforms/retell.md, README: Platforms and caller scripts): call webhooks, the inbound-call webhook and custom functions; with a ws(s) URL, the custom-LLM WebSocket. */
import * as z from "zod";
import type { EventSpec, Platform } from "../types.js";
import { RetellCallDriver } from "./driver.js";
import { grammar } from "./grammar.js";
import { callWebhookBody, functionBody, functionEventType, identifyRetell, inboundBody, inboundEventType, newRetellCall } from "./messages.js";
import { parseRetellReply } from "./reply.js";
import { retellSettingsSchema } from "./settings.js";
import { retellStarters } from "./starters.js";

// Retell retries a refused call webhook but goes on with the call whatever the reply.
const callEvent = (description: string): EventSpec => ({
  payload: z.looseObject({}),
  waits: false,
  description,
  replyIgnored: { setting: "the agent's webhook_url (vwh: --url)" },
});

const events: Record<string, EventSpec> = {
  [inboundEventType]: {
    payload: z.looseObject({ agent_id: z.string().optional(), from_number: z.string().optional(), to_number: z.string().optional() }),
    waits: true,
    description:
      "an inbound call to a number with an inbound webhook: reply {call_inbound:{override_agent_id?, dynamic_variables?, metadata?, agent_override?}} within 10 s",
  },
  [functionEventType]: {
    payload: z.looseObject({ name: z.string().min(1), args: z.record(z.string(), z.unknown()).optional() }),
    waits: true,
    description: "a custom function call {name, call, args}: any 2xx body is the result (cut at 15 000 characters)",
  },
  ...Object.fromEntries(grammar.webhookEvents.map((event) => [event, callEvent(`the ${event.replace(/_/g, " ")} webhook {event, call}`)])),
};

export const retellPlatform = {
  id: "retell",
  summary: `Retell AI webhooks {event, call}, call_inbound and custom functions (${grammar.sdk.name} ${grammar.sdk.version})`,
  scheme: "retell",
  profile: "retell",
  events,
  eventType: z.string().refine((type) => Object.hasOwn(events, type), { error: `expected a Retell event (${Object.keys(events).join(", ")})` }),
  actions: ["assistant", "tool_result", "speak", "transfer"],
  callerInputs: ["connect", "say", "interrupt", "silence", "hangup", "tool", "event"],
  settings: retellSettingsSchema,

  encode(event) {
    const { callId, from, to, direction } = event.call;
    const call = newRetellCall(callId, from, to, direction);
    const at = event.timestamp.getTime();
    let body: Buffer;
    if (event.eventType === inboundEventType) body = inboundBody(call, event.payload);
    else if (event.eventType === functionEventType) {
      body = functionBody(
        String(event.payload["name"]),
        call,
        { status: "ongoing", startMs: at, transcript: [] },
        (event.payload["args"] as Record<string, unknown> | undefined) ?? {},
      );
    } else {
      const ended = event.eventType === "call_ended" || event.eventType === "call_analyzed";
      body = callWebhookBody(
        event.eventType,
        call,
        {
          status: ended ? "ended" : "ongoing",
          startMs: at,
          ...(ended && { endMs: at, disconnectionReason: "user_hangup" }),
          transcript: [],
          analysed: event.eventType === "call_analyzed",
        },
        event.payload,
      );
    }
    return { method: "POST", url: event.url, body, contentType: "application/json", headers: {} };
  },

  parseReply: parseRetellReply,
  socket: "the custom-LLM WebSocket (Retell connects to <url>/<call_id>)",
  media: { "retell-llm": () => import("./llm.js") },

  async startCall(setup) {
    return new RetellCallDriver(setup);
  },

  identify: (request) => identifyRetell(request.body),

  redaction: {
    phone: [/_number$/i, "caller_number"],
    text: ["transcript", "content", "call_summary", "args"],
  },
  handlerSecret: { env: "RETELL_API_KEY", readBy: "the retell-sdk client and examples/retell-handler.js" },
  starters: retellStarters,
  examplePath: "/retell/webhook",
  secretName: "your Retell API key",
} satisfies Platform;
