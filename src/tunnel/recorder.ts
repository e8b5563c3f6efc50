/**
 * `vwh tunnel --record`: each request is journaled as it arrives, and the handler's reply when it has
 * been sent (one appended, flushed line each, so a crash loses nothing acknowledged); on stop the
 * journal becomes a recording — a call flow of raw events (README: Call-flow files) — written atomically.
 *
 * The journal is guarded by an OS lock (lib/socket-lock.ts) that the kernel releases when the tunnel
 * dies, so a second tunnel given the same --record is refused while the first runs, and a journal left
 * by a crash is named for `vwh tunnel --recover` instead of being mixed into a new session. A pid in the
 * journal decides nothing (issue 26, defect 6: after a reboot it may be another process's). The
 * recording never replaces a file that appeared meanwhile: it is written next to it.
 *
 * Credentials never reach a recording: authorization and cookie headers are dropped, any header or
 * path holding a configured secret is masked; signature headers stay so `vwh verify-signature
 * --recording` can check them.
 */
import { isUtf8 } from "node:buffer";
import { open, readFile, rm, type FileHandle } from "node:fs/promises";
import { basename, dirname, extname, join, resolve } from "node:path";
import { writeNewFileAtomic } from "../lib/atomic-write.js";
import { ExitCode, InputError, UsageError, VwhError } from "../core/errors.js";
import { exists } from "../lib/file-exists.js";
import { acquireLock, LockHeld, type HeldLock } from "../lib/socket-lock.js";
import { type RecordedResponse } from "../files/raw-request.js";
import { type Recording } from "../files/call-flow.js";
import { isPlatformId, type PlatformId } from "../platforms/registry.js";
import { identifyRequest, type Identify } from "./identify.js";
import type { HandlerReply } from "./proxy.js";
import {
  defaultRedactionFields,
  maskSecretHeaders,
  maskSecretsInBody,
  maskSecretsInTarget,
  redactBody,
  redactHeaders,
  redactPath,
  type RedactionFields,
} from "./redact.js";

const droppedHeaders = new Set([
  "authorization",
  "proxy-authorization",
  "cookie",
  "set-cookie",
  "connection",
  "keep-alive",
  "transfer-encoding",
  "te",
  "trailer",
  "upgrade",
  "expect",
]);

export interface RecordedRequest {
  receivedAt: Date;
  method: string;
  path: string;
  /** The public URL the sender addressed, when known (ngrok). */
  url: string | undefined;
  headers: Record<string, string>;
  body: Buffer;
}

export interface RecordingPolicy {
  /** --redact-pii */
  redactPii: boolean;
  /** The fields --redact-pii masks (the --platform's). */
  fields?: RedactionFields;
  /** How requests are identified (the --platform's). */
  identify?: Identify;
  /** Strings never to store: the configured secrets (see `secretNeedles`). */
  secretNeedles?: readonly string[];
  /** The tunnel's --platform, written into the recording so replaying needs no flag. */
  platform?: PlatformId;
}

type RecordedEvent = Recording["events"][number];

/** Text as text, anything else as base64 (checked without decoding: a 16 MiB binary reply once took ~100 MiB here). */
function encodeBody(body: Buffer): { body: string; body_encoding: "utf8" | "base64" } {
  return isUtf8(body) ? { body: body.toString("utf8"), body_encoding: "utf8" } : { body: body.toString("base64"), body_encoding: "base64" };
}

function storedHeaders(headers: Record<string, string>, policy: RecordingPolicy): Record<string, string> {
  const kept: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) if (!droppedHeaders.has(name)) kept[name] = value;
  const masked = maskSecretHeaders(kept, policy.secretNeedles ?? []);
  return policy.redactPii ? redactHeaders(masked) : masked;
}

/** The body as recorded: personal data redacted on request, a configured secret always masked (a form field, a JSON value). */
function storedBody(body: Buffer, contentType: string | undefined, policy: RecordingPolicy): Buffer {
  const redacted = policy.redactPii ? redactBody(body, contentType, policy.fields ?? defaultRedactionFields) : body;
  return maskSecretsInBody(redacted, policy.secretNeedles ?? []);
}

