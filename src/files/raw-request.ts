/**
 * A request as the tunnel recorded it, and the reply it got: the parts of a recording that are replayed byte for byte.
 */
import * as z from "zod";

/** The handler's reply to a recorded request (issue 11): a golden snapshot for `simulate --compare-replies`. */
export const recordedResponseSchema = z.strictObject({
  status: z.number().int().min(100).max(599),
  headers: z.record(z.string(), z.string()).describe("names in lower case; credentials removed"),
  body: z.string(),
  body_encoding: z.enum(["utf8", "base64"]).default("utf8").describe("base64 when the body was not valid UTF-8"),
  latency_ms: z.number().nonnegative().optional(),
  truncated: z
    .strictObject({ bytes: z.number().int().nonnegative() })
    .optional()
    .describe("set when body holds only the first bytes of a longer reply (its full size)"),
});
export type RecordedResponse = z.output<typeof recordedResponseSchema>;

/** A request as the tunnel recorded it (README: Call-flow files): replayed byte for byte, re-signed unless asked not to. */
export const rawRequestSchema = z.strictObject({
  method: z.string().regex(/^[A-Z]+$/, "expected an HTTP method in capitals"),
  // Any target the tunnel saw loads (issue 11, defect 3); replay sends only origin-form paths.
  path: z.string().min(1).describe("request target as received: path and query"),
  url: z.url().optional().describe("the full URL the sender addressed (Twilio and {url} templates sign it)"),
  headers: z.record(z.string(), z.string()).describe("as received, names in lower case"),
  body: z.string(),
  body_encoding: z.enum(["utf8", "base64"]).default("utf8").describe("base64 when the body was not valid UTF-8"),
  received_at: z.iso.datetime({ offset: true }),
  response: recordedResponseSchema.optional().describe("the handler's reply, as the tunnel saw it"),
});
export type RawRequest = z.output<typeof rawRequestSchema>;

export function rawBody(raw: Pick<RawRequest, "body" | "body_encoding">): Buffer {
  return Buffer.from(raw.body, raw.body_encoding === "base64" ? "base64" : "utf8");
}
