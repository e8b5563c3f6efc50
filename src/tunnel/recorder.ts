/**
 * `vwh tunnel --record`: each request is journaled as it arrives (one appended, flushed line, so a
 * crash loses nothing), and on stop the journal becomes a recording — a call flow of raw events
 * (SPEC §4) — written atomically. Credentials never reach it: authorization and cookie headers are
 * dropped; signature headers stay so `vwh verify-signature --recording` can check them.
 */
import { open, readFile, rm, stat, type FileHandle } from "node:fs/promises";
import { writeFileAtomic } from "../atomic-write.js";
import type { Recording } from "../flow.js";
import { redactBody, redactHeaders } from "./redact.js";

const droppedHeaders = new Set(["authorization", "proxy-authorization", "cookie", "set-cookie", "connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade"]);

export interface RecordedRequest {
  receivedAt: Date;
  method: string;
  path: string;
  /** The public URL the sender addressed, when known (ngrok). */
  url: string | undefined;
  headers: Record<string, string>;
  body: Buffer;
}

type RecordedEvent = Recording["events"][number];

export function toRecordedEvent(request: RecordedRequest, redact: boolean): RecordedEvent {
  let headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(request.headers)) if (!droppedHeaders.has(name)) headers[name] = value;
  let body = request.body;
  if (redact) {
    body = redactBody(body, headers["content-type"]);
    headers = redactHeaders(headers);
    if (headers["content-length"] !== undefined) headers["content-length"] = String(body.length);
  }
  const utf8 = body.toString("utf8");
  const isUtf8 = Buffer.from(utf8, "utf8").equals(body);
  let eventType: string | undefined;
  try {
    const parsed = JSON.parse(utf8) as { event_type?: unknown };
    if (typeof parsed?.event_type === "string" && /^[a-z][a-z0-9_]*(\.[a-z0-9_]+)+$/.test(parsed.event_type)) eventType = parsed.event_type;
  } catch {
    // not a JSON envelope
  }
  return {
    ...(eventType && { event_type: eventType }),
    raw: {
      method: request.method,
      path: request.path,
      ...(request.url && { url: request.url }),
      headers,
      body: isUtf8 ? utf8 : body.toString("base64"),
      body_encoding: isUtf8 ? "utf8" : "base64",
      received_at: request.receivedAt.toISOString(),
    },
  };
}

export class Recorder {
  private constructor(
    readonly file: string,
    readonly journalFile: string,
    private readonly journal: FileHandle,
    private readonly redact: boolean,
    private writes: Promise<void> = Promise.resolve(),
  ) {}

  /** Opens (or continues, after a crash) the journal beside the recording. */
  static async open(file: string, redact: boolean): Promise<Recorder> {
    const journalFile = `${file}.journal`;
    const journal = await open(journalFile, "a", 0o600);
    return new Recorder(file, journalFile, journal, redact);
  }

  /** Journals one request; writes are serialised so lines never interleave. */
  append(request: RecordedRequest): Promise<void> {
    const line = `${JSON.stringify(toRecordedEvent(request, this.redact))}\n`;
    this.writes = this.writes.then(async () => {
      await this.journal.write(line);
      await this.journal.datasync();
    });
    return this.writes;
  }

  /** Closes the journal without writing a recording, removing it if it holds nothing. */
  async discardIfEmpty(): Promise<void> {
    await this.writes;
    await this.journal.close();
    if ((await stat(this.journalFile)).size === 0) await rm(this.journalFile, { force: true });
  }

  /** Turns the journal into the recording (atomically), then removes the journal. Returns the count. */
  async finish(name: string): Promise<number> {
    await this.writes;
    await this.journal.close();
    const events = await readJournal(this.journalFile);
    const recording: Recording = {
      version: 1,
      name,
      description: `Recorded by vwh tunnel on ${new Date().toISOString()}; replay with vwh simulate, check with vwh verify-signature --recording.`,
      events,
    };
    await writeFileAtomic(this.file, `${JSON.stringify(recording, null, 2)}\n`);
    await rm(this.journalFile, { force: true });
    return events.length;
  }
}

/** Every complete line of a journal; a last line cut short by a crash is the only one skipped. */
export async function readJournal(file: string): Promise<RecordedEvent[]> {
  const text = await readFile(file, "utf8");
  const events: RecordedEvent[] = [];
  for (const line of text.split("\n")) {
    if (line.trim() === "") continue;
    try {
      events.push(JSON.parse(line) as RecordedEvent);
    } catch {
      // only the torn tail of a crashed write can fail to parse
    }
  }
  return events;
}
