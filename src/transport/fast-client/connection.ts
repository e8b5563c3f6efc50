/**
 * One persistent HTTP/1.1 connection of the fast client: a net or tls socket, requests written as one
 * buffer each, replies read by llhttp (./llhttp.ts) and matched to requests in order (pipelining keeps
 * several in flight; by default one). Outcomes follow delivery.ts's DeliveryResult contract exactly.
 */
import { connect as connectTcp, isIP, type Socket } from "node:net";
import { connect as connectTls, type ConnectionOptions } from "node:tls";
import { maxReplyBytes, networkFailure, replyTooLargeFailure, timeoutFailure, type DeliveryResult } from "../undici.js";
import type { Deadline, DeadlineQueue } from "./deadlines.js";
import { ResponseParser } from "./llhttp.js";

/** A request written (or about to be) on a connection, until its reply completes or it fails. */
export interface PendingRequest {
  /** The whole request: head and body. */
  bytes: Buffer;
  /** HEAD replies carry no body whatever their headers say. */
  head: boolean;
  timeoutMs: number;
  /** The clock latency is measured with (DeliveryRequest.now, else performance.now). */
  now: () => number;
  /** When the request was handed to the socket (until then: when it was given to the client). */
  started: number;
  address: string;
  settle: (result: DeliveryResult) => void;
  deadline: Deadline | undefined;
}

export interface Origin {
  protocol: "http:" | "https:";
  hostname: string;
  port: number;
  tls: ConnectionOptions | undefined;
}

export interface ConnectionOwner {
  readonly deadlines: DeadlineQueue;
  /** The connection can take another request. */
  available(connection: Connection): void;
  /** The connection is gone; requests it never sent are handed back to be sent elsewhere. */
  closed(connection: Connection, unsent: PendingRequest[]): void;
}

interface Reply {
  status: number;
  headers: Record<string, string>;
  chunks: Buffer[];
  size: number;
}

const roundMs = (ms: number) => Math.round(ms * 10) / 10;

/** Seconds of `Keep-Alive: timeout=n`, the server's idle limit, if it gave one. */
function keepAliveHintMs(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  // A server sends the same value on every reply: it is read once.
  if (value === lastKeepAlive.value) return lastKeepAlive.ms;
  const match = /timeout=(\d+)/i.exec(value);
  lastKeepAlive = { value, ms: match ? Number(match[1]) * 1000 : undefined };
  return lastKeepAlive.ms;
}
let lastKeepAlive: { value: string | undefined; ms: number | undefined } = { value: undefined, ms: undefined };

// Idle keep-alive sockets are dropped this long before the server's announced limit (as undici
// does), so a request is never written to a socket the server is closing.
const keepAliveMarginMs = 1000;
const defaultIdleMs = 10_000;

// Writes wait for the end of the event-loop turn and then go out back to back. On a loaded machine,
// a write into a handler that has gone idle costs a wake-up (an inter-processor interrupt on a VM):
// spreading writes between other work woke the handler for every request and more than halved the
// rate; a burst wakes it once.
let writeQueue: Socket[] = [];
let writeRequests: PendingRequest[] = [];
function flushWrites(): void {
  const queue = writeQueue;
  const requests = writeRequests;
  writeQueue = [];
  writeRequests = [];
  // Corked, so requests pipelined on one connection leave in one write (writev).
  const corked: Socket[] = [];
  for (let i = 0; i < queue.length; i++) {
    const socket = queue[i]!;
    const request = requests[i]!;
    if (socket.destroyed) continue;
    if (socket.writableCorked === 0) {
      socket.cork();
      corked.push(socket);
    }
    // Latency runs from here, when the request leaves: the wait in this queue is vwh's, not the handler's.
    request.started = request.now();
    socket.write(request.bytes);
  }
  for (const socket of corked) socket.uncork();
}
// A burst is capped, though: with many requests in flight (pipelining), waiting for the end of the
// turn made vwh and the handler take turns in lock-step batches of hundreds (event-loop delays of
// tens of ms); flushing every 32 lets the handler start while vwh is still reading replies.
const maxBurst = 32;
function queueWrite(socket: Socket, request: PendingRequest): void {
  if (writeQueue.length === 0) setImmediate(flushWrites);
  writeQueue.push(socket);
  writeRequests.push(request);
  if (writeQueue.length >= maxBurst) flushWrites();
}

