/**
 * The dead-letter queue (`--dlq`): events that exhausted their retries, one JSON line each. Each line
 * is written with a single append and flushed, so a crash never leaves a torn line; and each holds the
 * exact body as a recorded `raw` request, so a DLQ file replays through `vwh simulate` byte for byte.
 */
import { open } from "node:fs/promises";
import * as z from "zod";
import { InputError } from "../core/errors.js";
import { expectationSchema } from "./expectation-schema.js";
import { rawRequestSchema } from "./raw-request.js";
import { type CallFlow, type LoadedFlow } from "./call-flow.js";
import { maxJsonDepth, readTextFile, tooDeepAt } from "./json-file.js";
import { loadPlatform, type PlatformId } from "../platforms/registry.js";
import { formatProblem, issuesToProblems } from "../lib/validation.js";

export const deadLetterSchema = z.object({
  flow: z.string(),
  event_type: z.string(),
  event_id: z.string(),
  call_id: z.string(),
  sequence: z.number().int(),
  attempts: z.number().int().min(1),
  last_error: z.string(),
  dead_at: z.iso.datetime({ offset: true }),
  raw: rawRequestSchema,
  expect: expectationSchema.optional(),
});
export type DeadLetter = z.input<typeof deadLetterSchema>;

export function isDeadLetterFile(file: string): boolean {
  return /\.(jsonl|ndjson)$/i.test(file);
}

/** Appends one entry as one write, then flushes it to disk. 0600: an entry holds a whole request. */
export async function appendDeadLetter(file: string, entry: DeadLetter): Promise<void> {
  const handle = await open(file, "a", 0o600);
  try {
    await handle.write(`${JSON.stringify(entry)}\n`);
    await handle.datasync();
  } finally {
    await handle.close();
  }
}

/** A DLQ file as a flow of recorded requests, in the order they died. */
export async function loadDeadLetters(file: string, platformId: PlatformId): Promise<LoadedFlow> {
  const text = await readTextFile(file, "dead-letter file");
  const events: NonNullable<CallFlow["events"]> = [];
  const lines = text.split("\n");
  for (const [index, line] of lines.entries()) {
    if (line.trim() === "") continue;
    const deepAt = tooDeepAt(line);
    if (deepAt !== undefined)
      throw new InputError(`${file}:${index + 1}:${deepAt + 1}: nested deeper than ${maxJsonDepth} levels (vwh's limit for JSON input)`);
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      // A line cut short by a crash elsewhere: name it rather than guess.
      throw new InputError(`${file}:${index + 1}: invalid JSON line (expected one dead-letter entry per line)`);
    }
    const result = deadLetterSchema.safeParse(value, { reportInput: true });
    if (!result.success)
      throw new InputError(
        issuesToProblems(result.error)
          .map((problem) => `${file}:${index + 1}: ${formatProblem(problem)}`)
          .join("\n"),
      );
    const entry = result.data;
    events.push({ event_type: entry.event_type, raw: entry.raw, after_ms: 0, ...(entry.expect && { expect: entry.expect }) });
  }
  if (events.length === 0) throw new InputError(`${file}: no dead letters to replay`);
  return { file, flow: { version: 1, name: `dead letters from ${file}`, events }, platform: await loadPlatform(platformId) };
}
