/**
 * One media-stream message set (issue 17): what the platform sends on the socket and how it reads what
 * the agent sends back. Each platform's set lives in its folder (`src/platforms/<id>/media.ts`); the
 * session engine (`session.ts`) knows only this interface.
 */
import type { Finding } from "../core/findings.js";
import type { AudioFormat } from "./audio.js";

/** A media WebSocket the call moved onto, as the platform's reply asked for it. */
export interface MediaStreamRequest {
  /** ws: or wss: URL from the reply. */
  url: URL;
  /** Which message set the socket speaks: "vwh", "twilio-media", "twilio-relay", "teler", "vonage" … */
  protocol: string;
  /** Handshake headers the platform sends (its signature where it signs the upgrade). */
  headers: Record<string, string>;
  /** Custom parameters and start-message fields the reply set (Twilio `<Parameter>`, track, codec). */
  parameters: Record<string, string>;
  /** The stream element's own settings, apart from its parameters (ConversationRelay's attributes: welcomeGreeting, dtmfDetection …). */
  settings?: Record<string, string>;
  /** Path of the stream action in the native reply, for findings. */
  path: string;
  /**
   * The platform signs the WebSocket upgrade as a GET of the stream URL with its webhook scheme (Twilio:
   * X-Twilio-Signature over the wss URL); the engine adds the signature, since it holds the secret. On an HTTP
   * session (Vapi's custom LLM) every request carries it (a bearer credential).
   */
  signUpgrade?: boolean;
}

/** A frame on the wire: text (JSON) or binary. */
export type Outgoing = string | Buffer;

/** What an agent's message asks of the platform, once it passed the message-set checks. */
export type AgentMessage =
  | { kind: "audio"; bytes: Buffer }
  | { kind: "mark"; name: string }
  | { kind: "clear" }
  /** Valid, with nothing for the session to do (a language switch, a notify payload vwh echoes). */
  | { kind: "none" };

export interface ParsedMessage {
  message: AgentMessage | undefined;
  /** Each with a path starting at the message, e.g. `ws[12].media.payload`. */
  findings: Finding[];
}

export interface ProtocolSetup {
  request: MediaStreamRequest;
  callId: string;
  newId: (prefix: string) => string;
}

export type Track = "inbound" | "outbound";

export interface AudioProtocol {
  kind: "audio";
  format: AudioFormat;
  /** Audio per media message the platform sends (a multiple of 20 ms). */
  chunkMs: number;
  /** Which of the call's tracks the platform streams to the agent. */
  tracks: readonly Track[];
  /** Sent once the socket is open. */
  opening(): Outgoing[];
  media(audio: Buffer, track: Track, timestampMs: number): Outgoing;
  /** Undefined when the message set has no DTMF (the press step becomes a finding). */
  dtmf(digit: string): Outgoing | undefined;
  /** The agent's mark was reached in playback (or cleared, where `marksOnClear`). */
  markPlayed(name: string): Outgoing | undefined;
  /** A clear also returns the marks still queued (Twilio does); otherwise they are dropped. */
  marksOnClear: boolean;
  /** The platform's acknowledgement of a clear, where it sends one. */
  cleared(): Outgoing | undefined;
  /** Sent when the caller hangs up, before the socket closes (undefined: the socket just closes). */
  stop(): Outgoing | undefined;
  /** Checks one message from the agent; `at` is its path (`ws[3]`). */
  parse(data: Buffer, binary: boolean, at: string): ParsedMessage;
}

/** How the platform may cut an agent's speech: the caller talking over it, the agent's next reply. Undefined: the protocol's default. */
export interface SpeechControl {
  interruptible?: boolean | undefined;
  preemptible?: boolean | undefined;
}