// Replies are timed as they are read, and handed on (to the engine, whose work on each takes longer
// than reading it) once every reply that arrived together has been read: otherwise the last reply of a
// burst would count the engine's work on the ones before it as the handler's latency.
let settleQueue: PendingRequest[] = [];
let settleResults: DeliveryResult[] = [];
function settleAll(): void {
  const queue = settleQueue;
  const results = settleResults;
  settleQueue = [];
  settleResults = [];
  for (let i = 0; i < queue.length; i++) queue[i]!.settle(results[i]!);
}
function settleSoon(request: PendingRequest, result: DeliveryResult): void {
  if (settleQueue.length === 0) setImmediate(settleAll);
  settleQueue.push(request);
  settleResults.push(result);
}

// What a read from any plain-TCP connection lands in: parsed at once, and a body's bytes are copied out.
const readBuffer = Buffer.allocUnsafe(64 * 1024);

export class Connection {
  readonly inflight: PendingRequest[] = [];
  /** Whether the pool's list of connections that can take a request holds this one (a flag, not a WeakSet: it is read for every request). */
  inReadyList = false;
  /** When the socket may no longer be reused (performance.now() ms). */
  private reusableUntil = Infinity;
  private reply: Reply | undefined;
  private idleLimitMs = defaultIdleMs;
  private closing = false;
  private released = false;
  private lastError: unknown;
  private readonly socket: Socket;
  private readonly parser = new ResponseParser({
    onHeaders: (status, headers, keepAlive) => this.onHeaders(status, headers, keepAlive),
    onBody: (chunk) => this.onBody(chunk),
    onComplete: () => this.onMessageComplete(),
  });

  constructor(
    origin: Origin,
    private readonly owner: ConnectionOwner,
  ) {
    const { hostname, port } = origin;
    this.socket =
      origin.protocol === "https:"
        ? connectTls({ host: hostname, port, ALPNProtocols: ["http/1.1"], ...(isIP(hostname) ? {} : { servername: hostname }), ...origin.tls })
        : connectTcp({
            host: hostname,
            port,
            noDelay: true,
            onread: { buffer: readBuffer, callback: (length: number, buffer: Buffer) => this.onRead(buffer, length) },
          });
    this.socket.setNoDelay(true);
    this.socket.on("data", (data: Buffer) => this.onData(data));
    this.socket.on("end", () => this.onEnd());
    this.socket.on("error", (error) => (this.lastError = error));
    this.socket.on("close", () => this.onClose());
  }

  /** Open, and either busy or idle for less than the server's keep-alive limit. */
  get usable(): boolean {
    return !this.closing && (this.inflight.length > 0 || performance.now() < this.reusableUntil);
  }

  send(request: PendingRequest): void {
    this.inflight.push(request);
    request.deadline = this.owner.deadlines.add(request.timeoutMs, () => this.onTimeout(request));
    queueWrite(this.socket, request);
  }

  destroy(): void {
    this.closing = true;
    this.socket.destroy();
  }

  /** Plain TCP reads into one shared buffer, past node's stream machinery (net's documented `onread`). */
  private onRead(buffer: Buffer, length: number): boolean {
    this.onData(buffer, length);
    return true;
  }

  private onData(data: Buffer, length = data.length): void {
    const problem = this.parser.execute(data, length);
    if (problem !== undefined) this.fail(new Error(problem), `invalid reply from the handler: ${problem}`);
  }

  private onHeaders(status: number, headers: Record<string, string>, keepAlive: boolean): 0 | 1 {
    if (status === 101) {
      this.fail(new Error("unexpected 101 Switching Protocols"), "the handler switched protocols (101) on a webhook delivery");
      return 1;
    }
    this.reply = { status, headers, chunks: [], size: 0 };
    const hint = keepAliveHintMs(headers["keep-alive"]);
    if (!keepAlive) this.closing = true;
    else if (hint !== undefined) this.idleLimitMs = Math.max(0, hint - keepAliveMarginMs);
    // 1xx, 204, 304 and replies to HEAD have no body (RFC 9112 §6.3).
    const request = this.inflight[0];
    return status < 200 || status === 204 || status === 304 || request?.head ? 1 : 0;
  }