export function toRecordedEvent(request: RecordedRequest, policy: RecordingPolicy): RecordedEvent {
  const headers = storedHeaders(request.headers, policy);
  const body = storedBody(request.body, headers["content-type"], policy);
  if (headers["content-length"] !== undefined) headers["content-length"] = String(body.length);
  const needles = policy.secretNeedles ?? [];
  const fields = policy.fields ?? defaultRedactionFields;
  const path = maskSecretsInTarget(policy.redactPii ? redactPath(request.path, fields) : request.path, needles);
  const url = request.url && maskSecretsInTarget(policy.redactPii ? redactPath(request.url, fields) : request.url, needles);
  const identity = (policy.identify ?? identifyRequest)(request);
  return {
    ...(identity.recordable && identity.eventType && { event_type: identity.eventType }),
    raw: {
      method: request.method,
      path,
      ...(url && URL.canParse(url) && { url }),
      headers,
      ...encodeBody(body),
      received_at: request.receivedAt.toISOString(),
    },
  };
}

/** The recorded reply, its body still bytes (redacted as the policy says). */
function recordedReply(
  reply: HandlerReply,
  latencyMs: number,
  policy: RecordingPolicy,
): { response: Omit<RecordedResponse, "body" | "body_encoding">; body: Buffer } {
  const headers = storedHeaders(reply.headers, policy);
  const body = storedBody(reply.body, headers["content-type"], policy);
  if (headers["content-length"] !== undefined) headers["content-length"] = String(body.length);
  // A reply over 16 MiB reached the client whole; the recording keeps its first bytes and says so.
  return { response: { status: reply.status, headers, latency_ms: latencyMs, ...(reply.truncated && { truncated: { bytes: reply.truncated.bytes } }) }, body };
}

export function toRecordedResponse(reply: HandlerReply, latencyMs: number, policy: RecordingPolicy): RecordedResponse {
  const { response, body } = recordedReply(reply, latencyMs, policy);
  const { status, headers, ...rest } = response;
  return { status, headers, ...encodeBody(body), ...rest };
}

/** Bytes of a binary body encoded at a time (a multiple of 3, so the base64 pieces join up). */
const base64Piece = 3 * 256 * 1024;

/**
 * A reply's journal line in pieces: the line with a placeholder for the body, split there, and a
 * binary body's base64 between, a slice at a time, so a 16 MiB body is never one 21 MiB string
 * copied twice more on its way to the file.
 */
function* responseLine(n: number, reply: HandlerReply, latencyMs: number, policy: RecordingPolicy): Generator<string> {
  const { response, body } = recordedReply(reply, latencyMs, policy);
  const text = isUtf8(body);
  // HTTP header values cannot hold a NUL, so the placeholder cannot occur before the body.
  const placeholder = JSON.stringify("\u0000vwh-body\u0000");
  const { status, headers, ...rest } = response;
  const line = JSON.stringify({ n, response: { status, headers, body: "\u0000vwh-body\u0000", body_encoding: text ? "utf8" : "base64", ...rest } });
  const at = line.indexOf(placeholder);
  yield line.slice(0, at);
  if (text) yield JSON.stringify(body.toString("utf8"));
  else {
    yield '"';
    for (let start = 0; start < body.length; start += base64Piece) yield body.subarray(start, start + base64Piece).toString("base64");
    yield '"';
  }
  yield `${line.slice(at + placeholder.length)}\n`;
}

interface JournalHeader {
  vwh_journal: 1;
  pid: number;
  started_at: string;
  recording: string;
  platform?: PlatformId;
}

type JournalLine = { n: number; event: RecordedEvent } | { n: number; response: RecordedResponse };

/** Takes the journal's lock; `held` builds the error when a live tunnel holds it. */
async function lockJournal(journalFile: string, file: string, doing: string, held: (pid: string) => VwhError): Promise<HeldLock> {
  try {
    return await acquireLock(journalFile);
  } catch (error) {
    if (error instanceof LockHeld) throw held(error.pid === undefined ? "" : ` (pid ${error.pid})`);
    throw fileProblem(file, error, doing);
  }
}

