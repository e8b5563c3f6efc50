/**
 * Vapi's custom LLM, Vapi's side (docs.vapi.ai custom-llm; @vapi-ai/server-sdk CustomLlmModel): for each
 * thing the caller says, Vapi's OpenAI client POSTs `<url>/chat/completions` with the conversation so far
 * and `stream: true`, and speaks the `chat.completion.chunk`s of the server-sent-event stream as they come
 * (`data: [DONE]` ends it; `<flush />` in the content makes Vapi speak what it has at once). Per
 * metadataSendMode the body also carries `call`, `phoneNumber`, `customer` and the assistant's `metadata`
 * (variable, the default), nothing more (off), or metadata's fields at the top (destructured). Vapi waits
 * timeoutSeconds (default 20) for the stream's first token.
 *
 * The stream is read with eventsource-parser (the SSE framing: fields, multi-line data, comments, CR/LF
 * variants); each data payload is checked as a chunk with zod. Times are the machine's (as webhook
 * latency is): the time to the first token is real.
 */
import { performance } from "node:perf_hooks";
import { createParser } from "eventsource-parser";
import { request } from "../../transport/undici-core.js";
import type { Finding } from "../../core/findings.js";
import type { ProtocolSetup, SessionContext, SessionProtocol } from "../../media/protocol.js";
import { emptyTurnText, streamTiming, type StreamScript, type TurnMedia, type TurnText } from "../../media/script.js";
import { maxTurnTextChars } from "../../media/text-session.js";
import type { StreamEnd } from "../types.js";
import { speechMs } from "../shared/timing.js";
import type { VapiLlmSettings } from "./settings.js";
import { chunkSchema } from "./grammar.js";

/** Bytes of one stream vwh reads (a server streaming without end stops here). */
const maxStreamBytes = 4 * 1024 * 1024;
/** Bad chunks reported per turn; the rest are counted in one line. */
const maxChunkFindings = 20;

type Message = Record<string, unknown>;

interface ToolCall {
  id: string;
  name: string;
  arguments: string;
}

interface Completion {
  media: TurnMedia | undefined;
  findings: Finding[];
  /** The assistant's message for the conversation, if the stream gave one. */
  reply: Message | undefined;
  end: StreamEnd | undefined;
}

export function createProtocol(setup: ProtocolSetup): SessionProtocol<StreamScript, StreamEnd> {
  const { parameters } = setup.request;
  const settings = JSON.parse(parameters["settings"] ?? "{}") as VapiLlmSettings;
  const objects = (name: string) => JSON.parse(parameters[name] ?? "{}") as Record<string, unknown>;
  return {
    kind: "session",
    run: (script, context) =>
      runSession(script, context, settings, { call: objects("call"), phoneNumber: objects("phoneNumber"), customer: objects("customer") }),
  };
}

async function runSession(script: StreamScript, context: SessionContext, settings: VapiLlmSettings, objects: Record<string, unknown>): Promise<StreamEnd> {
  const messages: Message[] = [];
  if (settings.systemPrompt) messages.push({ role: "system", content: settings.systemPrompt });
  // Vapi speaks the assistant's firstMessage itself when the call connects; it is the conversation's start.
  const greeting = emptyTurnText();
  if (settings.firstMessage) {
    messages.push({ role: "assistant", content: settings.firstMessage });
    greeting.text = settings.firstMessage;
  }
  script.record(figures(greeting, undefined), []);
  for (;;) {
    const step = script.advance();
    if (!step || step.input.kind === "hangup") return { kind: "caller_hangup" };
    const { input } = step;
    if (input.kind === "say" || input.kind === "interrupt") {
      await context.clock.wait(speechMs(input.text));
      messages.push({ role: "user", content: input.text });
      const completion = await complete(context.url, context.headers, body(settings, messages, objects), settings);
      script.record(completion.media, completion.findings);
      if (completion.reply) messages.push(completion.reply);
      if (completion.end) return completion.end;
      continue;
    }
    if (input.kind === "silence") {
      // Vapi's idle messages are its own: the server hears nothing.
      await context.clock.wait(input.ms);
      script.record(undefined, []);
      continue;
    }
    script.record(undefined, [
      { kind: "script", message: `a ${input.kind} step cannot be played on Vapi's custom LLM (it hears what the caller says): skipped` },
    ]);
  }
}

