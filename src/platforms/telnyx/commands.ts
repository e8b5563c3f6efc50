/**
 * Checking a Call Control command body against the SDK's grammar (grammar.json), and the error bodies
 * the real API answers with: `{"errors":[{"code","title","detail","source":{"pointer"}}]}` (docs/platforms/telnyx.md).
 */
import { showValue, type Finding } from "../../core/findings.js";
import { commandSpecs, grammarSource, type FieldSpec } from "./grammar.js";

export interface TelnyxError {
  code: string;
  title: string;
  detail: string;
  source?: { pointer: string };
}

export interface CommandReply {
  status: number;
  body: unknown;
}

export const okReply: CommandReply = { status: 200, body: { data: { result: "ok" } } };

export function errorReply(status: number, errors: TelnyxError[]): CommandReply {
  return { status, body: { errors } };
}

// Codes of Telnyx's API error catalogue (developers.telnyx.com/development/api-fundamentals/api-errors):
// 10004 and 10009 as documented; 90034 as the API answered a speak on an unanswered call
// (team-telnyx/telnyx-python#38); 90018 for an ended call [MEM].
export const errors = {
  notAnswered: (command: string): TelnyxError => ({
    code: "90034",
    title: "Call not answered yet",
    detail: `This call can't receive ${command} command because it has not been answered yet.`,
  }),
  ended: (): TelnyxError => ({ code: "90018", title: "Call has already ended", detail: "This call is no longer active and can't receive commands." }),
  authentication: (): TelnyxError => ({
    code: "10009",
    title: "Authentication failed",
    detail: "The required authentication headers were either invalid or not included in the request.",
  }),
  notFound: (detail: string): TelnyxError => ({ code: "10005", title: "Resource not found", detail }),
  badRequest: (detail: string, pointer?: string): TelnyxError => ({
    code: "10015",
    title: "Bad Request",
    detail,
    ...(pointer !== undefined && { source: { pointer } }),
  }),
  tooMany: (): TelnyxError => ({ code: "10011", title: "Too many requests", detail: "vwh takes at most 1000 commands per simulated call." }),
  missing: (field: string): TelnyxError => ({
    code: "10004",
    title: "Missing required parameter",
    detail: `The '${field}' parameter is required.`,
    source: { pointer: `/${field}` },
  }),
};

function jsonType(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  return typeof value;
}

const base64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

function fieldProblem(field: string, spec: FieldSpec, value: unknown): string | undefined {
  if (spec.enum) {
    return typeof value === "string" && spec.enum.includes(value)
      ? undefined
      : `expected one of ${spec.enum.map((item) => JSON.stringify(item)).join(", ")}, got ${showValue(value)}`;
  }
  const types = spec.types ?? ["any"];
  if (types.includes("any") || types.includes(jsonType(value))) {
    if (field === "client_state" && typeof value === "string" && !base64.test(value))
      return `expected base64 (Telnyx echoes it on the webhooks it causes), got ${showValue(value)}`;
    return undefined;
  }
  return `expected ${types.join(" or ")}, got ${showValue(value)}`;
}

export interface CheckedCommand {
  findings: Finding[];
  /** The API's answer when the body is refused. */
  refusal: CommandReply | undefined;
}

/** Unknown command, wrong HTTP method, missing required field, wrong type or enum value: each a finding with its path. */
export function checkCommand(command: string, method: string, body: unknown): CheckedCommand {
  const spec = commandSpecs[command];
  if (!spec) {
    const message = `unknown Call Control command ${JSON.stringify(command)} (${grammarSource.package} ${grammarSource.version} has ${Object.keys(commandSpecs).length} commands, e.g. answer, speak, gather_using_speak, transfer, hangup)`;
    return {
      findings: [{ kind: "schema", path: `actions/${command}`, message }],
      refusal: errorReply(422, [errors.badRequest(`Unknown command '${command}'.`)]),
    };
  }
  if (method !== spec.method) {
    const message = `expected ${spec.method}, got ${method}`;
    return {
      findings: [{ kind: "schema", path: `actions/${command}`, message }],
      refusal: errorReply(422, [errors.badRequest(`${command} takes ${spec.method}.`)]),
    };
  }
  if (body === null || typeof body !== "object" || Array.isArray(body)) {
    return {
      findings: [{ kind: "schema", path: command, message: `expected a JSON object body, got ${showValue(body)}` }],
      refusal: errorReply(422, [errors.badRequest("The request body must be a JSON object.")]),
    };
  }
  const findings: Finding[] = [];
  const refused: ReturnType<typeof errors.missing>[] = [];
  const fields = body as Record<string, unknown>;
  for (const [field, fieldSpec] of Object.entries(spec.fields)) {
    const value = fields[field];
    if (value === undefined) {
      if (fieldSpec.required) {
        findings.push({
          kind: "schema",
          path: `${command}.${field}`,
          message: `required by ${spec.params} (${grammarSource.package} ${grammarSource.version})`,
        });
        refused.push(errors.missing(field));
      }
      continue;
    }
    const problem = fieldProblem(field, fieldSpec, value);
    if (problem) {
      findings.push({ kind: "schema", path: `${command}.${field}`, message: problem });
      refused.push(errors.badRequest(`The '${field}' parameter is invalid: ${problem}.`, `/${field}`));
    }
  }
  return { findings, refusal: refused.length ? errorReply(422, refused) : undefined };
}