/** What a text-protocol agent (ConversationRelay) sends, once it passed the message-set checks. */
export type AgentText =
  /**
   * Text to speak; `endCall` / `transferTo`: once spoken, the call ends or is transferred (Retell's end_call, transfer_number).
   * `newUtterance`: it starts an utterance of its own (Retell: another response), spoken after the one before, so the turn's
   * text joins the two with a space; the tokens of one utterance are joined as sent.
   */
  | ({ kind: "token"; text: string; last: boolean; endCall?: boolean; transferTo?: string; newUtterance?: boolean } & SpeechControl)
  | ({ kind: "play"; source: string } & SpeechControl)
  | { kind: "digits"; digits: string }
  | { kind: "end"; handoffData: string | undefined }
  /** A message of an answer a newer request superseded (Retell: an older response_id): dropped. */
  | { kind: "stale"; what: string }
  | { kind: "tool-call"; id: string; name: string; arguments: string }
  | { kind: "tool-result"; id: string; content: string }
  | { kind: "none" };

/** A stream of text instead of audio: the platform transcribes the caller and speaks the agent's tokens. */
export interface TextProtocol {
  kind: "text";
  opening(): Outgoing[];
  /** What the platform itself says when the stream opens (ConversationRelay's welcomeGreeting), before any agent text. */
  greeting?: { text: string; interruptible: boolean };
  /** Whether the agent's speech can be cut by the caller (interruptible) or by its own next reply (preemptible), unless a message says otherwise. */
  defaults: { interruptible: boolean; preemptible: boolean };
  /** The caller's finished utterance. */
  prompt(text: string, confidence: number): Outgoing;
  /** The caller talked over the agent: what had been spoken of its reply, and for how long. */
  interrupt(spokenSoFar: string, durationMs: number): Outgoing;
  /** Undefined when the platform sends no key presses on this stream; `noDtmf` says why. */
  dtmf(digit: string): Outgoing | undefined;
  noDtmf?: string;
  /** The platform's answer to an invalid message, where it sends one. */
  invalid(description: string): Outgoing | undefined;
  /** `fatal`: the platform gives up on the session (a finding ends the call). */
  parse(data: Buffer, binary: boolean, at: string): { message: AgentText | undefined; findings: Finding[]; fatal?: boolean };
  /** The caller starts talking (Retell: update_only with the transcript so far). */
  userSpeaking?(): Outgoing | undefined;
  /** When, into a silence of `ms`, the platform reminds the agent (Retell: every reminder_trigger_ms, at most reminder_max_count times). */
  reminderTimes?(ms: number): number[];
  /** The reminder itself (Retell: reminder_required with a new response_id). */
  reminder?(): Outgoing;
  /** Sent every 20 ms step if due (Retell's ping_pong under auto_reconnect). */
  tick?(now: number): Outgoing[];
  /** The protocol's own checks when a turn ends (`first`: the turn that opened the stream — Retell's begin message). */
  turnFindings?(first: boolean): { findings: Finding[]; fatal: boolean };
  /** Closing the socket without the protocol's end message is a failure (Retell: the call drops). */
  unendedClose?: string;
}

/** Where a session protocol sends its requests (the stream URL mapped onto --url), and the run's clock. */
export interface SessionContext {
  url: URL;
  /** Headers every request of the session carries: the request's own and, where it asks (signUpgrade), the platform's credential. */
  headers: Record<string, string>;
  clock: { now(): number; wait(ms: number): Promise<unknown> };
}

/**
 * A protocol that is no socket and runs the rest of the script itself (Vapi's custom LLM: one HTTP request
 * per caller turn, answered with server-sent events). It records each turn through the script (a
 * StreamScript), as the socket sessions do, and says how the call went on (a StreamEnd). Generic so that
 * this file imports neither the script's types nor the platform seam's (no import circle).
 */
export interface SessionProtocol<Script = never, End = unknown> {
  kind: "session";
  run(script: Script, context: SessionContext): Promise<End>;
}

export type StreamProtocol = AudioProtocol | TextProtocol | SessionProtocol;

/** A platform's message set, as its folder exports it (`src/platforms/<id>/media.ts`). */
export interface MediaProtocolModule {
  createProtocol(setup: ProtocolSetup): StreamProtocol;
}
export type MediaProtocolLoader = () => Promise<MediaProtocolModule>;

