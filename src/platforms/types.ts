/**
 * The platform seam (README: Platforms and caller scripts): everything vwh must do to be a convincing copy of one voice service.
 * Each platform lives in `src/platforms/<id>/` and implements `Platform`; the engine, the tunnel and the
 * signing commands reach a platform only through this interface, so adding one is adding a folder and
 * a line in `registry.ts`.
 */
import type * as z from "zod";
import type { Finding } from "../core/findings.js";
import type { MediaProtocolLoader, MediaStreamRequest } from "../media/protocol.js";

export type { MediaStreamRequest };

/**
 * vwh's own retry counter. Only requests whose platform sends it carry it (the vwh envelope's); vwh never
 * adds a header a platform does not send (issue 24): a Twilio request has no vwh-attempt.
 */
export const attemptHeader = "vwh-attempt";

/** The normalised actions of README: Platforms and caller scripts: one expectation vocabulary over every platform's reply. */
export const actionTypes = [
  "speak",
  "play",
  "listen",
  "stream",
  "transfer",
  "record",
  "pause",
  "redirect",
  "hangup",
  "reject",
  "tool_result",
  "assistant",
] as const;
export type ActionType = (typeof actionTypes)[number];

/**
 * One action as the platform will perform it. `path` says where it stands in the native reply
 * (`instructions[2]`, `Response/Gather[1]/Say[1]`) so findings and reports can point at it; the other
 * fields are the action's normalised parameters (`text`, `url`, `to`, `input`, `barge_in` …).
 */
export interface Action {
  type: ActionType;
  path: string;
  [field: string]: unknown;
}

/** A reply as received: header names lower-case. */
export interface HttpReply {
  status: number;
  headers: Readonly<Record<string, string>>;
  body: Buffer;
}

/** The reply in the platform's own terms, for `expect.native` ({ path, equals | contains | matches }). */
export interface NativeDocument {
  /** Every value at a native path (`Response/Gather@action`, `results[0].toolCallId`); empty when absent. */
  select(path: string): unknown[];
}

export interface ParsedReply {
  native: NativeDocument | undefined;
  actions: Action[];
  /** Schema and rule violations, each with the native path it concerns. */
  failures: Finding[];
  warnings: Finding[];
}

/** What the reply to a webhook is about, so the parser knows what the platform expects back. */
export interface ReplyContext {
  eventType: string;
  /** The platform acts on the reply (it waits for instructions, a tool result, an assistant). */
  waits: boolean;
  /** Set when the expectation names actions: the reply must be parsed even after an ack event. */
  expectsActions: boolean;
  /** The request that was answered, for checks that relate the two (tool call ids). */
  request: WebhookRequest;
}

/** One request the platform sends, before signing. */
export interface WebhookRequest {
  method: "GET" | "POST";
  /** Absolute URL as the platform addresses it (the public URL side; the engine maps it onto --url). */
  url: URL;
  body: Buffer;
  contentType: string | undefined;
  /** Platform headers besides the signature (User-Agent, idempotency tokens…), names lower-case. */
  headers: Record<string, string>;
}

/** A request as received or recorded, for identification and redaction. */
export interface ObservedRequest {
  method: string;
  /** Path and query as received. */
  path: string;
  headers: Readonly<Record<string, string | undefined>>;
  body: Buffer;
}

export interface RequestIdentity {
  eventType: string | undefined;
  callId: string | undefined;
  /** The platform's dedup key for the request, when it has one. */
  eventId: string | undefined;
}

/** The call as a flow or script describes it; ids already filled in. */
export interface CallInfo {
  callId: string;
  /** As the file gives them; each platform fills in its own defaults. */
  from: string | undefined;
  to: string | undefined;
  direction: "inbound" | "outbound" | undefined;
}

/** One event of a scripted (`events`) flow, ids and times filled in. */
export interface EventToEncode {
  eventType: string;
  eventId: string;
  sequence: number;
  timestamp: Date;
  payload: Record<string, unknown>;
  call: CallInfo;
  /** The public URL the platform is configured with. */
  url: URL;
}

/** What the caller does at one step of a script (README: Platforms and caller scripts). */
export type CallerInput =
  | { kind: "connect" }
  | { kind: "say"; text: string; confidence: number }
  | { kind: "press"; digits: string }
  | { kind: "silence"; ms: number }
  | { kind: "hangup" }
  | { kind: "interrupt"; text: string; confidence: number }
  | { kind: "tool"; name: string; arguments: Record<string, unknown> }
  | { kind: "event"; type: string; payload: Record<string, unknown> };

export type EndReason = "caller_hangup" | "handler_hangup" | "transferred" | "rejected" | "failed" | "timeout";

/** One webhook a reactive call sends. */
export interface CallWebhook {
  eventType: string;
  /** The dedup key the handler sees; the same bytes and id go out on every retry and duplicate. */
  eventId: string;
  request: WebhookRequest;
  /** Whether the platform acts on the reply (and so parses it). */
  waits: boolean;
  /** Platform time since the previous webhook. */
  afterMs: number;
}

