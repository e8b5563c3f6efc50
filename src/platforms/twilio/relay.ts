/**
 * Twilio ConversationRelay (`<Connect><ConversationRelay>`) as the socket's message set (docs/platforms/twilio.md;
 * twilio.com/docs/voice/conversationrelay/websocket-messages): Twilio does the speech
 * recognition and synthesis, so it sends setup, prompt, dtmf and interrupt, and the agent answers with
 * text tokens, play, sendDigits, language and end. Invalid agent messages are answered with an error
 * message, as Twilio does (its error 64107).
 *
 * What the Twilio driver puts in MediaStreamRequest.parameters: the setup fields it knows (`accountSid`,
 * `callSid`, `from`, `to`, `direction`, `callerName`, `forwardedFrom`, `parentCallSid`, `callType`,
 * `callStatus`), `language` (the element's language, default en-US), and every `<Parameter>` by its name
 * (they become setup.customParameters).
 */
import { randomBytes } from "node:crypto";
import type { Finding } from "../../core/findings.js";
import { parseJsonFrame, requireString, unknownMessage, type AgentText, type ProtocolSetup, type TextProtocol } from "../../media/protocol.js";

const agentTypes = ["text", "play", "sendDigits", "language", "end"] as const;
const setupFields = ["accountSid", "callSid", "from", "to", "direction", "callerName", "forwardedFrom", "parentCallSid", "callType", "callStatus"] as const;
const reserved = new Set<string>([...setupFields, "language"]);

const optionalBoolean = (value: Record<string, unknown>, field: string, at: string): Finding[] =>
  value[field] === undefined || typeof value[field] === "boolean" ? [] : [{ kind: "media", path: `${at}.${field}`, message: `expected true or false, got ${JSON.stringify(value[field])}` }];

export function createProtocol(setup: ProtocolSetup): TextProtocol {
  const { parameters } = setup.request;
  const lang = parameters["language"] ?? "en-US";
  const customParameters = Object.fromEntries(Object.entries(parameters).filter(([name]) => !reserved.has(name)));
  const known = Object.fromEntries(setupFields.map((field) => [field, parameters[field] ?? ""]));

  return {
    kind: "text",
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
    interrupt: (spokenSoFar, durationMs) => JSON.stringify({ type: "interrupt", utteranceUntilInterrupt: spokenSoFar, durationUntilInterruptMs: durationMs }),
    dtmf: (digit) => JSON.stringify({ type: "dtmf", digit }),
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
          if (typeof value["token"] !== "string") findings.push({ kind: "media", path: `${at}.token`, message: `expected a string, got ${JSON.stringify(value["token"] ?? null)}` });
          findings.push(...optionalBoolean(value, "last", at), ...optionalBoolean(value, "interruptible", at), ...optionalBoolean(value, "preemptible", at));
          message = { kind: "token", text: String(value["token"] ?? ""), last: value["last"] === true };
          break;
        case "play": {
          const source = value["source"];
          if (typeof source !== "string" || !URL.canParse(source) || !/^https?:$/.test(new URL(source).protocol)) {
            findings.push({ kind: "media", path: `${at}.source`, message: `expected an http(s) URL, got ${JSON.stringify(source ?? null)}` });
          }
          findings.push(...optionalBoolean(value, "interruptible", at), ...optionalBoolean(value, "preemptible", at));
          message = { kind: "play", source: String(source) };
          break;
        }
        case "sendDigits": {
          const missing = requireString(value, "digits", at);
          if (missing) findings.push(missing);
          else if (!/^[0-9*#wW]+$/.test(value["digits"] as string)) findings.push({ kind: "media", path: `${at}.digits`, message: "expected DTMF digits (0-9, *, #, w)" });
          message = { kind: "digits", digits: String(value["digits"] ?? "") };
          break;
        }
        case "end":
          if (value["handoffData"] !== undefined && typeof value["handoffData"] !== "string") findings.push({ kind: "media", path: `${at}.handoffData`, message: "expected a string (JSON as text)" });
          message = { kind: "end" };
          break;
        default:
          message = { kind: "none" };
      }
      return findings.length ? { message: undefined, findings } : { message, findings };
    },
  };
}
