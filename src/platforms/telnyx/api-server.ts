/**
 * vwh's local copy of Telnyx's Call Control API (docs/platforms/telnyx.md): one server per run on 127.0.0.1,
 * which the handler's `telnyx` client reaches through TELNYX_BASE_URL. `POST /v2/calls/{call_control_id}/
 * actions/{command}` is routed to the call's driver, which checks and answers it; everything else is a
 * Telnyx-shaped 404.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { UsageError } from "../../core/errors.js";
import { checkCommand, errorReply, errors, okReply, type CommandReply } from "./commands.js";

const maxBodyBytes = 1024 * 1024;
const actionPath = /^\/v2\/calls\/([^/]+)\/actions\/([^/?]+)\/?(?:\?.*)?$/;

export interface CommandRequest {
  command: string;
  method: string;
  /** The parsed JSON body, or the reason it could not be read. */
  body: { ok: true; value: unknown } | { ok: false; message: string };
  authorized: boolean;
}

/** A call that takes commands: the Telnyx call driver. */
export interface CommandSink {
  receive(request: CommandRequest): CommandReply;
}

export class CallControlApi {
  readonly #server: Server;
  readonly #calls = new Map<string, CommandSink>();
  /** Takes commands for calls no driver plays (vwh verify-signature's probe requests). */
  #anyCall: CommandSink | undefined;

  private constructor(server: Server) {
    this.#server = server;
  }

  /** Listens on 127.0.0.1:`port` (0: any free port). */
  static async open(port: number): Promise<CallControlApi> {
    let api: CallControlApi | undefined;
    const server = createServer((request, response) => void api!.#handle(request, response));
    api = new CallControlApi(server);
    await new Promise<void>((resolve, reject) => {
      server.once("error", (error: NodeJS.ErrnoException) =>
        reject(
          error.code === "EADDRINUSE"
            ? new UsageError(`--telnyx-api-port ${port}: the port is in use`, "pick another port, or leave the flag out for a free one")
            : error,
        ),
      );
      server.listen(port, "127.0.0.1", resolve);
    });
    return api;
  }

  /** The value for TELNYX_BASE_URL. */
  get baseUrl(): string {
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}/v2`;
  }

  register(callControlId: string, sink: CommandSink): void {
    this.#calls.set(callControlId, sink);
  }

  unregister(callControlId: string): void {
    this.#calls.delete(callControlId);
  }

  /**
   * Answers commands for any call: `vwh verify-signature --platform telnyx --url` sends call.initiated
   * webhooks of calls no driver plays, and a handler that answers them must not fail the valid case.
   */
  acceptAnyCall(): void {
    this.#anyCall = probeSink;
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.#server.closeAllConnections();
      this.#server.close(() => resolve());
    });
  }

  async #handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const reply = await this.#route(request).catch((): CommandReply => errorReply(500, [errors.badRequest("vwh could not handle the request.")]));
    const bytes = Buffer.from(JSON.stringify(reply.body));
    response.writeHead(reply.status, { "content-type": "application/json", "content-length": bytes.length }).end(bytes);
  }

  async #route(request: IncomingMessage): Promise<CommandReply> {
    // DNS rebinding: a web page whose name points at 127.0.0.1 sends its own name as Host (and its
    // Origin); the handler's telnyx client sends 127.0.0.1:port and no Origin (issue 26, defect 7).
    const port = (this.#server.address() as AddressInfo).port;
    const host = (request.headers.host ?? "").toLowerCase();
    if (host !== `127.0.0.1:${port}` && host !== `localhost:${port}`) {
      request.resume();
      return errorReply(403, [
        { code: "10010", title: "Forbidden", detail: `vwh's Call Control API answers only at 127.0.0.1:${port}, not Host '${host.slice(0, 100)}'.` },
      ]);
    }
    if (request.headers.origin !== undefined) {
      request.resume();
      return errorReply(403, [{ code: "10010", title: "Forbidden", detail: "vwh's Call Control API refuses requests from web pages (an Origin header)." }]);
    }
    const match = actionPath.exec(request.url ?? "");
    const body = await readJson(request);
    if (!match)
      return errorReply(404, [
        errors.notFound(`vwh serves Call Control commands only (POST /v2/calls/{call_control_id}/actions/{command}), not ${request.method} ${request.url}.`),
      ]);
    const callControlId = decodeURIComponent(match[1]!);
    const sink = this.#calls.get(callControlId) ?? this.#anyCall;
    if (!sink) return errorReply(404, [errors.notFound(`No call with call_control_id '${callControlId}' is in progress.`)]);
    const authorization = request.headers.authorization ?? "";
    return sink.receive({ command: decodeURIComponent(match[2]!), method: request.method ?? "", body, authorized: /^Bearer \S+/.test(authorization) });
  }
}

/** A probe call: each command checked as the API checks it, answered, and otherwise nothing happens. */
const probeSink: CommandSink = {
  receive(request) {
    if (!request.authorized) return errorReply(401, [errors.authentication()]);
    if (!request.body.ok) return errorReply(400, [errors.badRequest(`The request body is ${request.body.message}.`)]);
    return checkCommand(request.command, request.method, request.body.value).refusal ?? okReply;
  },
};

async function readJson(request: IncomingMessage): Promise<CommandRequest["body"]> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxBodyBytes) return { ok: false, message: `a body over ${maxBodyBytes} bytes` };
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString("utf8");
  if (text.trim() === "") return { ok: true, value: {} };
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch (error) {
    return { ok: false, message: `not valid JSON (${(error as Error).message})` };
  }
}