/**
 * What the simulated platform does next. The engine delivers `send` moves (signing, retries, faults),
 * hands each reply back through `replied`, and gives the next caller step at `await-caller`.
 */
export type DriverMove =
  | { kind: "send"; webhook: CallWebhook }
  /** Actions the platform took that did not come in a reply (Telnyx commands over its REST API). */
  | { kind: "observed"; label: string; actions: Action[]; failures: Finding[] }
  /**
   * Actions of the handler's replies as the platform carries them out (drivers with `reportsExecution`):
   * a turn's `says` and `actions` are these, not everything replied (a replaced NCCO's rest, a prompt after
   * a listen that heard the caller).
   */
  | { kind: "executed"; actions: Action[] }
  /** Something the report should say about the turn that is not a failure (an after_ms past the end of the audio). */
  | { kind: "note"; message: string }
  /**
   * The call moved onto a media WebSocket (`<Connect><Stream>`, a `stream` instruction…). The engine
   * connects as the platform would, plays the caller's side of the script there, then reports back
   * through `streamEnded`. (Until media support lands the engine skips the stream and calls it at once.)
   */
  | { kind: "stream"; stream: MediaStreamRequest }
  | { kind: "await-caller" }
  | { kind: "ended"; reason: EndReason };

/** How a media stream ended, as the driver needs it to go on (Twilio: the `<Connect action>` request). */
export type StreamEnd =
  | { kind: "caller_hangup" }
  /** The agent closed the stream; `handoffData` is what it handed back (ConversationRelay's end), `ends` says it ended the call (Retell's end_call), `transferTo` where it sent it. */
  | { kind: "closed_by_agent"; handoffData?: string; ends?: boolean; transferTo?: string }
  | { kind: "failed"; message: string };

/** How a webhook's delivery ended: a reply, or no usable reply after retries. */
export type DeliveryOutcome = { ok: true; reply: HttpReply; parsed: ParsedReply } | { ok: false; message: string };

/** One simulated call on a platform: a state machine the engine drives (README: Platforms and caller scripts, caller scripts). */
export interface CallDriver {
  /** The driver reports what it executes (`executed` moves); otherwise every replied action counts as executed. */
  readonly reportsExecution?: boolean;
  next(): Promise<DriverMove>;
  /** The outcome of the last `send` move. */
  replied(webhook: CallWebhook, outcome: DeliveryOutcome): void;
  /** After a `stream` move: how the stream ended. */
  streamEnded(end: StreamEnd): void;
  /** The caller's next step, after an `await-caller` move; `afterMs` is the script's own timing, if given. */
  caller(input: CallerInput, afterMs: number | undefined): void;
  /** The caller's next step acts `afterMs` after the start of this turn's audio (platforms with `actsDuringPlayback`). */
  actDuringPlayback?(afterMs: number): void;
  /** Releases whatever the call holds (servers, timers). */
  close(): Promise<void>;
}

export interface CallSetup {
  call: CallInfo;
  /** The URL the platform is configured with (the public URL behind a tunnel). */
  url: URL;
  start: Date;
  newId: (prefix: string) => string;
  /** Platform-specific settings from flags and the script (`statusCallback`, `vapiToolShape` …). */
  settings: Readonly<Record<string, unknown>>;
  /** The injected clock and wait of the run (platforms that wait for the handler use them). */
  now: () => number;
  wait: (ms: number) => Promise<unknown>;
}

/** A ready-made flow or caller script for `vwh init --platform <id>`; validated when written. */
export interface StarterScenario {
  id: string;
  title: string;
  flow: (call: { from: string; to: string }) => Record<string, unknown>;
}

/** A field name (matched case-insensitively) or a pattern over field names. */
export type FieldPattern = string | RegExp;

/** Fields that hold personal data, by name, in query strings, form bodies and JSON (any depth). */
export interface RedactionFields {
  /** Fields that hold phone numbers: their digits are masked. */
  phone: readonly FieldPattern[];
  /** Fields that hold what the caller said or typed: replaced by "[redacted]". */
  text: readonly FieldPattern[];
}

export interface EventSpec {
  /** Payload (or parameter set) schema; extra fields allowed. */
  payload: z.ZodType;
  /** The platform waits for the reply and acts on it. */
  waits: boolean;
  description: string;
  /** The platform gives up on a reply slower than this (Vapi's assistant-request: 7.5 s, fixed). */
  deadlineMs?: number;
  /**
   * The platform does not act on the reply (status and event callbacks): whatever comes back, the call goes
   * on. A failed delivery is then a warning naming the URL and `setting` (where that URL is configured),
   * unless --strict-events, or an expected `status`, asks for it to fail.
   */
  replyIgnored?: { setting: string };
}

/** What a platform's run-level resources are opened with (once per run, before the first call). */
export interface RunSetup {
  /** Platform settings from flags (`telnyxApiPort` …). */
  settings: Readonly<Record<string, unknown>>;
  /** The signing secrets the run was given (flags, VWH_SECRET …); empty when none. */
  secrets: readonly { value: string; source: string }[];
}

