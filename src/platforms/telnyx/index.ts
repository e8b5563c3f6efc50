/**
 * Telnyx Call Control (README: Platforms and caller scripts, docs/platforms/telnyx.md): JSON webhooks signed with Ed25519; the handler's replies
 * are ignored and it drives the call with REST commands to a local Call Control API vwh serves for the
 * run (TELNYX_BASE_URL), checked against the grammar extracted from the official `telnyx` SDK.
 */
import { parseTelnyxReply } from "./reply.js";
import * as z from "zod";
import type { EventSpec, Platform } from "../types.js";
import { CallControlApi } from "./api-server.js";
import { TelnyxCallDriver } from "./driver.js";
import { callControlId, callFields, envelopeIdentity, webhookRequest } from "./envelope.js";
import { grammarSource, voiceEventTypes } from "./grammar.js";
import { openSigningKey } from "./keys.js";
import { scenarios } from "./starters.js";

const eventTypeSchema = z.string().refine((type) => voiceEventTypes.includes(type), {
  error: (issue) =>
    `unknown Telnyx event type ${JSON.stringify(issue.input)} (${grammarSource.package} ${grammarSource.version} knows ${voiceEventTypes.length}, e.g. call.initiated, call.answered, call.gather.ended, call.hangup)`,
});

const events: Record<string, EventSpec> = Object.fromEntries(
  voiceEventTypes.map((type) => [
    type,
    { payload: z.looseObject({ client_state: z.string().nullable().optional() }), waits: false, description: `Telnyx ${type} (the reply is ignored)` },
  ]),
);

export const telnyxPlatform = {
  id: "telnyx",
  summary: "Telnyx Call Control: Ed25519-signed webhooks; the handler sends REST commands to vwh's local Call Control API",
  scheme: "telnyx",
  profile: "telnyx",
  events,
  eventType: eventTypeSchema,
  actions: ["speak", "play", "listen", "stream", "transfer", "record", "hangup", "reject"],
  callerInputs: ["connect", "say", "press", "silence", "hangup", "interrupt", "event"],
  // Keys reach a gather while its prompt plays; speech interrupts no Telnyx prompt (gathers take DTMF).
  actsDuringPlayback: ["hangup", "press"],

  encode(event) {
    const state = event.eventType === "call.initiated" ? { state: "parked", start_time: event.timestamp.toISOString() } : {};
    const payload = { ...callFields(event.call, null), ...state, ...event.payload };
    return webhookRequest(event.eventType, event.eventId, event.timestamp, payload, event.url);
  },

  nativeCallId: callControlId,
  settings: z.strictObject({
    command_timeout_ms: z
      .number()
      .int()
      .min(1)
      .max(600_000)
      .optional()
      .describe("real-time wait for the handler's next command when nothing else is going on (default 3000)"),
  }),
  parseReply: parseTelnyxReply,

  async openRun(setup) {
    const port = typeof setup.settings["telnyxApiPort"] === "number" ? setup.settings["telnyxApiPort"] : 0;
    const key = openSigningKey(setup.secrets);
    const api = await CallControlApi.open(port);
    // The signature probe's calls are played by no driver: the API answers their commands all the same.
    if (setup.settings["probe"] === true) api.acceptAnyCall();
    return {
      settings: { telnyxApi: api },
      notices: [
        `TELNYX_BASE_URL=${api.baseUrl}  (vwh's Call Control API: the handler's telnyx client sends its commands here)`,
        key.publicKey === undefined
          ? `TELNYX_PUBLIC_KEY: not shown (${key.reason})`
          : `TELNYX_PUBLIC_KEY=${key.publicKey}  (verifies the webhooks vwh signs in this run)`,
      ],
      secrets: key.secrets,
      close: () => api.close(),
    };
  },

  async startCall(setup) {
    const api = setup.settings["telnyxApi"];
    if (!(api instanceof CallControlApi)) throw new Error("the telnyx platform plays caller scripts only within a run (openRun)");
    return new TelnyxCallDriver(setup, api);
  },

  identify(request) {
    return envelopeIdentity(request.body);
  },

  redaction: {
    phone: ["from", "to", "caller_id_name", "from_sip_uri", "to_sip_uri"],
    // What the caller said or typed (call.transcription, call.gather.ended, call.dtmf.received …).
    text: ["transcript", "digits", "digit", "content", "message_history"],
  },
  // The handler's telnyx client must know vwh's Call Control API before vwh starts: a fixed port in CI.
  ciSetup: { env: { TELNYX_BASE_URL: "http://127.0.0.1:4010/v2" }, flags: ["--telnyx-api-port", "4010"] },
  handlerSecret: { env: "TELNYX_PUBLIC_KEY", readBy: "the telnyx package's webhook verification and examples/telnyx-handler.js", publicKey: true },
  starters: scenarios,
  examplePath: "/webhooks/telnyx",
  secretName: "an Ed25519 private key, or leave it unset: vwh makes one and prints TELNYX_PUBLIC_KEY",
} satisfies Platform;