  private onBody(chunk: Buffer): void {
    const reply = this.reply;
    if (!reply) return;
    reply.size += chunk.length;
    if (reply.size <= maxReplyBytes) {
      // A copy: the bytes may sit in the shared read buffer, which the next read overwrites.
      reply.chunks.push(Buffer.from(chunk));
      return;
    }
    // A reply without end must not fill memory: the request fails and the socket is done.
    this.reply = undefined;
    const request = this.inflight.shift();
    if (request) this.settle(request, replyTooLargeFailure(roundMs(request.now() - request.started)));
    this.destroy();
  }

  private onMessageComplete(): void {
    const reply = this.reply;
    this.reply = undefined;
    if (!reply || reply.status < 200) return; // an interim reply (100 Continue, 103 …): the real one follows
    const request = this.inflight.shift();
    if (!request) {
      this.fail(new Error("a reply to no request"), "the handler sent a reply to no request");
      return;
    }
    const body = reply.chunks.length === 1 ? reply.chunks[0]! : Buffer.concat(reply.chunks);
    if (request.deadline) this.owner.deadlines.cancel(request.deadline);
    request.deadline = undefined;
    settleSoon(request, { ok: true, status: reply.status, headers: reply.headers, body, latencyMs: roundMs(request.now() - request.started) });
    if (this.closing) {
      // `Connection: close`: the server reads nothing more from this socket, so requests already
      // pipelined behind this one were never processed and may go out again on another connection.
      this.socket.end();
      this.handBack();
      return;
    }
    if (this.inflight.length === 0) this.reusableUntil = performance.now() + this.idleLimitMs;
    this.owner.available(this);
  }

  private onEnd(): void {
    // A reply delimited by the end of the connection is complete now; any other is cut short.
    if (this.reply) {
      if (this.parser.finish() !== undefined)
        this.lastError ??= Object.assign(new Error("the handler closed the connection before the reply ended"), { code: "ECONNRESET" });
    }
    this.closing = true;
  }

  private onClose(): void {
    this.closing = true;
    this.parser.free();
    const error = this.lastError ?? Object.assign(new Error("the handler closed the connection"), { code: "ECONNRESET" });
    const failed = this.inflight.splice(0);
    for (const request of failed) this.settle(request, networkFailure(error, request.address, roundMs(request.now() - request.started)));
    this.release([]);
  }

  private onTimeout(request: PendingRequest): void {
    const index = this.inflight.indexOf(request);
    if (index === -1) return;
    this.inflight.splice(index, 1);
    request.deadline = undefined;
    this.settle(request, timeoutFailure(request.timeoutMs, roundMs(request.now() - request.started)));
    // The late reply would be read as the next request's: this socket is done (undici does the same).
    this.lastError ??= Object.assign(new Error("connection closed after a request on it timed out"), { code: "ETIMEDOUT" });
    this.destroy();
  }

  private fail(error: Error, message: string): void {
    this.lastError ??= Object.assign(new Error(message), { code: (error as { code?: string }).code ?? "HPE_INVALID" });
    this.destroy();
  }

  /** After `Connection: close`, requests behind the last reply go back to the pool unsent. */
  private handBack(): void {
    const unsent = this.inflight.splice(0);
    for (const request of unsent) {
      if (request.deadline) this.owner.deadlines.cancel(request.deadline);
      request.deadline = undefined;
    }
    this.release(unsent);
  }

  private release(unsent: PendingRequest[]): void {
    if (this.released) return;
    this.released = true;
    this.owner.closed(this, unsent);
  }

  private settle(request: PendingRequest, result: DeliveryResult): void {
    if (request.deadline) this.owner.deadlines.cancel(request.deadline);
    request.deadline = undefined;
    request.settle(result);
  }
}
