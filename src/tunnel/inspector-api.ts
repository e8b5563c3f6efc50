/**
 * The inspector's endpoints that act (issue 26): Replay (edited or not, re-signed or with the original
 * headers), Copy as curl, Clear and Export. Each changes the handler's state or hands out traffic, so
 * only the page itself may call them: its own Origin (a cross-site page sends its own, and a request
 * without one is not the page's fetch), `Sec-Fetch-Site: same-origin` when the browser sends it, and a
 * JSON body (a cross-site form cannot send one without a CORS preflight, which this server never grants).
 * Bodies are read bounded and validated with zod. Re-signing happens here, on the server: the page never
 * sees a secret, and what it is sent is masked like everything else.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import * as z from "zod";
import { issuesToProblems } from "../lib/validation.js";
import { curlCommand } from "./curl.js";
import { exportRecording, type ExportPolicy } from "./inspector-export.js";
import { maskSecrets } from "./redact.js";
import { ReplayError, type ReplayEdit, type SessionExchange, type TunnelSession } from "./session.js";

export interface ActionContext {
  session: TunnelSession;
  view: (exchange: SessionExchange) => unknown;
  secretNeedles: readonly string[];
  /** The handler's origin, for Copy as curl (`http://localhost:3000`). */
  upstream: string | undefined;
  /** How exports are recorded; absent: Export is not offered. */
  exportPolicy: ExportPolicy | undefined;
  /** The largest edited body accepted (the proxy's --max-body). */
  maxBodyBytes: number;
  sendJson: (response: ServerResponse, status: number, value: unknown) => void;
  send: (response: ServerResponse, status: number, type: string, body: string) => void;
  now: () => number;
}

/** A request target the forwarder will send: origin-form, printable ASCII, no spaces. */
const pathSchema = z
  .string()
  .max(8192)
  .regex(/^\/[\x21-\x7e]*$/, "expected a path and query starting with / (printable ASCII, no spaces)");

const editSchema = z.strictObject({
  mode: z.enum(["resign", "original"]),
  body: z.string().optional(),
  body_encoding: z.enum(["utf8", "base64"]).optional(),
  path: pathSchema.optional(),
});

const exportSchema = z.strictObject({ ids: z.array(z.number().int().positive()).min(1).max(10_000) });

/** Why a request that acts is not the page's own, or undefined when it is. */
export function refusePageAction(message: IncomingMessage): { status: 403 | 415; error: string } | undefined {
  if (message.headers.origin === undefined) return { status: 403, error: "only the inspector page may do this (no Origin header)" };
  const site = message.headers["sec-fetch-site"];
  if (site !== undefined && site !== "same-origin") return { status: 403, error: `only the inspector page may do this (Sec-Fetch-Site: ${site})` };
  if (!/^application\/json\b/i.test(message.headers["content-type"] ?? "")) return { status: 415, error: "expected application/json" };
  return undefined;
}

/** The body up to `limit` bytes; undefined past it (the rest is not read). */
async function readBounded(message: IncomingMessage, limit: number): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of message as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) return undefined;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, size).toString("utf8");
}

type Parsed<T> = { ok: true; value: T } | { ok: false; status: number; error: string };

async function readJson<T>(message: IncomingMessage, schema: z.ZodType<T>, limit: number): Promise<Parsed<T>> {
  const text = await readBounded(message, limit);
  if (text === undefined) return { ok: false, status: 413, error: `the request is over ${limit} bytes` };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { ok: false, status: 400, error: "expected a JSON body" };
  }
  const parsed = schema.safeParse(value);
  if (parsed.success) return { ok: true, value: parsed.data };
  const problem = issuesToProblems(parsed.error)[0];
  return { ok: false, status: 400, error: problem ? `${problem.path || "body"}: ${problem.message}` : "invalid request" };
}

function toEdit(value: z.output<typeof editSchema>, limit: number): ReplayEdit | string {
  const body = value.body === undefined ? undefined : Buffer.from(value.body, value.body_encoding === "base64" ? "base64" : "utf8");
  if (body && body.length > limit) return `the edited body is over the ${limit}-byte limit (--max-body)`;
  return { body, path: value.path };
}

const replayRoute = /^\/api\/exchanges\/(\d+)\/(replay|curl)$/;

/** Handles the acting endpoints; false when `pathname` is not one of them. */
export async function handleAction(message: IncomingMessage, response: ServerResponse, pathname: string, context: ActionContext): Promise<boolean> {
  const route = replayRoute.exec(pathname);
  const known = route !== null || pathname === "/api/clear" || pathname === "/api/export";
  if (!known) return false;
  if (message.method !== "POST") {
    context.sendJson(response, 405, { error: "expected POST" });
    return true;
  }
  const refused = refusePageAction(message);
  if (refused) {
    context.sendJson(response, refused.status, { error: refused.error });
    return true;
  }
  const { session } = context;
  try {
    if (route) {
      // An edited body is JSON text: base64 makes it 4/3 larger, and there is a little else around it.
      const parsed = await readJson(message, editSchema, Math.ceil((context.maxBodyBytes * 4) / 3) + 16 * 1024);
      if (!parsed.ok) return (void context.sendJson(response, parsed.status, { error: parsed.error }), true);
      const edit = toEdit(parsed.value, context.maxBodyBytes);
      if (typeof edit === "string") return (void context.sendJson(response, 413, { error: edit }), true);
      const id = Number(route[1]);
      if (route[2] === "replay") {
        const replayed = await session.replay(id, parsed.value.mode, edit);
        context.sendJson(response, 200, context.view(replayed));
        return true;
      }
      if (context.upstream === undefined) return (void context.sendJson(response, 409, { error: "the handler's address is not known" }), true);
      const built = session.buildReplay(id, parsed.value.mode, edit, context.now());
      const curl = curlCommand(built, context.upstream);
      const masked = maskSecrets(curl, context.secretNeedles);
      const note =
        masked === curl
          ? parsed.value.mode === "resign"
            ? "signed now: a timestamped signature is valid only for the scheme's tolerance"
            : null
          : "the secret is not shown: put it back where it says [redacted] before running this";
      context.sendJson(response, 200, { curl: masked, note });
      return true;
    }
    if (pathname === "/api/clear") {
      await readBounded(message, 1024);
      const cleared = session.list().length;
      session.clear();
      context.sendJson(response, 200, { cleared });
      return true;
    }
    // /api/export
    if (!context.exportPolicy) return (void context.sendJson(response, 409, { error: "export is not available" }), true);
    const parsed = await readJson(message, exportSchema, 256 * 1024);
    if (!parsed.ok) return (void context.sendJson(response, parsed.status, { error: parsed.error }), true);
    const chosen = parsed.value.ids.map((id) => session.get(id)).filter((exchange) => exchange !== undefined);
    if (chosen.length === 0) return (void context.sendJson(response, 404, { error: "none of these exchanges is held any more" }), true);
    const recording = exportRecording(chosen, context.exportPolicy, new Date(context.now()));
    if (recording.events.length === 0)
      return (void context.sendJson(response, 409, { error: "none of these requests reached the handler: nothing to export" }), true);
    context.send(response, 200, "application/json", `${JSON.stringify(recording, null, 2)}\n`);
    return true;
  } catch (error) {
    if (error instanceof ReplayError) {
      context.sendJson(response, error.status, { error: error.message });
      return true;
    }
    throw error;
  }
}
