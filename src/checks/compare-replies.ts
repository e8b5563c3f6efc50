/**
 * `vwh simulate <recording> --compare-replies` (issue 11): a recording holds each request's reply, so
 * it is also a golden snapshot. Today's reply is compared with the recorded one: status, media type
 * and body (JSON structurally, path by path; anything else byte for byte).
 */
import type { Finding } from "./reply.js";
import { rawBody, type RecordedResponse } from "../files/raw-request.js";
import { diffJson } from "../lib/json-diff.js";

export interface ActualReply {
  status: number;
  headers: Readonly<Record<string, string>>;
  body: Buffer;
}

const mediaType = (value: string | undefined) => (value ?? "").split(";")[0]!.trim().toLowerCase();

function parseJson(body: Buffer): { value: unknown } | undefined {
  try {
    return { value: JSON.parse(body.toString("utf8")) };
  } catch {
    return undefined;
  }
}

function excerpt(body: Buffer, at: number): string {
  const text = body
    .subarray(Math.max(0, at - 10), at + 30)
    .toString("utf8")
    .replace(/\s+/g, " ");
  return JSON.stringify(text);
}

/** One finding per difference; [] when today's reply matches the recorded one. */
export function compareReplies(recorded: RecordedResponse, actual: ActualReply): Finding[] {
  const findings: Finding[] = [];
  const changed = (path: string, message: string) => findings.push({ kind: "snapshot", path, message: `reply differs from the recording: ${message}` });
  if (recorded.status !== actual.status) changed("status", `status ${recorded.status} → ${actual.status}`);
  const before = mediaType(recorded.headers["content-type"]);
  const after = mediaType(actual.headers["content-type"]);
  if (before !== after) changed("content-type", `content type ${before || "(none)"} → ${after || "(none)"}`);
  const recordedBody = rawBody(recorded);
  if (recordedBody.equals(actual.body)) return findings;
  const left = parseJson(recordedBody);
  const right = parseJson(actual.body);
  if (left && right) {
    for (const line of diffJson(left.value, right.value)) changed("body", line);
    return findings;
  }
  let at = 0;
  while (at < recordedBody.length && at < actual.body.length && recordedBody[at] === actual.body[at]) at++;
  changed(
    "body",
    `body ${recordedBody.length} → ${actual.body.length} bytes, first difference at byte ${at}: ${excerpt(recordedBody, at)} → ${excerpt(actual.body, at)}`,
  );
  return findings;
}
