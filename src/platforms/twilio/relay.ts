/**
 * Twilio ConversationRelay (`<Connect><ConversationRelay>`) as the socket's message set (docs/platforms/twilio.md;
 * twilio.com/docs/voice/conversationrelay/websocket-messages): Twilio does the speech
 * recognition and synthesis, so it sends setup, prompt, dtmf and interrupt, and the agent answers with
 * text tokens, play, sendDigits, language and end. Invalid agent messages are answered with an error
 * message, as Twilio does (its error 64107).
 *
 * What the Twilio driver puts in MediaStreamRequest.parameters: the setup fields it knows (`accountSid`,
 * `callSid`, `from`, `to`, `direction`, `callerName`, `forwardedFrom`, `parentCallSid`, `callType`,
 * `callStatus`) and every `<Parameter>` by its name (they alone become setup.customParameters, as in
 * Twilio's example); in MediaStreamRequest.settings, the element's attributes (twilio.com/docs/voice/twiml/
 * connect/conversationrelay): `language` / `transcriptionLanguage` (the prompts' lang), `welcomeGreeting`
 * (spoken by Twilio when the session opens), `welcomeGreetingInterruptible`, `interruptible`
 * (none|dtmf|speech|any, or a boolean), `preemptible`, `dtmfDetection` (dtmf messages only when "true").
 */
import { randomBytes } from "node:crypto";
import type { Finding } from "../../core/findings.js";
import {
  parseJsonFrame,
  requireString,
  unknownMessage,
  type AgentText,
  type ProtocolSetup,
  type SpeechControl,
  type TextProtocol,
} from "../../media/protocol.js";

const agentTypes = ["text", "play", "sendDigits", "language", "end"] as const;
const setupFields = ["accountSid", "callSid", "from", "to", "direction", "callerName", "forwardedFrom", "parentCallSid", "callType", "callStatus"] as const;
const reserved = new Set<string>(setupFields);

const optionalBoolean = (value: Record<string, unknown>, field: string, at: string): Finding[] =>
  value[field] === undefined || typeof value[field] === "boolean"
    ? []
    : [{ kind: "media", path: `${at}.${field}`, message: `expected true or false, got ${JSON.stringify(value[field])}` }];
const optionalString = (value: Record<string, unknown>, field: string, at: string): Finding[] =>
  value[field] === undefined || (typeof value[field] === "string" && value[field] !== "")
    ? []
    : [{ kind: "media", path: `${at}.${field}`, message: `expected a language code, got ${JSON.stringify(value[field])}` }];

/** A message's own interruptible / preemptible, where it sets them. */
const control = (value: Record<string, unknown>): SpeechControl => ({
  interruptible: typeof value["interruptible"] === "boolean" ? value["interruptible"] : undefined,
  preemptible: typeof value["preemptible"] === "boolean" ? value["preemptible"] : undefined,
});

/** `interruptible` as the element takes it: none|dtmf|speech|any, or true (= any) / false (= none). Speech interrupts under any, speech and true. */
const speechInterrupts = (value: string | undefined): boolean => value === undefined || ["any", "speech", "true"].includes(value.toLowerCase());