/** Run-level resources of a platform (a local API server the handler calls), shared by every call of the run. */
export interface PlatformRun {
  /** Merged into every call's `CallSetup.settings`. */
  settings: Readonly<Record<string, unknown>>;
  /** Lines for the user before the first call: where to point the handler (`TELNYX_BASE_URL=…`). */
  notices: string[];
  /** Secrets the platform made for the run (a key pair it generated), to sign with when none was given. */
  secrets: readonly { value: string; source: string }[];
  close(): Promise<void>;
}

/** Redirects a platform follows to their Location (Twilio: 301, 302, 303 and 307). */
export interface RedirectRule {
  statuses: readonly number[];
  /** The method of the request to the Location; a POST turned into a GET goes without its body. */
  method(status: number, sent: "GET" | "POST"): "GET" | "POST";
}

export interface Platform {
  id: string;
  summary: string;
  /** Default `--scheme` and `--profile` when the platform is chosen; explicit flags win. */
  scheme: string;
  /** Undefined: vwh's own defaults (no retries, 10 s timeout). */
  profile: string | undefined;
  /** What the platform sends, by event type (flows with `events` are validated against it). */
  events: Readonly<Record<string, EventSpec>>;
  /** Which event type names a flow may use (the catalogue's, or a pattern where unknown types are allowed). */
  eventType: z.ZodType<string>;
  /** The normalised actions this platform's replies can produce (an `expect` naming another is refused). */
  actions: readonly ActionType[];
  /** The caller steps a script may use on this platform (`tool` is for AI platforms). */
  callerInputs: readonly CallerInput["kind"][];
  /**
   * The caller steps that may act during playback: their `after_ms` counts from the start of the turn's
   * audio, and the platform's rules say what the act does to the prompt (barge-in, DTMF ending a listen,
   * a hangup mid-speech). An `after_ms` on another of hangup/press/say/interrupt is refused at load. Absent:
   * the caller acts when the line is quiet and `after_ms` is platform time before the step.
   */
  actsDuringPlayback?: readonly ("hangup" | "press" | "say" | "interrupt")[];
  /** Builds the request for one event of a scripted flow. */
  encode(event: EventToEncode): WebhookRequest;
  /** Parses and checks a reply against the platform's grammar and rules. */
  parseReply(reply: HttpReply, context: ReplyContext): ParsedReply;
  /** How the platform follows a redirect reply, as it documents it; absent: it does not (a 3xx is a refusal). */
  redirects?: RedirectRule;
  /** What a status other than 401/403 means on this platform (Twilio: a 3xx it does not follow is error 11216); refusals are explained once per run (engine/auth-hint.ts). */
  explainStatus?(status: number): string | undefined;
  /** Opens what the platform needs for the whole run (load mode runs many calls on it); optional. */
  openRun?(setup: RunSetup): Promise<PlatformRun>;
  /** Starts a reactive call (a file with `script`). */
  startCall(setup: CallSetup): Promise<CallDriver>;
  /** The id the platform itself gives a call vwh knows as `callId`, when it has its own form (Twilio: a CA… SID derived from it). */
  nativeCallId?(callId: string): string;
  /** The event type, call id and dedup id of a received request (tunnel, sign, recordings). */
  identify(request: ObservedRequest): RequestIdentity;
  redaction: RedactionFields;
  starters: readonly StarterScenario[];
  /** What the signing secret is on this platform, for `vwh init`'s next steps ("your Twilio auth token"). */
  secretName?: string;
  /**
   * Where the handler reads its secret: the variable the platform's official SDK reads, else the one the
   * example handler reads; `readBy` says which. `vwh init` names it and its workflow exports it beside
   * vwh's own. `publicKey`: it holds the public half of vwh's signing key (Telnyx), another secret.
   */
  handlerSecret?: { env: string; readBy: string; publicKey?: true };
  /**
   * What a CI run fixes in advance, since the handler starts before vwh (`vwh init`'s workflow): environment
   * for the handler and the flags that make vwh match it (Telnyx: its local Call Control API's port).
   */
  ciSetup?: { env: Readonly<Record<string, string>>; flags: readonly string[] };
  /** The schemes `vwh init` offers for this platform's flows (the first is the default); only its own scheme when absent. */
  schemes?: readonly string[];
  /** Where the platform's example handler (examples/<id>-handler.js) takes the first webhook: `vwh init --platform` proposes it. */
  examplePath?: string;
  /** The platform's own `settings` of a file (snake_case keys), checked when the file is read. */
  settings?: z.ZodType;
  /** One line for the report saying which platform choices a run made (Vapi's tool-call shape, Vonage's event URL); `url` is the URL the platform is configured with. */
  describeSettings?(settings: Readonly<Record<string, unknown>>, url: URL): string | undefined;
  /**
   * The media message sets this platform's `stream` moves name (MediaStreamRequest.protocol), each loaded
   * when a call streams. A stream whose protocol is not here is handed straight back, as if the agent
   * closed it.
   */
  media?: Readonly<Record<string, MediaProtocolLoader>>;
  /** What a ws:// or wss:// --url means on this platform (Retell: its custom-LLM socket); platforms without one take http(s) URLs only. */
  socket?: string;
}