/** The request body as Vapi's OpenAI client sends it, per metadataSendMode. */
export function body(settings: VapiLlmSettings, messages: readonly Message[], objects: Record<string, unknown>): Record<string, unknown> {
  const base = {
    model: settings.model,
    messages,
    temperature: settings.temperature,
    max_tokens: settings.maxTokens,
    stream: true,
    ...(settings.tools && { tools: settings.tools }),
  };
  if (settings.metadataSendMode === "off") return base;
  if (settings.metadataSendMode === "destructured") return { ...base, ...objects, ...settings.metadata };
  return { ...base, ...objects, metadata: settings.metadata };
}

function figures(said: TurnText, firstTokenMs: number | undefined): TurnMedia {
  return {
    protocol: "vapi-llm",
    measures: "token",
    firstAudioMs: firstTokenMs,
    agentAudioMs: said.text.trim() ? speechMs(said.text) : 0,
    stoppedOnInterrupt: undefined,
    marks: { sent: 0, acknowledged: 0 },
    text: said,
  };
}

const excerpt = (text: string) => JSON.stringify(text.length > 200 ? `${text.slice(0, 197)}...` : text);

/** One POST and its stream: the turn's text, tool calls and findings. */
async function complete(url: URL, headers: Record<string, string>, payload: Record<string, unknown>, settings: VapiLlmSettings): Promise<Completion> {
  const findings: Finding[] = [];
  const said = emptyTurnText();
  const fail = (message: string, path = "chat/completions"): Completion => {
    findings.push({ kind: "media", path, message });
    return { media: figures(said, undefined), findings, reply: undefined, end: { kind: "failed", message } };
  };
  const started = performance.now();
  let firstTokenMs: number | undefined;
  const controller = new AbortController();
  // Vapi gives up when no token came within timeoutSeconds; a stream that never ends is cut at maxTurnMs.
  let timer = setTimeout(() => controller.abort(), settings.timeoutMs);
  let stage = `no token within ${settings.timeoutMs / 1000} s (timeoutSeconds): Vapi gives up on the turn`;
  const onFirstToken = () => {
    if (firstTokenMs !== undefined) return;
    firstTokenMs = Math.round(performance.now() - started);
    clearTimeout(timer);
    timer = setTimeout(() => controller.abort(), streamTiming.maxTurnMs);
    stage = `the stream was not over ${streamTiming.maxTurnMs / 1000} s after the request: cut off`;
  };
  try {
    let response: Awaited<ReturnType<typeof request>>;
    try {
      response = await request(url, {
        method: "POST",
        headers: { ...headers, "content-type": "application/json", accept: "application/json" },
        body: JSON.stringify(payload),
        signal: controller.signal,
        headersTimeout: settings.timeoutMs,
        bodyTimeout: 0,
      });
    } catch (error) {
      return fail(controller.signal.aborted ? stage : `could not reach the custom LLM: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
    }
    const contentType = String(response.headers["content-type"] ?? "");
    if (response.statusCode !== 200) {
      const text = (await response.body.text().catch(() => "")).slice(0, 2000);
      const hint =
        settings.metadataSendMode === "off"
          ? ""
          : " — a server that hands Vapi's body to its LLM as it is fails on the extra fields (call, phoneNumber, customer, metadata): pass on only model, messages and the sampling fields";
      return fail(`expected 200 with an event stream, got ${response.statusCode}: ${excerpt(text)}${hint}`);
    }
    if (/^application\/json/i.test(contentType)) {
      await response.body.dump();
      return fail(
        "answered stream: true with JSON (application/json): Vapi reads server-sent events (text/event-stream, chat.completion.chunk) and speaks nothing of it",
      );
    }
    if (!/^text\/event-stream/i.test(contentType)) {
      await response.body.dump();
      return fail(`expected content-type text/event-stream, got ${JSON.stringify(contentType || "nothing")}`);
    }

    let done = false;
    let finishReason: string | undefined;
    let badChunks = 0;
    let events = 0;
    let bytes = 0;
    const calls: Partial<ToolCall>[] = [];
    const bad = (message: string) => {
      if (++badChunks <= maxChunkFindings) findings.push({ kind: "media", path: `chunk[${Math.max(0, events - 1)}]`, message });
    };
    const parser = createParser({
      maxBufferSize: 1024 * 1024,
      onError: (error) => bad(`not a server-sent event: ${error.message}`),
      onEvent(event) {
        if (done) return;
        events++;
        if (event.data === "[DONE]") {
          done = true;
          return;
        }
        let value: unknown;
        try {
          value = JSON.parse(event.data);
        } catch {
          return bad(`expected a JSON chunk or [DONE], got ${excerpt(event.data)}`);
        }
        const chunk = chunkSchema.safeParse(value);
        if (!chunk.success) {
          const issue = chunk.error.issues[0]!;
          return bad(`${issue.path.join(".") || "chunk"}: ${issue.message}`);
        }
        const choice = chunk.data.choices.find((item) => (item.index ?? 0) === 0);
        if (!choice) return;
        const content = choice.delta.content;
        if (typeof content === "string" && content !== "") {
          onFirstToken();
          said.tokens++;
          // <flush /> is Vapi's cue to speak what it has; it is not said.
          said.text = (said.text + content.replace(/<flush\s*\/>/g, "")).slice(0, maxTurnTextChars);
        }
        for (const delta of choice.delta.tool_calls ?? []) {
          onFirstToken();
          if (delta.index >= 100) continue;
          const call = (calls[delta.index] ??= {});
          if (delta.id) call.id = delta.id;
          if (delta.function?.name) call.name = (call.name ?? "") + delta.function.name;
          if (delta.function?.arguments) call.arguments = ((call.arguments ?? "") + delta.function.arguments).slice(0, maxTurnTextChars);
        }
        if (choice.finish_reason) finishReason = choice.finish_reason;
      },
    });
    const decoder = new TextDecoder();
    try {
      for await (const piece of response.body as AsyncIterable<Buffer>) {
        bytes += piece.length;
        parser.feed(decoder.decode(piece, { stream: true }));
        if (done) break;
        if (bytes > maxStreamBytes || said.text.length >= maxTurnTextChars) {
          findings.push({
            kind: "media",
            path: "chat/completions",
            message: `the stream did not end after ${bytes > maxStreamBytes ? `${maxStreamBytes / 1024 / 1024} MiB` : `${maxTurnTextChars / 1024} KiB of content`}: cut off`,
          });
          break;
        }
      }
    } catch (error) {
      if (controller.signal.aborted) findings.push({ kind: "media", path: "chat/completions", message: stage });
      else
        findings.push({
          kind: "media",
          path: "chat/completions",
          message: `the stream broke off: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
        });
      return { media: figures(said, firstTokenMs), findings, reply: undefined, end: { kind: "failed", message: findings.at(-1)!.message } };
    } finally {
      response.body.destroy();
    }
    if (badChunks > maxChunkFindings)
      findings.push({ kind: "media", path: "chat/completions", message: `${badChunks - maxChunkFindings} more bad chunks left out` });
    if (!done && finishReason === undefined && said.text.length < maxTurnTextChars && bytes <= maxStreamBytes)
      findings.push({ kind: "media", path: "chat/completions", message: "the stream ended with neither a finish_reason nor data: [DONE]" });

    const complete: ToolCall[] = [];
    for (const [index, call] of calls.entries()) {
      if (!call) continue;
      const path = `tool_calls[${index}]`;
      if (!call.id) findings.push({ kind: "media", path: `${path}.id`, message: "expected the tool call's id (Vapi answers the call by it)" });
      if (!call.name) findings.push({ kind: "media", path: `${path}.function.name`, message: "expected the function's name" });
      let args: unknown;
      try {
        args = JSON.parse(call.arguments || "{}");
      } catch {
        findings.push({ kind: "media", path: `${path}.function.arguments`, message: `expected JSON arguments, got ${excerpt(call.arguments ?? "")}` });
      }
      if (call.id && call.name) {
        complete.push({ id: call.id, name: call.name, arguments: call.arguments || "{}" });
        said.toolCalls.push({ id: call.id, name: call.name, arguments: call.arguments || "{}", result: undefined });
        // Vapi's default tools: endCall hangs up, transferCall transfers to its destination.
        if (call.name === "endCall") said.end = { handoffData: undefined };
        if (call.name === "transferCall") said.transferTo = destinationOf(args) ?? "";
      }
    }
    const reply: Message = {
      role: "assistant",
      content: said.text || null,
      ...(complete.length > 0 && {
        tool_calls: complete.map((call) => ({ id: call.id, type: "function", function: { name: call.name, arguments: call.arguments } })),
      }),
    };
    const end: StreamEnd | undefined =
      said.transferTo !== undefined ? { kind: "closed_by_agent", transferTo: said.transferTo } : said.end ? { kind: "closed_by_agent", ends: true } : undefined;
    return { media: figures(said, firstTokenMs), findings, reply, end };
  } finally {
    clearTimeout(timer);
  }
}

function destinationOf(args: unknown): string | undefined {
  if (!args || typeof args !== "object") return undefined;
  const destination = (args as Record<string, unknown>)["destination"];
  if (typeof destination === "string") return destination;
  if (destination && typeof destination === "object") {
    const { number, sipUri } = destination as Record<string, unknown>;
    return typeof number === "string" ? number : typeof sipUri === "string" ? sipUri : undefined;
  }
  return undefined;
}
