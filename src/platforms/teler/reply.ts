/**
 * Checking the reply to Teler's flow_url request: `{"action":"stream","ws_url","sample_rate","chunk_size",
 * "record"}`, `{"action":"play","file_url"}` or `{"action":"hangup"}` — the actions and fields of
 * @frejun/teler's CallFlow helpers (grammar.json, with overrides.json); sample rates and chunk sizes as
 * https://frejun.ai/docs/call-flows gives them.
 */
import { showValue, type Finding } from "../../core/findings.js";
import { jsonDocument, parseJsonBody } from "../shared/json-document.js";
import type { Action, HttpReply, ParsedReply, ReplyContext } from "../types.js";
import { grammar, sdkLabel } from "./grammar.js";
import { flowEventType } from "./messages.js";

const sampleRates = ["8k", "16k"];
// "a value between 20 and 2000, and a multiple of 20" (https://frejun.ai/docs/call-flows, Stream).
const chunkSizes = { min: 20, max: 2000, step: 20 };

function check(value: Record<string, unknown>, failures: Finding[], warnings: Finding[]): Action | undefined {
  const fail = (path: string, message: string, kind: Finding["kind"] = "schema") => void failures.push({ kind, path, message });
  const action = value["action"];
  const spec = typeof action === "string" ? grammar.actions[action] : undefined;
  if (!spec) {
    fail(
      "action",
      `expected ${Object.keys(grammar.actions)
        .map((name) => JSON.stringify(name))
        .join(", ")} (${sdkLabel}), got ${showValue(action)}`,
    );
    return undefined;
  }
  for (const key of Object.keys(value)) {
    if (key === "action" || Object.hasOwn(spec.fields, key)) continue;
    if (action === "stream" && key === "url") fail("url", `expected ws_url: ${spec.helper} sends ws_url (a README variant shows url; unverified)`);
    else warnings.push({ kind: "schema", path: key, message: `not a field of ${spec.helper} (${sdkLabel}): Teler ignores it` });
  }
  switch (action) {
    case "stream": {
      const url = value["ws_url"];
      let parsed: URL | undefined;
      try {
        parsed = typeof url === "string" ? new URL(url) : undefined;
      } catch {
        parsed = undefined;
      }
      if (!parsed || !/^wss?:$/.test(parsed.protocol)) {
        if (!(action === "stream" && value["url"] !== undefined && url === undefined)) fail("ws_url", `expected a wss:// URL, got ${showValue(url)}`);
        return undefined;
      }
      if (parsed.protocol === "ws:") warnings.push({ kind: "rule", path: "ws_url", message: "ws:// is unencrypted: Teler connects to wss:// in production" });
      const rate = value["sample_rate"] ?? spec.defaults["sample_rate"];
      if (!sampleRates.includes(String(rate)) || typeof rate !== "string") fail("sample_rate", `expected "8k" or "16k", got ${showValue(rate)}`);
      const chunk = value["chunk_size"] ?? spec.defaults["chunk_size"];
      if (typeof chunk !== "number" || !Number.isInteger(chunk) || chunk < chunkSizes.min || chunk > chunkSizes.max || chunk % chunkSizes.step !== 0) {
        fail("chunk_size", `expected a multiple of ${chunkSizes.step} from ${chunkSizes.min} to ${chunkSizes.max}, got ${showValue(chunk)}`);
      }
      const record = value["record"];
      if (record !== undefined && typeof record !== "boolean") fail("record", `expected true or false, got ${showValue(record)}`);
      return {
        type: "stream",
        path: "action",
        url: parsed.href,
        sample_rate: String(rate),
        chunk_size: chunk,
        record: record ?? spec.defaults["record"] ?? false,
      };
    }
    case "play": {
      // The docs name it media_url, CallFlow.play sends file_url (overrides.json): one of the two.
      const field = value["file_url"] === undefined && value["media_url"] !== undefined ? "media_url" : "file_url";
      const url = value[field];
      if (typeof url !== "string" || !/^https?:\/\//.test(url)) {
        fail(
          field,
          `expected an http(s) URL of the audio${url === undefined ? " (media_url, or file_url as CallFlow.play sends it)" : ""}, got ${showValue(url)}`,
        );
        return undefined;
      }
      return { type: "play", path: "action", url };
    }
    default:
      return { type: "hangup", path: "action" };
  }
}

export function parseTelerReply(reply: HttpReply, context: ReplyContext): ParsedReply {
  const result: ParsedReply = { native: undefined, actions: [], failures: [], warnings: [] };
  if (context.eventType !== flowEventType || (!context.waits && !context.expectsActions)) return result;
  if (reply.body.length === 0) {
    result.failures.push({
      kind: "reply",
      path: "body",
      message: `expected {"action": "stream" | "play" | "hangup", …}, got an empty reply (${reply.status})`,
    });
    return result;
  }
  const parsed = parseJsonBody(reply.body);
  if ("error" in parsed) {
    result.failures.push({ kind: "reply", path: "body", message: parsed.error });
    return result;
  }
  const value = parsed.value;
  result.native = jsonDocument(value);
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    result.failures.push({ kind: "reply", path: "body", message: `expected a JSON object {"action": …}, got ${showValue(value)}` });
    return result;
  }
  const action = check(value as Record<string, unknown>, result.failures, result.warnings);
  if (action) result.actions.push(action);
  return result;
}
