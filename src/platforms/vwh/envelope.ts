/**
 * The vwh event envelope and event catalog (docs/platforms/vwh.md). The envelope is what the handler receives as the
 * JSON body; delivery metadata (attempt, signature) travels in headers so a retry sends identical bytes.
 */
import * as z from "zod";

const rfc3339 = z.iso.datetime({ offset: true });
const e164 = z.string().regex(/^\+[1-9]\d{1,14}$/, "expected an E.164 number like +15550100001");

/** Payload schemas of the known event types: known fields are typed, extra fields are allowed. */
export const eventPayloadSchemas = {
  "call.started": z.looseObject({
    from: z.string().optional(),
    to: z.string().optional(),
    direction: z.enum(["inbound", "outbound"]).optional(),
  }),
  "media.stream.connected": z.looseObject({
    stream_id: z.string().optional(),
    encoding: z.string().optional(),
    sample_rate: z.number().int().positive().optional(),
  }),
  "speech.detected": z.looseObject({}),
  "speech.ended": z.looseObject({ duration_ms: z.number().int().nonnegative().optional() }),
  "speech.transcribed": z.looseObject({
    text: z.string().optional(),
    confidence: z.number().min(0).max(1).optional(),
    is_final: z.boolean().optional(),
  }),
  "intent.matched": z.looseObject({
    intent: z.string().optional(),
    confidence: z.number().min(0).max(1).optional(),
    slots: z.record(z.string(), z.unknown()).optional(),
  }),
  "dtmf.received": z.looseObject({
    digits: z
      .string()
      .regex(/^[0-9*#A-Da-dw]+$/, "expected DTMF digits (0-9, *, #, A-D)")
      .optional(),
  }),
  "playback.finished": z.looseObject({
    instruction_index: z.number().int().nonnegative().optional(),
    interrupted: z.boolean().optional(),
  }),
  "call.redirected": z.looseObject({}),
  "call.ended": z.looseObject({
    reason: z.enum(["caller_hangup", "handler_hangup", "transferred", "failed", "timeout"]).optional(),
    duration_s: z.number().nonnegative().optional(),
  }),
} as const;

export type KnownEventType = keyof typeof eventPayloadSchemas;

/** Events after which the platform waits for instructions: the reply must carry at least one. */
const waitingEventTypes: ReadonlySet<string> = new Set<KnownEventType>([
  "call.started",
  "speech.transcribed",
  "intent.matched",
  "dtmf.received",
  "playback.finished",
  "call.redirected",
]);

export function isKnownEventType(type: string): type is KnownEventType {
  return Object.hasOwn(eventPayloadSchemas, type);
}

export function waitsForInstructions(eventType: string): boolean {
  return waitingEventTypes.has(eventType);
}

export const eventTypeSchema = z.string().regex(/^[a-z][a-z0-9_]*(\.[a-z0-9_]+)+$/, "expected a dotted event type like call.started");

export const envelopeSchema = z.object({
  event_type: eventTypeSchema,
  event_id: z.string().min(1),
  call_id: z.string().min(1),
  sequence: z.number().int().min(1),
  timestamp: rfc3339,
  payload: z.record(z.string(), z.unknown()),
});
export type Envelope = z.infer<typeof envelopeSchema>;

export { e164 };