export function createProtocol(setup: ProtocolSetup): TextProtocol {
  const { parameters } = setup.request;
  const settings = setup.request.settings ?? {};
  let lang = settings["transcriptionLanguage"] ?? settings["language"] ?? "en-US";
  const customParameters = Object.fromEntries(Object.entries(parameters).filter(([name]) => !reserved.has(name)));
  const known = Object.fromEntries(setupFields.map((field) => [field, parameters[field] ?? ""]));
  const dtmfOn = settings["dtmfDetection"]?.toLowerCase() === "true";
  const greeting = settings["welcomeGreeting"];

  return {
    kind: "text",
    ...(greeting && { greeting: { text: greeting, interruptible: speechInterrupts(settings["welcomeGreetingInterruptible"]) } }),
    defaults: { interruptible: speechInterrupts(settings["interruptible"]), preemptible: settings["preemptible"]?.toLowerCase() === "true" },
    opening: () => [
      JSON.stringify({
        type: "setup",
        sessionId: `VX${randomBytes(16).toString("hex")}`,
        ...known,
        callSid: parameters["callSid"] ?? setup.callId,
        direction: parameters["direction"] ?? "inbound",
        callType: parameters["callType"] ?? "PSTN",
        callStatus: parameters["callStatus"] ?? "IN-PROGRESS",
        customParameters,
      }),
    ],
    prompt: (text) => JSON.stringify({ type: "prompt", voicePrompt: text, lang, last: true }),
    // Twilio's reference shows a whole number of milliseconds.
    interrupt: (spokenSoFar, durationMs) =>
      JSON.stringify({ type: "interrupt", utteranceUntilInterrupt: spokenSoFar, durationUntilInterruptMs: Math.round(durationMs) }),
    dtmf: (digit) => (dtmfOn ? JSON.stringify({ type: "dtmf", digit }) : undefined),
    noDtmf: 'ConversationRelay sends dtmf messages only with dtmfDetection="true" on the element: the key press reached nobody',
    invalid: (description) => JSON.stringify({ type: "error", description: `Invalid message received: ${description}` }),
    parse(data, binary, at) {
      const json = parseJsonFrame(data, binary, at);
      if ("finding" in json) return { message: undefined, findings: [json.finding] };
      const value = json.value;
      const type = value["type"];
      if (!agentTypes.includes(type as never)) return { message: undefined, findings: [unknownMessage(at, "type", type, agentTypes)] };
      const findings: Finding[] = [];
      let message: AgentText | undefined;
      switch (type) {
        case "text":
          if (typeof value["token"] !== "string")
            findings.push({ kind: "media", path: `${at}.token`, message: `expected a string, got ${JSON.stringify(value["token"] ?? null)}` });
          findings.push(
            ...optionalBoolean(value, "last", at),
            ...optionalBoolean(value, "interruptible", at),
            ...optionalBoolean(value, "preemptible", at),
            ...optionalString(value, "lang", at),
          );
          message = { kind: "token", text: String(value["token"] ?? ""), last: value["last"] === true, ...control(value) };
          break;
        case "play": {
          const source = value["source"];
          if (typeof source !== "string" || !URL.canParse(source) || !/^https?:$/.test(new URL(source).protocol)) {
            findings.push({ kind: "media", path: `${at}.source`, message: `expected an http(s) URL, got ${JSON.stringify(source ?? null)}` });
          }
          if (value["loop"] !== undefined && !(Number.isInteger(value["loop"]) && (value["loop"] as number) >= 0))
            findings.push({ kind: "media", path: `${at}.loop`, message: `expected a whole number, got ${JSON.stringify(value["loop"])}` });
          findings.push(...optionalBoolean(value, "interruptible", at), ...optionalBoolean(value, "preemptible", at));
          message = { kind: "play", source: String(source), ...control(value) };
          break;
        }
        case "sendDigits": {
          const missing = requireString(value, "digits", at);
          if (missing) findings.push(missing);
          else if (!/^[0-9*#wW]+$/.test(value["digits"] as string))
            findings.push({ kind: "media", path: `${at}.digits`, message: "expected DTMF digits (0-9, *, #, w)" });
          message = { kind: "digits", digits: String(value["digits"] ?? "") };
          break;
        }
        case "language":
          findings.push(...optionalString(value, "ttsLanguage", at), ...optionalString(value, "transcriptionLanguage", at));
          if (value["ttsLanguage"] === undefined && value["transcriptionLanguage"] === undefined)
            findings.push({ kind: "media", path: at, message: "expected ttsLanguage or transcriptionLanguage" });
          // The caller's next prompts are transcribed (and labelled) in the new language.
          else if (findings.length === 0 && typeof value["transcriptionLanguage"] === "string") lang = value["transcriptionLanguage"];
          message = { kind: "none" };
          break;
        case "end":
          if (value["handoffData"] !== undefined && typeof value["handoffData"] !== "string")
            findings.push({ kind: "media", path: `${at}.handoffData`, message: "expected a string (JSON as text)" });
          message = { kind: "end", handoffData: typeof value["handoffData"] === "string" ? value["handoffData"] : undefined };
          break;
      }
      return findings.length ? { message: undefined, findings } : { message, findings };
    },
  };
}
