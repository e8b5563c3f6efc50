/**
 * Checking replies Retell reads (docs/platforms/retell.md): the call_inbound reply, strictly (an unknown field
 * is named — Retell would ignore it and the override silently not happen), and custom-function replies,
 * where any 2xx body is the result, cut at 15 000 characters as Retell does.
 */
import { showValue, type Finding } from "../../core/findings.js";
import { jsonDocument, parseJsonBody } from "../shared/json-document.js";
import type { Action, HttpReply, ParsedReply, ReplyContext } from "../types.js";
import { grammar, sdkLabel } from "./grammar.js";
import { functionEventType, functionResultLimit, inboundEventType } from "./messages.js";

type Json = Record<string, unknown>;
const isObject = (value: unknown): value is Json => value !== null && typeof value === "object" && !Array.isArray(value);

function inboundReply(value: unknown, failures: Finding[], actions: Action[]): void {
  const fail = (path: string, message: string): void => void failures.push({ kind: "schema", path, message });
  if (!isObject(value)) return fail("", `expected {"call_inbound": {…}}, got ${showValue(value)}`);
  for (const key of Object.keys(value))
    if (key !== "call_inbound")
      fail(key, `unknown field: the reply has one field, call_inbound (${key === "chat_inbound" ? "chat_inbound is for SMS" : "Retell ignores the rest"})`);
  const inbound = value["call_inbound"];
  if (inbound === undefined) return;
  if (!isObject(inbound)) return fail("call_inbound", `expected an object, got ${showValue(inbound)}`);
  const known = Object.keys(grammar.inboundReply);
  for (const key of Object.keys(inbound)) {
    if (!known.includes(key)) fail(`call_inbound.${key}`, `unknown field (expected ${known.join(", ")}; ${sdkLabel})`);
  }
  const agentId = inbound["override_agent_id"];
  if (agentId !== undefined) {
    if (typeof agentId !== "string" || agentId === "") fail("call_inbound.override_agent_id", `expected an agent id, got ${showValue(agentId)}`);
    else actions.push({ type: "assistant", path: "call_inbound.override_agent_id", agentId });
  }
  const version = inbound["override_agent_version"];
  if (version !== undefined && typeof version !== "number" && typeof version !== "string")
    fail("call_inbound.override_agent_version", `expected a number, got ${showValue(version)}`);
  const variables = inbound["dynamic_variables"];
  if (variables !== undefined) {
    if (!isObject(variables)) fail("call_inbound.dynamic_variables", `expected an object of strings, got ${showValue(variables)}`);
    else
      for (const [key, item] of Object.entries(variables))
        if (typeof item !== "string")
          fail(`call_inbound.dynamic_variables.${key}`, `expected a string (Retell's dynamic variables are strings), got ${showValue(item)}`);
  }
  const override = inbound["agent_override"];
  if (override !== undefined) {
    if (!isObject(override)) return fail("call_inbound.agent_override", `expected an object, got ${showValue(override)}`);
    for (const [part, body] of Object.entries(override)) {
      const fields = grammar.agentOverride[part];
      if (!fields) {
        fail(`call_inbound.agent_override.${part}`, `unknown field (expected ${Object.keys(grammar.agentOverride).join(", ")})`);
        continue;
      }
      if (!isObject(body)) {
        fail(`call_inbound.agent_override.${part}`, `expected an object, got ${showValue(body)}`);
        continue;
      }
      for (const key of Object.keys(body))
        if (!fields.includes(key)) fail(`call_inbound.agent_override.${part}.${key}`, `unknown field of ${part} (${sdkLabel})`);
    }
    actions.push({ type: "assistant", path: "call_inbound.agent_override" });
  }
}

export function parseRetellReply(reply: HttpReply, context: ReplyContext): ParsedReply {
  const result: ParsedReply = { native: undefined, actions: [], failures: [], warnings: [] };
  if (!context.waits && !context.expectsActions) return result;
  const text = reply.body.toString("utf8");
  if (context.eventType === functionEventType) {
    // Any 2xx body is the result: JSON or plain text, as the agent will read it.
    const seen = text.length > functionResultLimit ? text.slice(0, functionResultLimit) : text;
    if (text.length > functionResultLimit) {
      result.warnings.push({
        kind: "rule",
        path: "body",
        message: `${text.length} characters: Retell cuts a function result at ${functionResultLimit}, so the agent sees only the start`,
      });
    }
    // Plain text (or JSON cut short, or nested too deep to check): the agent reads the text.
    const parsed = parseJsonBody(Buffer.from(seen));
    const value: unknown = "value" in parsed ? parsed.value : seen;
    result.native = jsonDocument(value);
    result.actions.push({ type: "tool_result", path: "body", result: value });
    return result;
  }
  if (context.eventType !== inboundEventType || reply.body.length === 0) return result;
  const parsed = parseJsonBody(reply.body);
  if ("error" in parsed) {
    result.failures.push({ kind: "reply", path: "body", message: parsed.error });
    return result;
  }
  const value = parsed.value;
  result.native = jsonDocument(value);
  inboundReply(value, result.failures, result.actions);
  return result;
}
