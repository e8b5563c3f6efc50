/**
 * Checking a handler's reply to a Vapi server message (docs/platforms/vapi.md), per message type: the fields
 * come from the SDK's ServerMessageResponse* types (grammar.json); the rules (one assistant choice, one
 * result per tool call sent, a reachable destination) are Vapi's documented behaviour.
 */
import { showValue, type Finding } from "../../core/findings.js";
import { jsonDocument, parseJsonBody } from "../shared/json-document.js";
import type { Action, HttpReply, ParsedReply, ReplyContext } from "../types.js";
import { checkAssistant } from "./assistant.js";
import { grammar, messageSpec, sdkLabel, type Fields } from "./grammar.js";
import { sentToolCalls } from "./messages.js";

type Json = Record<string, unknown>;

const isObject = (value: unknown): value is Json => value !== null && typeof value === "object" && !Array.isArray(value);
const e164 = /^\+[1-9]\d{1,14}$/;

/** The assistant-request reply: exactly one way to run the call; overrides ride along with their choice. */
const assistantChoices = ["assistantId", "assistant", "assistantOverrides", "squadId", "squad", "workflowId", "workflow", "destination", "error"] as const;
const companions: Record<string, readonly string[]> = {
  assistantOverrides: ["assistantId", "assistant"],
  squadOverrides: ["squadId", "squad"],
  workflowOverrides: ["workflowId", "workflow"],
};

class ReplyChecker {
  readonly failures: Finding[] = [];
  readonly warnings: Finding[] = [];
  readonly actions: Action[] = [];

  fail(path: string, message: string, kind: Finding["kind"] = "schema"): void {
    this.failures.push({ kind, path, message });
  }

  warn(path: string, message: string): void {
    this.warnings.push({ kind: "schema", path, message });
  }

  /** Fields the SDK does not know: Vapi ignores them, so a typo silently does nothing. */
  unknownFields(value: Json, fields: Fields, path: string, typeName: string): void {
    for (const key of Object.keys(value)) {
      if (!Object.hasOwn(fields, key)) this.warn(`${path}${path ? "." : ""}${key}`, `not a field of ${typeName} (${sdkLabel}): Vapi ignores it`);
    }
  }

  string(value: Json, field: string, path: string, required: boolean): string | undefined {
    const given = value[field];
    if (given === undefined) {
      if (required) this.fail(path ? `${path}.${field}` : field, "required (a string)");
      return undefined;
    }
    if (typeof given !== "string" || given === "") {
      this.fail(path ? `${path}.${field}` : field, `expected a non-empty string, got ${showValue(given)}`);
      return undefined;
    }
    return given;
  }

  /** A transfer destination of the kinds the message's reply type allows. */
  destination(value: unknown, path: string, kinds: string): Action | undefined {
    const allowed = grammar.destinations[kinds] ?? {};
    if (!isObject(value)) {
      this.fail(path, `expected a destination object {type: ${Object.keys(allowed).join(" | ")}, …}, got ${showValue(value)}`);
      return undefined;
    }
    const type = value["type"];
    const spec = typeof type === "string" ? allowed[type] : undefined;
    if (!spec) {
      this.fail(
        `${path}.type`,
        `expected ${Object.keys(allowed)
          .map((kind) => JSON.stringify(kind))
          .join(", ")}, got ${showValue(type)}`,
      );
      return undefined;
    }
    this.unknownFields(value, { ...spec.fields, type: { required: true, type: "string" } }, path, spec.interface);
    let to: string | undefined;
    if (type === "number") {
      to = this.string(value, "number", path, true);
      if (to !== undefined && value["numberE164CheckEnabled"] !== false && !e164.test(to)) {
        this.fail(
          `${path}.number`,
          `expected an E.164 number like +15550100999 (Vapi checks it unless numberE164CheckEnabled is false), got ${showValue(to)}`,
          "rule",
        );
      }
    } else if (type === "sip") {
      to = this.string(value, "sipUri", path, true);
      if (to !== undefined && !/^sips?:/i.test(to)) this.fail(`${path}.sipUri`, `expected a sip: URI, got ${showValue(to)}`, "rule");
    } else {
      to = this.string(value, "assistantName", path, true);
    }
    if (to === undefined) return undefined;
    const message = value["message"];
    const spoken = typeof message === "string" ? message : isObject(message) && typeof message["content"] === "string" ? message["content"] : undefined;
    return { type: "transfer", path, to, kind: type, ...(spoken !== undefined && { text: spoken }) };
  }
}

