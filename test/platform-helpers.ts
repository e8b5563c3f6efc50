/** In-process runs of caller scripts and flows against a handler on 127.0.0.1 (the platform tests). */
import { readFileSync } from "node:fs";
import type { RequestListener } from "node:http";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { createDispatcher } from "../src/transport/undici.js";
import { flowFromValue, type LoadedFlow } from "../src/files/call-flow.js";
import { runSimulation } from "../src/engine/run.js";
import { type SimulationOptions } from "../src/engine/options.js";
import { type SimulationResult } from "../src/engine/results.js";
import { getScheme } from "../src/signing/index.js";
import type { SchemeSettings } from "../src/signing/types.js";
import { fixture, json, repoRoot, startListener, type TestServer } from "./helpers.js";

/** A file's content as a loaded flow, validated against its platform as `vwh simulate` would. */
export function inlineFlow(content: Record<string, unknown>, file = "inline.json"): Promise<LoadedFlow> {
  return flowFromValue(content, file);
}

export interface InProcessRun {
  scheme: string;
  secret: string;
  settings?: SchemeSettings;
  options?: Partial<SimulationOptions>;
}

export async function simulateAgainst(server: TestServer, flows: LoadedFlow[], run: InProcessRun): Promise<SimulationResult> {
  const scheme = getScheme(run.scheme);
  const settings = run.settings ?? { purpose: "sign" };
  const dispatcher = createDispatcher(4);
  try {
    return await runSimulation(flows, {
      target: new URL(server.url),
      signer: scheme.create([{ value: run.secret, source: "(test)" }], settings),
      signatureHeaders: scheme.headers(settings),
      policy: { timeoutMs: 5000, retries: 0, backoffMs: 0, timeScale: 1 },
      faults: { duplicates: 0, reorderWindow: 0, seed: 7, bail: false },
      budgetMs: 1000,
      strictLatency: false,
      realtime: false,
      dispatcher,
      ...run.options,
    });
  } finally {
    await dispatcher.close();
  }
}

/** Starts a listener and records every request body it gets (for checking what the platform sent). */
export async function startRecording(listener: RequestListener, path: string): Promise<TestServer & { bodies: Buffer[] }> {
  const bodies: Buffer[] = [];
  const server = await startListener((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => bodies.push(Buffer.concat(chunks)));
    listener(request, response);
  }, path);
  return Object.assign(server, { bodies });
}

/** Every failure message of a run, with its path, one per line (for assertions that name the path). */
export function failureLines(result: SimulationResult): string[] {
  return result.flows.flatMap((flow) => [
    ...flow.events.flatMap((event) => event.failures.map((finding) => `${event.eventType} ${finding.path ?? ""}: ${finding.message}`)),
    ...(flow.turns ?? []).flatMap((turn) => turn.failures.map((finding) => `turn ${turn.step} ${finding.path ?? ""}: ${finding.message}`)),
  ]);
}

export interface CannedReply {
  status: number;
  /** A string goes out as text/plain, anything else as JSON. */
  body: unknown;
}

/**
 * A handler that reads the body and answers with `answer`, or — when it returns undefined — hands the
 * request, body and all, on to `inner` (the real handler under test).
 */
export function answerOrPass(inner: RequestListener, answer: (body: Buffer) => CannedReply | undefined): RequestListener {
  return (request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      const body = Buffer.concat(chunks);
      const reply = answer(body);
      if (reply === undefined) {
        const replay = ((event: string, listener: (...args: unknown[]) => void) => {
          if (event === "data") queueMicrotask(() => listener(body));
          else if (event === "end") queueMicrotask(() => queueMicrotask(() => listener()));
          return request;
        }) as typeof request.on;
        inner(Object.assign(request, { on: replay }), response);
      } else if (typeof reply.body === "string") response.writeHead(reply.status, { "content-type": "text/plain" }).end(reply.body);
      else json(response, reply.status, reply.body);
    });
  };
}

/** Imports a module of the repository (an example handler, an extraction script) by its path. */
export async function loadRepoModule<T>(file: string): Promise<T> {
  return (await import(pathToFileURL(join(repoRoot, file)).href)) as T;
}

/** A bundled caller script, loaded as `vwh simulate` would. */
export async function fixtureFlow(name: string): Promise<LoadedFlow> {
  return inlineFlow(JSON.parse(readFileSync(fixture(join("scripts", name)), "utf8")) as Record<string, unknown>, name);
}

/** What scripts/extract-<id>-grammar.mjs extracts now, and what src/platforms/<id>/grammar.json holds. */
export async function grammarNowAndCommitted(id: "vapi" | "retell" | "teler"): Promise<[string, string]> {
  const extractor = await loadRepoModule<Record<string, () => unknown> & { serialise(grammar: unknown): string }>(`scripts/extract-${id}-grammar.mjs`);
  const extract = extractor[`extract${id[0]!.toUpperCase()}${id.slice(1)}Grammar`]!;
  return [extractor.serialise(extract()), readFileSync(join(repoRoot, "src", "platforms", id, "grammar.json"), "utf8")];
}
