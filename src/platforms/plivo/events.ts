/**
 * What Plivo sends (docs/platforms/plivo.md): form-encoded requests — the answer URL when a call comes in, the
 * action URL of GetInput / GetDigits / Record / Dial with their results, a Redirect's URL, and the
 * hangup URL when the call ends. Numbers without "+", every value a string.
 */
import * as z from "zod";
import type { EventSpec, WebhookRequest } from "../types.js";

const base = {
  CallUUID: z.string().optional(),
  From: z.string().optional(),
  To: z.string().optional(),
  CallStatus: z.string().optional(),
  Direction: z.enum(["inbound", "outbound"]).optional(),
  Event: z.string().optional(),
};
const digits = z.string().regex(/^[0-9*#]*$/, "expected DTMF digits (0-9, *, #)");
const spec = (waits: boolean, description: string, fields: Record<string, z.ZodType> = {}, replyIgnored?: EventSpec["replyIgnored"]): EventSpec => ({
  payload: z.looseObject({ ...base, ...fields }),
  waits,
  description,
  ...(replyIgnored && { replyIgnored }),
});

export const plivoEvents: Readonly<Record<string, EventSpec>> = {
  answer: spec(true, "answer_url: a call came in; the reply is Plivo XML", {
    CallerName: z.string().optional(),
    RequestUUID: z.string().optional(),
    BillRate: z.string().optional(),
  }),
  get_input: spec(true, "GetInput@action: what the caller said or pressed", {
    InputType: z.enum(["dtmf", "speech"]).optional(),
    Digits: digits.optional(),
    Speech: z.string().optional(),
    SpeechConfidenceScore: z
      .string()
      .regex(/^(0(\.\d+)?|1(\.0+)?)$/, "expected a confidence between 0 and 1, as a string")
      .optional(),
  }),
  get_digits: spec(true, "GetDigits@action: the keys the caller pressed", { Digits: digits.optional() }),
  redirect: spec(true, "a <Redirect>'s URL: the next XML"),
  record: spec(true, "Record@action: the recording made", {
    RecordUrl: z.string().optional(),
    RecordingDuration: z.string().optional(),
    RecordingID: z.string().optional(),
  }),
  dial: spec(true, "Dial@action: how the dialled leg ended", {
    DialStatus: z.string().optional(),
    DialALegUUID: z.string().optional(),
    DialBLegUUID: z.string().optional(),
  }),
  hangup: spec(
    false,
    "hangup_url: the call ended (duration, cost, cause)",
    {
      HangupCause: z.string().optional(),
      Duration: z.string().optional(),
      BillDuration: z.string().optional(),
      TotalCost: z.string().optional(),
    },
    { setting: "settings.hangup_url" },
  ),
};

export const plivoEventType = z.enum(Object.keys(plivoEvents) as [string, ...string[]], {
  error: (issue) => `unknown Plivo request ${JSON.stringify(issue.input)} (expected one of ${Object.keys(plivoEvents).join(", ")})`,
});

/** A form request as Plivo sends it: POST body, or GET query. */
export function plivoRequest(method: "GET" | "POST", url: URL, params: Record<string, string>): WebhookRequest {
  const headers = { "user-agent": "PlivoHTTP/1.0" };
  if (method === "GET") {
    const addressed = new URL(url.href);
    for (const [name, value] of Object.entries(params)) addressed.searchParams.set(name, value);
    return { method, url: addressed, body: Buffer.alloc(0), contentType: undefined, headers };
  }
  return { method, url, body: Buffer.from(new URLSearchParams(params).toString()), contentType: "application/x-www-form-urlencoded", headers };
}

/** Every value a string, as a form carries it. */
export function formValues(fields: Record<string, unknown>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(fields)
      .filter(([, value]) => value !== undefined && value !== null)
      .map(([name, value]) => [name, typeof value === "string" ? value : JSON.stringify(value)]),
  );
}

/** Which request a received one is, from its parameters alone (tunnel, recordings, `vwh sign`). */
export function plivoEventTypeOf(params: URLSearchParams): string | undefined {
  if (params.has("InputType")) return "get_input";
  if (params.has("HangupCause") || params.get("Event") === "Hangup") return "hangup";
  if (params.has("RecordUrl")) return "record";
  if (params.has("DialStatus")) return "dial";
  if (params.has("Digits")) return "get_digits";
  if (params.get("Event") === "Redirect") return "redirect";
  if (params.get("Event") === "StartApp" || params.has("CallUUID")) return "answer";
  return undefined;
}

/** Plivo's time stamps: `2026-11-30 10:00:00`, UTC. */
export function plivoTime(ms: number): string {
  return new Date(ms).toISOString().slice(0, 19).replace("T", " ");
}