function assistantRequest(body: Json, check: ReplyChecker, fields: Fields): void {
  const chosen = assistantChoices.filter((key) => body[key] !== undefined);
  // assistantOverrides is the choice only when alone; next to assistantId/assistant it overrides them.
  const choices = chosen.length > 1 ? chosen.filter((key) => !companions[key]?.some((with_) => body[with_] !== undefined)) : chosen;
  if (choices.length !== 1) {
    check.fail(
      choices.length === 0 ? "" : choices[1]!,
      choices.length === 0
        ? `expected exactly one of ${assistantChoices.join(", ")}, got none: the call fails (assistant-request-returned-no-assistant)`
        : `expected exactly one of ${assistantChoices.join(", ")}, got ${choices.join(" and ")}`,
      "rule",
    );
  }
  for (const [override, partners] of Object.entries(companions)) {
    if (body[override] !== undefined && !isObject(body[override])) check.fail(override, `expected an object, got ${showValue(body[override])}`);
    if (override !== "assistantOverrides" && body[override] !== undefined && !partners.some((partner) => body[partner] !== undefined)) {
      check.fail(override, `goes with ${partners.join(" or ")}`, "rule");
    }
  }
  for (const key of ["assistantId", "squadId", "workflowId"] as const) {
    const id = check.string(body, key, "", false);
    if (id !== undefined) check.actions.push({ type: "assistant", path: key, [key]: id });
  }
  for (const key of ["assistant", "squad", "workflow"] as const) {
    const value = body[key];
    if (value === undefined) continue;
    if (!isObject(value)) {
      check.fail(key, `expected an object, got ${showValue(value)}`);
      continue;
    }
    const firstMessage = typeof value["firstMessage"] === "string" ? value["firstMessage"] : undefined;
    check.actions.push({
      type: "assistant",
      path: key,
      ...(typeof value["name"] === "string" && { name: value["name"] }),
      ...(firstMessage !== undefined && { text: firstMessage }),
      ...(key === "assistant" && Array.isArray(value["serverMessages"]) && { serverMessages: value["serverMessages"] }),
    });
    if (key === "assistant") {
      const found = checkAssistant(value, key);
      check.failures.push(...found.failures);
      check.warnings.push(...found.warnings);
    }
  }
  if (body["assistantOverrides"] !== undefined && isObject(body["assistantOverrides"]) && chosen.length === 1) {
    check.actions.push({ type: "assistant", path: "assistantOverrides" });
  }
  if (body["destination"] !== undefined) {
    const transfer = check.destination(body["destination"], "destination", "assistant-request");
    if (transfer) check.actions.push(transfer);
  }
  const error = check.string(body, "error", "", false);
  // Vapi speaks the error to the caller and ends the call.
  if (error !== undefined) check.actions.push({ type: "reject", path: "error", text: error, reason: error });
  check.unknownFields(body, fields, "", "ServerMessageResponseAssistantRequest");
}

