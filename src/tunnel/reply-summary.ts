/**
 * What the tunnel shows of the handler's reply (issue 11): status, content type, size, and the
 * normalised actions (instruction types) when it is an instruction list, else a short body excerpt.
 */
import type { HandlerReply } from "./proxy.js";

export interface ReplySummary {
  status: number;
  contentType: string | undefined;
  bytes: number;
  /** Only the first bytes were kept (a reply over 16 MiB: the client still got all of it). */
  truncated: boolean;
  /** Instruction types in order, when the reply is `{"instructions": [...]}`. */
  actions: string[] | undefined;
  /** The start of the body on one line, when there are no actions to show. */
  excerpt: string | undefined;
}

const excerptLength = 80;

export function summarizeReply(reply: HandlerReply): ReplySummary {
  const contentType = reply.headers["content-type"];
  const text = reply.body.toString("utf8");
  let actions: string[] | undefined;
  try {
    const value = JSON.parse(text) as { instructions?: unknown };
    if (Array.isArray(value?.instructions)) {
      actions = value.instructions.map((item: unknown) =>
        item && typeof item === "object" && typeof (item as { type?: unknown }).type === "string" ? (item as { type: string }).type : "?",
      );
    }
  } catch {
    // not JSON: an excerpt instead
  }
  const oneLine = text.replace(/\s+/g, " ").trim();
  const printable = Buffer.from(text, "utf8").equals(reply.body) ? oneLine : `<${reply.body.length} bytes of binary>`;
  const excerpt = actions || reply.body.length === 0 ? undefined : printable.length > excerptLength ? `${printable.slice(0, excerptLength - 1)}…` : printable;
  return { status: reply.status, contentType, bytes: reply.truncated?.bytes ?? reply.body.length, truncated: reply.truncated !== undefined, actions, excerpt };
}