/** Reads a text frame as a JSON object, or says why it is not one. */
export function parseJsonFrame(data: Buffer, binary: boolean, at: string): { value: Record<string, unknown> } | { finding: Finding } {
  if (binary) return { finding: { kind: "media", path: at, message: "expected a text frame with a JSON message, got a binary frame" } };
  let value: unknown;
  try {
    value = JSON.parse(data.toString("utf8"));
  } catch {
    return { finding: { kind: "media", path: at, message: `expected a JSON message, got ${JSON.stringify(data.toString("utf8").slice(0, 40))}` } };
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) return { finding: { kind: "media", path: at, message: "expected a JSON object" } };
  return { value: value as Record<string, unknown> };
}

const base64Pattern = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Strict base64 (node's decoder skips bad characters silently, the platforms do not). */
export function decodeBase64(value: unknown, path: string): { bytes: Buffer } | { finding: Finding } {
  if (typeof value !== "string")
    return { finding: { kind: "media", path, message: `expected a base64 string, got ${value === undefined ? "nothing" : typeof value}` } };
  if (value.length === 0) return { finding: { kind: "media", path, message: "expected audio, got an empty payload" } };
  if (!base64Pattern.test(value)) return { finding: { kind: "media", path, message: "malformed base64" } };
  return { bytes: Buffer.from(value, "base64") };
}

/** A non-empty string field, or a finding naming it. */
export function requireString(message: Record<string, unknown>, field: string, path: string): Finding | undefined {
  const value = message[field];
  return typeof value === "string" && value.length > 0
    ? undefined
    : { kind: "media", path: `${path}.${field}`, message: `expected a non-empty string, got ${value === undefined ? "nothing" : JSON.stringify(value)}` };
}

export const unknownMessage = (path: string, field: string, value: unknown, known: readonly string[]): Finding => ({
  kind: "media",
  path: `${path}.${field}`,
  message: `unknown ${field} ${JSON.stringify(value)} (expected ${known.join(", ")})`,
});

const mediaEvents = ["media", "mark", "clear"] as const;

/**
 * The agent's side of the event-per-message sets (vwh, Twilio Media Streams): `event` one of media, mark,
 * clear; the stream's id in `stream.field`; a mark's name; a media payload in strict base64. The caller
 * adds its own rules for the audio.
 */
export function parseMediaEvent(data: Buffer, binary: boolean, at: string, stream: { field: string; id: string; what: string }): ParsedMessage {
  const json = parseJsonFrame(data, binary, at);
  if ("finding" in json) return { message: undefined, findings: [json.finding] };
  const value = json.value;
  const event = value["event"];
  if (!mediaEvents.includes(event as never)) return { message: undefined, findings: [unknownMessage(at, "event", event, mediaEvents)] };
  if (value[stream.field] !== stream.id) {
    return {
      message: undefined,
      findings: [
        {
          kind: "media",
          path: `${at}.${stream.field}`,
          message: `expected ${JSON.stringify(stream.id)} (${stream.what}), got ${JSON.stringify(value[stream.field] ?? null)}`,
        },
      ],
    };
  }
  if (event === "clear") return { message: { kind: "clear" }, findings: [] };
  const body = value[event as string];
  if (typeof body !== "object" || body === null)
    return { message: undefined, findings: [{ kind: "media", path: `${at}.${String(event)}`, message: "expected an object" }] };
  const fields = body as Record<string, unknown>;
  if (event === "mark") {
    const missing = requireString(fields, "name", `${at}.mark`);
    return missing ? { message: undefined, findings: [missing] } : { message: { kind: "mark", name: fields["name"] as string }, findings: [] };
  }
  const decoded = decodeBase64(fields["payload"], `${at}.media.payload`);
  return "finding" in decoded ? { message: undefined, findings: [decoded.finding] } : { message: { kind: "audio", bytes: decoded.bytes }, findings: [] };
}