/** A result value as expectations see it: JSON text becomes the value it encodes. */
function resultValue(value: unknown): unknown {
  if (typeof value !== "string") return value;
  const trimmed = value.trim();
  if (!/^[[{]/.test(trimmed)) return value;
  const parsed = parseJsonBody(Buffer.from(trimmed));
  return "value" in parsed ? parsed.value : value;
}

function toolCalls(body: Json, check: ReplyChecker, fields: Fields, context: ReplyContext): void {
  check.unknownFields(body, fields, "", "ServerMessageResponseToolCalls");
  const sent = sentToolCalls(context.request.body);
  const results = body["results"];
  if (results === undefined) {
    if (typeof body["error"] === "string") {
      check.fail("error", `the tool call failed: ${showValue(body["error"])}`, "rule");
      return;
    }
    check.fail(
      "results",
      `required: {"results": [{"toolCallId", "result"}]} with one result per tool call (sent ${sent.map((call) => JSON.stringify(call.id)).join(", ") || "none"})`,
    );
    return;
  }
  if (!Array.isArray(results)) {
    check.fail("results", `expected an array, got ${showValue(results)}`);
    return;
  }
  const pending = new Map(sent.map((call) => [call.id, call.name]));
  const seen = new Set<string>();
  const unmatched: number[] = [];
  results.forEach((item: unknown, index) => {
    const path = `results[${index}]`;
    if (!isObject(item)) {
      check.fail(path, `expected an object {toolCallId, result}, got ${showValue(item)}`);
      return;
    }
    check.unknownFields(item, grammar.toolCallResult, path, "ToolCallResult");
    const id = check.string(item, "toolCallId", path, true);
    if (item["name"] === undefined && grammar.toolCallResult["name"]?.required)
      check.warn(`${path}.name`, `the SDK's ToolCallResult requires name (${sdkLabel})`);
    if (item["result"] === undefined && item["error"] === undefined) check.fail(path, "expected result or error");
    if (item["result"] !== undefined && typeof item["result"] !== "string") {
      check.warn(`${path}.result`, `the SDK types result as a string (${sdkLabel}); send JSON.stringify(value) to be sure Vapi passes it on unchanged`);
    }
    if (item["error"] !== undefined && typeof item["error"] !== "string") check.fail(`${path}.error`, `expected a string, got ${showValue(item["error"])}`);
    if (id === undefined) return;
    if (seen.has(id)) {
      check.fail(`${path}.toolCallId`, `a second result for ${JSON.stringify(id)}`, "rule");
      return;
    }
    seen.add(id);
    if (!pending.has(id)) unmatched.push(index);
    else {
      const name = pending.get(id);
      if (typeof item["name"] === "string" && name && item["name"] !== name)
        check.warn(`${path}.name`, `the call ${JSON.stringify(id)} was to ${JSON.stringify(name)}, not ${JSON.stringify(item["name"])}`);
      pending.delete(id);
    }
    check.actions.push({
      type: "tool_result",
      path,
      toolCallId: id,
      ...(typeof item["name"] === "string" && { name: item["name"] }),
      ...(item["result"] !== undefined && { result: resultValue(item["result"]) }),
      ...(item["error"] !== undefined && { error: item["error"] }),
    });
  });
  const missing = [...pending.entries()];
  unmatched.forEach((index, position) => {
    const given = (results[index] as Json)["toolCallId"];
    const expected = missing[position];
    check.fail(
      `results[${index}].toolCallId`,
      expected
        ? `expected ${JSON.stringify(expected[0])} (the id Vapi sent for ${expected[1] || "the tool call"}), got ${showValue(given)}`
        : `${showValue(given)} was never sent (sent: ${sent.map((call) => JSON.stringify(call.id)).join(", ") || "none"})`,
      "rule",
    );
  });
  for (const [id, name] of missing.slice(unmatched.length)) {
    check.fail(
      "results",
      `no result for toolCallId ${JSON.stringify(id)}${name ? ` (${name})` : ""}: the assistant waits for it until the tool times out`,
      "rule",
    );
  }
}

/** The legacy function-call reply (overrides.json): {result}, which the assistant reads as the function's output. */
function functionCall(body: Json, check: ReplyChecker, fields: Fields, context: ReplyContext): void {
  check.unknownFields(body, fields, "", "the function-call reply {result}");
  let name = "";
  try {
    const sent = (JSON.parse(context.request.body.toString("utf8")) as { message?: { functionCall?: { name?: unknown } } }).message?.functionCall?.name;
    if (typeof sent === "string") name = sent;
  } catch {
    name = "";
  }
  const value = body["result"];
  if (value === undefined) check.warn("result", `no result: the assistant gets nothing back from ${name || "the function"}`);
  else if (typeof value !== "string")
    check.warn("result", `Vapi's examples send result as a string; send JSON.stringify(value) to be sure the assistant reads it unchanged`);
  check.actions.push({ type: "tool_result", path: "result", ...(name && { name }), ...(value !== undefined && { result: resultValue(value) }) });
}

function transferDestination(body: Json, check: ReplyChecker, fields: Fields): void {
  check.unknownFields(body, fields, "", "ServerMessageResponseTransferDestinationRequest");
  const message = body["message"];
  if (message !== undefined) {
    if (!isObject(message) || typeof message["message"] !== "string")
      check.fail("message", `expected {type: "request-start", message: "…"}, got ${showValue(message)}`);
    else check.actions.push({ type: "speak", path: "message", text: message["message"] });
  }
  if (body["destination"] === undefined) {
    const error = check.string(body, "error", "", false);
    if (error !== undefined) check.actions.push({ type: "reject", path: "error", text: error, reason: error });
    else check.fail("destination", "required: a destination {type: number | sip | assistant, …} (or error): without one the transfer fails");
    return;
  }
  const transfer = check.destination(body["destination"], "destination", "transfer-destination-request");
  if (transfer) check.actions.push(transfer);
}

function knowledgeBase(body: Json, check: ReplyChecker, fields: Fields): void {
  check.unknownFields(body, fields, "", "ServerMessageResponseKnowledgeBaseRequest");
  const documents = body["documents"];
  if (documents === undefined) return;
  if (!Array.isArray(documents)) {
    check.fail("documents", `expected an array of {content, similarity}, got ${showValue(documents)}`);
    return;
  }
  documents.forEach((document: unknown, index) => {
    const path = `documents[${index}]`;
    if (!isObject(document)) return check.fail(path, `expected {content, similarity}, got ${showValue(document)}`);
    check.string(document, "content", path, true);
    if (typeof document["similarity"] !== "number") check.fail(`${path}.similarity`, `expected a number, got ${showValue(document["similarity"])}`);
  });
}

/** Replies with no rule of their own: required fields present, nothing unknown. */
function generic(body: Json, check: ReplyChecker, fields: Fields, typeName: string): void {
  check.unknownFields(body, fields, "", typeName);
  for (const [field, spec] of Object.entries(fields)) if (spec.required && body[field] === undefined) check.fail(field, `required (${spec.type})`);
  const timeout = body["timeoutSeconds"];
  if (timeout !== undefined && (typeof timeout !== "number" || timeout < 0 || timeout > 15))
    check.fail("timeoutSeconds", `expected seconds from 0 to 15, got ${showValue(timeout)}`);
}

export function parseVapiReply(reply: HttpReply, context: ReplyContext): ParsedReply {
  const check = new ReplyChecker();
  const result = (native: ParsedReply["native"]): ParsedReply => ({ native, actions: check.actions, failures: check.failures, warnings: check.warnings });
  const spec = messageSpec(context.eventType);
  if (!context.waits && !context.expectsActions) return result(undefined);
  if (!spec?.reply) return result(undefined);
  if (reply.body.length === 0) {
    check.fail("body", `expected a JSON ${spec.reply.interface} for ${context.eventType}, got an empty reply (${reply.status})`, "reply");
    return result(undefined);
  }
  const parsed = parseJsonBody(reply.body);
  if ("error" in parsed) {
    check.fail("body", parsed.error, "reply");
    return result(undefined);
  }
  const value = parsed.value;
  const contentType = reply.headers["content-type"] ?? "";
  if (!/^application\/([\w.+-]+\+)?json\b/i.test(contentType))
    check.warn("content-type", `expected application/json, got ${contentType ? showValue(contentType) : "none"}`);
  if (!isObject(value)) {
    check.fail("body", `expected a JSON object (${spec.reply.interface}), got ${showValue(value)}`, "reply");
    return result(jsonDocument(value));
  }
  let body = value;
  if (isObject(body["messageResponse"]) && Object.keys(body).length === 1) {
    check.warn("messageResponse", "Vapi's docs reply with the response object itself; the SDK's {messageResponse} wrapper is its OpenAPI model");
    body = body["messageResponse"];
  }
  const fields = spec.reply.fields;
  switch (spec.reply.interface) {
    case "ServerMessageResponseAssistantRequest":
      assistantRequest(body, check, fields);
      break;
    case "ServerMessageResponseToolCalls":
      toolCalls(body, check, fields, context);
      break;
    case "ServerMessageResponseFunctionCall":
      functionCall(body, check, fields, context);
      break;
    case "ServerMessageResponseTransferDestinationRequest":
      transferDestination(body, check, fields);
      break;
    case "ServerMessageResponseKnowledgeBaseRequest":
      knowledgeBase(body, check, fields);
      break;
    case "ServerMessageResponseHandoffDestinationRequest":
      if (body["destination"] === undefined && body["error"] === undefined) check.fail("destination", "required: a destination (or error)");
      generic(body, check, fields, spec.reply.interface);
      break;
    default:
      generic(body, check, fields, spec.reply.interface);
  }
  return result(jsonDocument(body));
}
