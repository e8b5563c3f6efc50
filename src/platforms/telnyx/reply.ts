/**
 * A Telnyx webhook's reply: Telnyx ignores its body, since a Call Control handler acts through commands
 * (commands.ts checks those); a JSON body is still readable for `expect.native`.
 */
import type { HttpReply, ParsedReply } from "../types.js";
import { jsonDocument, parseJsonBody } from "../shared/json-document.js";

export function parseTelnyxReply(reply: HttpReply): ParsedReply {
  const parsed = reply.body.length ? parseJsonBody(reply.body) : undefined;
  const native = parsed && "value" in parsed ? jsonDocument(parsed.value) : undefined;
  return { native, actions: [], failures: [], warnings: [] };
}
