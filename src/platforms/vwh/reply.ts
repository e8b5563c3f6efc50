/** Parsing and checking a handler's reply in vwh's own format (SPEC §2): `{"instructions": [...]}`. */
import { fastSafeParse } from "../../lib/compiled-schema.js";
import { showValue, type Finding } from "../../core/findings.js";
import { issuesToProblems } from "../../lib/validation.js";
import { jsonDocument, parseJsonBody } from "../shared/json-document.js";
import type { Action, HttpReply, ParsedReply, ReplyContext } from "../types.js";
import { checkInstructionRules, instructionReplySchema, type Instruction } from "./grammar.js";

// Every reply of a load run is checked: the compiled fast path vouches for the common well-formed one, zod judges the rest (issue 15).
const checkInstructionReply = fastSafeParse(instructionReplySchema);

export function instructionActions(instructions: readonly Instruction[]): Action[] {
  // Object.assign, not `{ ...instruction, path }`: on node 20 a spread followed by another property
  // took ~0.45 µs against ~0.07 µs, for every instruction of every reply in load mode. Same result
  // here: the schema admits only its own keys (never `__proto__`, which assign would treat as the prototype).
  return instructions.map((instruction, index) => Object.assign({}, instruction, { path: `instructions[${index}]` }));
}

function parseJsonReply(reply: HttpReply): { value: unknown } | { error: Finding } {
  const contentType = reply.headers["content-type"] ?? "";
  if (!/^application\/([\w.+-]+\+)?json\b/i.test(contentType)) {
    return { error: { kind: "reply", path: "content-type", message: `expected application/json, got ${contentType ? showValue(contentType) : "none"}` } };
  }
  const parsed = parseJsonBody(reply.body);
  return "error" in parsed ? { error: { kind: "reply", path: "body", message: parsed.error } } : parsed;
}

/** An ack's body is ignored by the platform: read what it tried to say, without judging its form. */
function ackActions(reply: HttpReply): Action[] {
  const parsed = parseJsonBody(reply.body);
  const value = "value" in parsed ? (parsed.value as { instructions?: unknown } | null) : undefined; // not JSON: says nothing
  if (!Array.isArray(value?.instructions)) return [];
  return value.instructions.map((item: unknown, index) => {
    const type = (item as { type?: unknown } | null)?.type;
    return { type: typeof type === "string" ? (type as Action["type"]) : "speak", path: `instructions[${index}]` };
  });
}

export function parseVwhReply(reply: HttpReply, context: ReplyContext): ParsedReply {
  const result: ParsedReply = { native: undefined, actions: [], failures: [], warnings: [] };
  if (!context.waits && !context.expectsActions) {
    if (reply.body.length > 0) result.actions = ackActions(reply);
    return result;
  }
  if (reply.body.length === 0) {
    result.failures.push({ kind: "reply", path: "body", message: `expected {"instructions": [...]}, got an empty reply (${reply.status})` });
    return result;
  }
  const parsed = parseJsonReply(reply);
  if ("error" in parsed) {
    result.failures.push(parsed.error);
    return result;
  }
  result.native = jsonDocument(parsed.value);
  const checked = checkInstructionReply(parsed.value, { reportInput: true });
  if (!checked.success) {
    for (const problem of issuesToProblems(checked.error)) result.failures.push({ kind: "schema", path: problem.path, message: problem.message });
    return result;
  }
  const { instructions } = checked.data;
  result.actions = instructionActions(instructions);
  if (instructions.length === 0 && context.waits) {
    result.failures.push({ kind: "schema", path: "instructions", message: `expected at least one instruction: the platform waits after ${context.eventType}` });
  }
  for (const violation of checkInstructionRules(instructions)) result.failures.push({ kind: "rule", ...violation });
  return result;
}