function fileProblem(file: string, error: unknown, doing: string): VwhError {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === "ENOENT")
    return new InputError(`${file}: cannot ${doing}: the folder ${dirname(file)} does not exist`, "create it first, or record somewhere else");
  if (code === "EACCES" || code === "EPERM") return new InputError(`${file}: cannot ${doing}: permission denied`);
  if (code === "EISDIR") return new InputError(`${file}: cannot ${doing}: it is a folder`);
  if (code === "ENOTDIR") return new InputError(`${file}: cannot ${doing}: a part of the path is not a folder`);
  return new VwhError(`${file}: cannot ${doing}: ${code ?? (error as Error).message}`, { exitCode: ExitCode.badInput });
}

/** The next free name beside a taken one: calls.json → calls.1.json, calls.2.json … */
async function besideName(file: string): Promise<string> {
  const extension = extname(file);
  const stem = file.slice(0, file.length - extension.length);
  for (let n = 1; ; n++) {
    const candidate = `${stem}.${n}${extension}`;
    if (!(await exists(candidate))) return candidate;
  }
}

export interface WrittenRecording {
  /** Where it was written; undefined when there was nothing to record (no file is written). */
  file: string | undefined;
  requests: number;
  /** The --record path was taken by a file that appeared meanwhile: written beside it instead. */
  displaced: boolean;
}

/** Writes the events as a recording at `file`, or beside it if the name is taken. */
async function writeRecording(file: string, events: RecordedEvent[], name: string, platform: string | undefined): Promise<WrittenRecording> {
  if (events.length === 0) return { file: undefined, requests: 0, displaced: false };
  const recording: Recording = {
    version: 1,
    name,
    ...(platform !== undefined && isPlatformId(platform) && { platform }),
    description: `Recorded by vwh tunnel on ${new Date().toISOString()}; replay with vwh simulate, check with vwh verify-signature --recording.`,
    events,
  };
  const text = `${JSON.stringify(recording, null, 2)}\n`;
  let target = file;
  for (let attempt = 0; attempt < 100; attempt++) {
    try {
      // 0600 like its journal: a recording holds the traffic (issue 26, defect 5).
      if (await writeNewFileAtomic(target, text, 0o600)) return { file: target, requests: events.length, displaced: target !== file };
    } catch (error) {
      throw fileProblem(target, error, "write the recording");
    }
    target = await besideName(file);
  }
  throw new InputError(`${file}: cannot find a free name beside it for the recording`);
}

export class Recorder {
  private writes: Promise<void> = Promise.resolve();
  private counter = 0;
  private failure: unknown;

  private constructor(
    readonly file: string,
    readonly journalFile: string,
    private readonly journal: FileHandle,
    private readonly lock: HeldLock,
    private readonly policy: RecordingPolicy,
  ) {}

  /** Locks the journal beside the recording, then creates it exclusively. */
  static async open(file: string, policy: RecordingPolicy): Promise<Recorder> {
    if (await exists(file)) throw new UsageError(`${file} already exists: record to a new file (vwh never overwrites a recording)`);
    const journalFile = `${file}.journal`;
    const lock = await lockJournal(
      journalFile,
      file,
      "record",
      (pid) => new UsageError(`${file}: another vwh tunnel${pid} is recording to it`, "give each tunnel its own --record file"),
    );
    let journal: FileHandle;
    try {
      journal = await open(journalFile, "wx", 0o600);
    } catch (error) {
      await lock.release();
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw fileProblem(file, error, "record");
      // Nobody holds the lock: whoever wrote this journal is gone.
      throw new UsageError(
        `${journalFile} is left from a tunnel that stopped without writing its recording`,
        `turn it into a recording with: vwh tunnel --recover ${journalFile}`,
      );
    }
    try {
      const header: JournalHeader = {
        vwh_journal: 1,
        pid: process.pid,
        started_at: new Date().toISOString(),
        recording: resolve(file),
        ...(policy.platform && { platform: policy.platform }),
      };
      await journal.write(`${JSON.stringify(header)}\n`);
      await journal.datasync();
    } catch (error) {
      await journal.close().catch(() => undefined);
      await rm(journalFile, { force: true });
      await lock.release();
      throw fileProblem(journalFile, error, "write the journal");
    }
    return new Recorder(file, journalFile, journal, lock, policy);
  }

