/**
 * "Copy as curl" in the inspector: the request exactly as a replay would send it to the local handler
 * (method, path and query, every header the proxy forwards, the body bytes), as one POSIX shell command.
 * Every value is single-quoted, so nothing in a hostile request can run in the user's shell; a body that
 * is not text goes through base64.
 */
import type { BuiltReplay } from "./session.js";

/** Not sent by the proxy (they belong to each connection), or set by curl itself. */
const skipped = new Set(["content-length", "connection", "keep-alive", "proxy-connection", "te", "trailer", "transfer-encoding", "upgrade", "expect"]);

/** `'…'` with each `'` written as `'\''`: the whole value is literal to the shell. */
export function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

export function curlCommand(request: BuiltReplay, origin: string): string {
  const parts = ["curl", "-sS", "-i", "-X", shellQuote(request.method), shellQuote(`${origin}${request.path}`)];
  for (const [name, value] of Object.entries(request.headers)) if (!skipped.has(name)) parts.push("-H", shellQuote(`${name}: ${value}`));
  if (request.body.length === 0) return parts.join(" ");
  const text = request.body.toString("utf8");
  // NUL cannot be in a shell argument, and bytes that are not UTF-8 would not survive the copy.
  if (Buffer.from(text, "utf8").equals(request.body) && !text.includes("\0")) return [...parts, "--data-binary", shellQuote(text)].join(" ");
  return `printf %s ${shellQuote(request.body.toString("base64"))} | base64 -d | ${[...parts, "--data-binary", "@-"].join(" ")}`;
}
