/** How Twilio runs a call, as the driver needs it: redirects it follows, platform times, cookies, small readers of TwiML values. */
import { parseSetCookies } from "../../transport/undici-core.js";
import type { Action, RedirectRule } from "../types.js";
import type { DialOutcome } from "./settings.js";
import { rfc2822, sid, type Params } from "./params.js";

/**
 * Twilio follows 301, 302, 303 and 307 ("Twilio will only follow redirects for status codes 301, 302, 303,
 * and 307", error 11216, twilio.com/docs/api/errors/11216). It does not say which method the next request
 * uses; it says it follows redirects "just like a normal web browser" (twilio.com/docs/api/2008-08-01/twiml/
 * your_response), and a browser (the Fetch standard's HTTP-redirect fetch, RFC 9110 §15.4) turns a POST
 * into a GET without a body after 301, 302 and 303, and repeats method and body after 307.
 */
export const twilioRedirects: RedirectRule = {
  statuses: [301, 302, 303, 307],
  method: (status, sent) => (status === 307 ? sent : "GET"),
};

/** What the call waits on the caller for. */
export type Listening = { kind: "gather"; action: Action; heardOverPrompt: boolean } | { kind: "record"; action: Action };

export const maxRedirects = 10;
/** How long Twilio waits after speech ends before it posts a speech result (speechTimeout auto). */
export const speechEndMs = 1000;
/** Platform time of a dialled call that an action URL hears about. */
export const dialedCallSeconds = 30;
/** Platform time before a <Dial> that does not connect gives up: busy and failed come back at once, no-answer after Dial@timeout. */
export const unansweredDialMs = (outcome: DialOutcome, timeoutSeconds: number) =>
  outcome === "no-answer" ? timeoutSeconds * 1000 : outcome === "canceled" ? 0 : 2000;

export const has = (list: unknown, item: string) => Array.isArray(list) && list.includes(item);
export const text = (value: unknown): string | undefined => (typeof value === "string" && value !== "" ? value : undefined);
export const seconds = (value: unknown, fallback: number) => (typeof value === "number" ? value : fallback);

/** Set-Cookie headers arrive joined by ", " (a cookie's Expires has a comma too: split only before a name=). */
export function setCookies(joined: string) {
  return parseSetCookies(joined.split(/,\s*(?=[^;=,\s]+=)/));
}

export type TwilioEventType = "voice" | "gather" | "record" | "dial" | "redirect" | "connect" | "status" | "transcription" | "recording_status";

export interface Pending {
  eventType: TwilioEventType;
  url: URL;
  method: "GET" | "POST";
  params: Params;
  /** Kept when the same request goes out again (a followed redirect). */
  eventId?: string;
  redirects?: number;
  /** Sent after the caller hung up (Record's action), or a callback: Twilio ignores the reply. */
  ignoresReply?: boolean;
  /** A redirect turned into a GET: the Location as it is, without the call's parameters (as a browser). */
  asBrowserGet?: boolean;
  /** A recording status callback: only AccountSid and CallSid of the call's parameters go with it. */
  bare?: boolean;
}

/** The callbacks a finished <Record> sends (recordingStatusCallback, transcribeCallback), with Twilio's parameters. */
export function recordingCallbacks(
  record: Action,
  recording: { recordingSid: string; recordingUrl: string; durationSeconds: number; said: string | undefined },
  call: { documentUrl: URL; clock: number; accountSid: string },
): Pending[] {
  const requests: Pending[] = [];
  const statusUrl = text(record["recording_status_callback"]);
  const events = String(record["recording_status_callback_event"] ?? "completed").split(/[\s,]+/);
  if (statusUrl !== undefined && events.includes("completed")) {
    requests.push({
      eventType: "recording_status",
      url: new URL(statusUrl, call.documentUrl),
      method: record["recording_status_callback_method"] === "GET" ? "GET" : "POST",
      bare: true,
      ignoresReply: true,
      params: {
        RecordingSource: "RecordVerb",
        RecordingSid: recording.recordingSid,
        RecordingUrl: recording.recordingUrl,
        RecordingStatus: "completed",
        RecordingChannels: "1",
        RecordingDuration: String(recording.durationSeconds),
        RecordingStartTime: rfc2822(new Date(call.clock - recording.durationSeconds * 1000)),
        ErrorCode: "0",
      },
    });
  }
  const transcribeUrl = text(record["transcribe_callback"]);
  if (record["transcribe"] === true && transcribeUrl !== undefined) {
    const transcriptionSid = sid("TR", recording.recordingSid);
    // Twilio transcribes what was said; a recording without speech fails to transcribe.
    requests.push({
      eventType: "transcription",
      url: new URL(transcribeUrl, call.documentUrl),
      method: "POST",
      ignoresReply: true,
      params: {
        TranscriptionSid: transcriptionSid,
        TranscriptionText: recording.said ?? "",
        TranscriptionStatus: recording.said ? "completed" : "failed",
        TranscriptionUrl: `https://api.twilio.com/2010-04-01/Accounts/${call.accountSid}/Recordings/${recording.recordingSid}/Transcriptions/${transcriptionSid}`,
        RecordingSid: recording.recordingSid,
        RecordingUrl: recording.recordingUrl,
      },
    });
  }
  return requests;
}