  /** Appends one line, written in `pieces` (made as they are written), then flushed. Lines never interleave. */
  private enqueue(pieces: () => Iterable<string>): Promise<void> {
    this.writes = this.writes.then(async () => {
      try {
        for (const piece of pieces()) await this.journal.write(piece);
        await this.journal.datasync();
      } catch (error) {
        this.failure ??= error;
      }
    });
    return this.writes;
  }

  /** Journals one request as it arrives; returns its number, for its reply. Lines never interleave. */
  async append(request: RecordedRequest): Promise<number> {
    const n = ++this.counter;
    const line: JournalLine = { n, event: toRecordedEvent(request, this.policy) };
    await this.enqueue(() => [`${JSON.stringify(line)}\n`]);
    return n;
  }

  /** Journals the handler's reply to request `n`. */
  appendResponse(n: number, reply: HandlerReply, latencyMs: number): Promise<void> {
    return this.enqueue(() => responseLine(n, reply, latencyMs, this.policy));
  }

  /** Closes the journal and removes it: nothing was recorded (the tunnel did not start). */
  async discard(): Promise<void> {
    await this.writes;
    await this.journal.close();
    await rm(this.journalFile, { force: true });
    await this.lock.release();
  }

  /**
   * Turns the journal into the recording, then removes the journal. With no requests, no file is
   * written (an empty recording would replay nothing). The journal stays if anything fails.
   */
  async finish(name: string): Promise<WrittenRecording> {
    await this.writes;
    await this.journal.close();
    try {
      if (this.failure) throw fileProblem(this.journalFile, this.failure, "append to the journal");
      const { events } = await readJournal(this.journalFile);
      const written = await writeRecording(this.file, events, name, this.policy.platform);
      await rm(this.journalFile, { force: true });
      return written;
    } finally {
      // Released either way: a journal that stays is left for --recover.
      await this.lock.release();
    }
  }
}

/**
 * Every complete line of a journal, replies joined to their requests; a last line cut short by a
 * crash is the only one skipped. Journals of earlier versions (one event per line) still read.
 */
export async function readJournal(file: string): Promise<{ header: JournalHeader | undefined; events: RecordedEvent[] }> {
  const text = await readFile(file, "utf8");
  const events: RecordedEvent[] = [];
  const byNumber = new Map<number, RecordedEvent>();
  let header: JournalHeader | undefined;
  for (const line of text.split("\n")) {
    if (line.trim() === "") continue;
    let value: Partial<JournalHeader & { n: number; event: RecordedEvent; response: RecordedResponse; raw: unknown }>;
    try {
      value = JSON.parse(line) as typeof value;
    } catch {
      continue; // only the torn tail of a crashed write can fail to parse
    }
    if (value.vwh_journal === 1) header = value as JournalHeader;
    else if (value.event && typeof value.n === "number") {
      events.push(value.event);
      byNumber.set(value.n, value.event);
    } else if (value.response && typeof value.n === "number") {
      const event = byNumber.get(value.n);
      if (event) event.raw = { ...event.raw, response: value.response };
    } else if (value.raw) events.push(value as unknown as RecordedEvent);
  }
  return { header, events };
}

/**
 * `vwh tunnel --recover <journal>`: turns the journal a crashed (or killed) tunnel left into the
 * recording it would have written, beside the --record path if that is taken now.
 */
export async function recoverJournal(journalFile: string, name = `Recovered calls ${new Date().toISOString()}`): Promise<WrittenRecording> {
  if (!journalFile.endsWith(".journal")) throw new UsageError(`--recover: expected a journal file (<recording>.journal), got ${JSON.stringify(journalFile)}`);
  if (!(await exists(journalFile))) throw new InputError(`${journalFile}: no such journal`);
  const lock = await lockJournal(
    journalFile,
    journalFile,
    "recover",
    (pid) => new UsageError(`${journalFile}: a vwh tunnel${pid} is still recording to it`, "stop that tunnel with Ctrl-C: it writes the recording itself"),
  );
  try {
    const { header, events } = await readJournal(journalFile).catch((error: unknown) => {
      throw fileProblem(journalFile, error, "read the journal");
    });
    const file = join(dirname(journalFile), basename(journalFile, ".journal"));
    const written = await writeRecording(file, events, name, header?.platform);
    await rm(journalFile, { force: true });
    return written;
  } finally {
    await lock.release();
  }
}
