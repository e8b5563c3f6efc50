/**
 * A transient assistant (the `assistant` of an assistant-request reply) against the SDK's CreateAssistantDto
 * (grammar.json `assistant`): Vapi refuses an invalid one and the call fails
 * (`assistant-request-returned-invalid-assistant`). An unknown field is a warning (it does nothing, and a
 * stricter Vapi may refuse it), a model/voice/transcriber of a provider the SDK does not have, a missing
 * required field or a serverMessages value Vapi does not send are failures.
 */
import { showValue, type Finding } from "../../core/findings.js";
import { grammar, sdkLabel, type Fields } from "./grammar.js";

type Json = Record<string, unknown>;
const isObject = (value: unknown): value is Json => value !== null && typeof value === "object" && !Array.isArray(value);

export function checkAssistant(assistant: Json, path: string): { failures: Finding[]; warnings: Finding[] } {
  const failures: Finding[] = [];
  const warnings: Finding[] = [];
  const unknown = (value: Json, fields: Fields, at: string, typeName: string, skip: readonly string[] = []) => {
    for (const key of Object.keys(value)) {
      if (!Object.hasOwn(fields, key) && !skip.includes(key))
        warnings.push({ kind: "schema", path: `${at}.${key}`, message: `not a field of ${typeName} (${sdkLabel}): Vapi ignores it, or refuses the assistant` });
    }
    for (const [key, spec] of Object.entries(fields)) {
      if (spec.required && value[key] === undefined && !skip.includes(key))
        failures.push({ kind: "schema", path: `${at}.${key}`, message: `required by ${typeName} (${sdkLabel})` });
    }
  };
  unknown(assistant, grammar.assistant.fields, path, "CreateAssistantDto");
  for (const part of ["model", "voice", "transcriber"] as const) {
    const value = assistant[part];
    if (value === undefined) continue;
    const at = `${path}.${part}`;
    if (!isObject(value)) {
      failures.push({ kind: "schema", path: at, message: `expected an object {provider, …}, got ${showValue(value)}` });
      continue;
    }
    const providers = grammar.assistant[part];
    const provider = value["provider"];
    const spec = typeof provider === "string" ? providers[provider] : undefined;
    if (!spec) {
      failures.push({
        kind: "schema",
        path: `${at}.provider`,
        message: `expected one of ${Object.keys(providers).join(", ")} (${sdkLabel}), got ${showValue(provider)}`,
      });
      continue;
    }
    unknown(value, spec.fields, at, spec.interface, ["provider"]);
  }
  const messages = assistant["serverMessages"];
  if (messages !== undefined) {
    if (!Array.isArray(messages))
      failures.push({ kind: "schema", path: `${path}.serverMessages`, message: `expected a list of message types, got ${showValue(messages)}` });
    else {
      messages.forEach((type: unknown, index) => {
        if (typeof type !== "string" || !grammar.serverMessages.values.includes(type)) {
          failures.push({
            kind: "schema",
            path: `${path}.serverMessages[${index}]`,
            message: `not a server message Vapi sends (${sdkLabel}): ${showValue(type)}`,
          });
        }
      });
    }
  }
  return { failures, warnings };
}

/** The messages an assistant subscribes to: its serverMessages, else the SDK's documented default. */
export function subscribedMessages(serverMessages: unknown): ReadonlySet<string> {
  const list =
    Array.isArray(serverMessages) && serverMessages.every((type) => typeof type === "string") ? (serverMessages as string[]) : grammar.serverMessages.default;
  // `transcript[transcriptType="final"]` subscribes to final transcripts, the only ones vwh sends.
  return new Set(list.map((type) => (type.startsWith("transcript[") ? "transcript" : type)));
}
