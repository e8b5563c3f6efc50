/** Rendering a simulation for people (one line per event, reasons under failures) and for scripts. */
import type { ChalkInstance } from "chalk";
import type { Finding } from "../checks/reply.js";
import { type LoadedFlow } from "../files/call-flow.js";
import { textJson, type TurnMedia } from "../media/script.js";
import { summarize, type Exchange, type EventResult, type NotExecuted, type SimulationResult, type TurnResult } from "../engine/results.js";
import { type SimulationListener } from "../engine/options.js";
import { formatProblem } from "../lib/validation.js";
import { listShort } from "../core/findings.js";
import { terminalSafe } from "./terminal-text.js";

export interface RunDescription {
  target: string;
  scheme: string;
  budgetMs: number;
  timeoutMs: number;
  retries: number;
  profile: string | undefined;
  seed: number;
  /** Platform choices worth knowing (Vapi's tool-call shape). */
  notes?: readonly string[];
  /** What the platforms told the user at start (TELNYX_BASE_URL=…), also on stderr. */
  notices?: string[];
}

function formatLatency(ms: number | undefined): string {
  if (ms === undefined) return "—";
  return ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${Math.round(ms)} ms`;
}

function formatFinding(finding: Finding): string {
  // A finding can quote the handler's reply or a recorded request: its lines are kept, their controls escaped.
  return formatProblem({ path: terminalSafe(finding.path ?? ""), message: finding.message.split("\n").map(terminalSafe).join("\n") });
}

export function formatEventLine(event: EventResult, colors: ChalkInstance, budgetMs: number): string {
  const mark = event.passed ? colors.green("✓") : colors.red("✗");
  const status = event.status === undefined ? colors.red("---") : event.status < 300 ? String(event.status) : colors.red(String(event.status));
  const latencyText = formatLatency(event.latencyMs).padStart(8);
  const latency = event.latencyMs !== undefined && event.latencyMs > budgetMs ? colors.yellow(latencyText) : latencyText;
  const attempts = event.attempts > 1 ? colors.dim(` ×${event.attempts}`) : "";
  const duplicate = event.duplicate ? (event.duplicate.passed ? colors.dim(" +dup") : colors.red(" +dup")) : "";
  const deadLetter = event.deadLettered ? colors.red(" → dlq") : "";
  const instructions = event.instructionTypes.length ? colors.dim(`  ${listShort(event.instructionTypes)}`) : "";
  const lines = [
    `  ${mark} ${String(event.sequence).padStart(3)}  ${terminalSafe(event.eventType).padEnd(24)} ${status} ${latency}${attempts}${duplicate}${deadLetter}${instructions}`,
  ];
  for (const failure of event.failures) lines.push(colors.red(formatFinding(failure).replace(/^/gm, "         ")));
  for (const warning of event.warnings) lines.push(`         ${colors.yellow(`warning: ${formatFinding(warning)}`)}`);
  if (event.exchange) lines.push(colors.dim(formatExchange(event.exchange).replace(/^/gm, "         ")));
  return lines.join("\n");
}

/**
 * What was sent and what came back, under an event:
 * `sent   POST http://127.0.0.1:3000/voice (signed over https://abc.ngrok.app/voice)`, its content type and
 * body; `reply  500 text/plain (57 bytes)` and the start of its body.
 */
export function formatExchange(exchange: Exchange): string {
  const { request, reply } = exchange;
  const signed = request.signedUrl === request.url ? "" : ` (signed over ${request.signedUrl})`;
  // The handler's bytes reach a terminal: each line kept, its control characters escaped.
  const body = (text: string) => (text === "" ? [] : text.split("\n").map((line) => `       ${terminalSafe(line)}`));
  const lines = [`sent   ${request.method} ${request.url}${signed}${request.contentType ? `  ${request.contentType}` : ""}`, ...body(request.body)];
  if (reply === undefined) lines.push("reply  none");
  else
    lines.push(
      `reply  ${reply.status}${reply.contentType ? ` ${reply.contentType}` : ""} (${reply.bytes} byte${reply.bytes === 1 ? "" : "s"})`,
      ...body(reply.body),
    );
  return lines.join("\n");
}

const exchangeJson = (exchange: Exchange) => ({
  request: {
    method: exchange.request.method,
    url: exchange.request.url,
    signed_url: exchange.request.signedUrl,
    content_type: exchange.request.contentType ?? null,
    body: exchange.request.body,
    ...(exchange.request.form && { form: exchange.request.form }),
  },
  reply: exchange.reply
    ? { status: exchange.reply.status, content_type: exchange.reply.contentType ?? null, bytes: exchange.reply.bytes, body: exchange.reply.body }
    : null,
});

/** The run's first line, as single runs and load runs both print it: where, how signed, the retry policy, the seed; then the platforms' notes. */
export function formatRunHeader(run: RunDescription): string {
  const policy = [`${run.scheme} signatures`, `budget ${run.budgetMs} ms`, `timeout ${run.timeoutMs} ms`];
  if (run.profile) policy.push(`${run.profile} profile`);
  if (run.retries) policy.push(`${run.retries} retr${run.retries === 1 ? "y" : "ies"}`);
  policy.push(`seed ${run.seed}`);
  return `vwh simulate → ${run.target}  (${policy.join(", ")})${(run.notes ?? []).map((note) => `\n${note}`).join("")}`;
}

/** Live lines as events finish, so a slow handler shows progress instead of silence. */
export function createPrettyListener(write: (text: string) => void, colors: ChalkInstance, run: RunDescription): SimulationListener {
  let first = true;
  return {
    flowStarted(flow: LoadedFlow, callId: string) {
      if (first) write(colors.dim(`${formatRunHeader(run)}\n`));
      else write("");
      first = false;
      write(`${colors.bold(terminalSafe(flow.flow.name))}  ${colors.dim(terminalSafe(`${flow.file} · call ${callId}`))}`);
    },
    eventFinished(_flow: LoadedFlow, event: EventResult) {
      write(formatEventLine(event, colors, run.budgetMs));
    },
    turnStarted(_flow: LoadedFlow, step: number, label: string) {
      write(colors.cyan(`  ▸ step ${step + 1}: ${label}`));
    },
    turnFinished(_flow: LoadedFlow, turn: TurnResult) {
      const mark = turn.passed ? colors.green("✓") : colors.red("✗");
      const ended = turn.ended ? colors.dim(` · call ended (${turn.ended})`) : "";
      write(`    ${mark} ${colors.dim(turn.actions.length ? listShort(turn.actions) : "no actions")}${ended}`);
      if (turn.says) write(colors.dim(`      says ${quoteSays(turn.says)}`));
      for (const note of turn.notes ?? []) write(colors.dim(`      note: ${note}`));
      if (turn.notExecuted) write(colors.dim(`      replied, not executed in this turn: ${formatNotExecuted(turn.notExecuted)}`));
      if (turn.media) write(colors.dim(`      ${formatTurnMedia(turn.media)}`));
      for (const failure of turn.failures) write(colors.red(formatFinding(failure).replace(/^/gm, "      ")));
    },
  };
}

/** Replied actions the platform did not run in the turn: `speak Response/Speak[2] "Sorry, I didn't catch that", redirect Response/Redirect[3]`. */
export function formatNotExecuted(items: readonly NotExecuted[]): string {
  const shown = items
    .slice(0, 10)
    .map(
      (item) =>
        `${item.type} ${item.path}${item.text === undefined ? "" : ` ${JSON.stringify(item.text.length > 40 ? `${item.text.slice(0, 37)}...` : item.text)}`}`,
    );
  return items.length > 10 ? `${shown.join(", ")}, … (${items.length} in all)` : shown.join(", ");
}

/** What a turn said, quoted on one line and cut at 200 characters (the JSON report has all of it). */
export function quoteSays(says: string): string {
  const line = says.replace(/\s+/g, " ").trim();
  return JSON.stringify(line.length > 200 ? `${line.slice(0, 197)}...` : line);
}

/** A turn's media figures: `stream vwh · first audio 200 ms · agent audio 1.20 s · stopped on interrupt · marks 1 sent, 1 acknowledged`. */
export function formatTurnMedia(media: TurnMedia): string {
  const first = media.measures === "token" ? "first token" : "first audio";
  const parts = [
    `stream ${media.protocol}`,
    `${first} ${media.firstAudioMs === undefined ? "none" : formatLatency(media.firstAudioMs)}`,
    `agent audio ${formatLatency(media.agentAudioMs)}`,
  ];
  if (media.stoppedOnInterrupt !== undefined) parts.push(media.stoppedOnInterrupt ? "stopped on interrupt" : "kept talking when interrupted");
  if (media.marks.sent || media.marks.acknowledged) parts.push(`marks ${media.marks.sent} sent, ${media.marks.acknowledged} acknowledged`);
  const said = media.text;
  if (said) {
    if (said.tokens) parts.push(`${said.tokens} token${said.tokens === 1 ? "" : "s"}`);
    if (said.plays.length) parts.push(`play ${said.plays.join(", ")}`);
    if (said.digits) parts.push(`sent digits ${said.digits}`);
    for (const call of said.toolCalls)
      parts.push(
        `tool ${call.name}(${call.arguments.length > 60 ? `${call.arguments.slice(0, 57)}...` : call.arguments})${call.result === undefined ? "" : " → result"}`,
      );
    if (said.transferTo !== undefined) parts.push(`transfer to ${said.transferTo}`);
    if (said.end)
      parts.push(
        `end${said.end.handoffData === undefined ? "" : ` (handoffData ${said.end.handoffData.length > 80 ? `${said.end.handoffData.slice(0, 77)}...` : said.end.handoffData})`}`,
      );
    if (said.staleTokens) parts.push(`${said.staleTokens} stale message${said.staleTokens === 1 ? "" : "s"} dropped`);
    if (said.notInterruptible) parts.push("not interruptible: the caller talked over it");
  }
  return parts.join(" · ");
}

const plural = (count: number, noun: string) => `${count} ${noun}${count === 1 ? "" : "s"}`;

/**
 * `3 flows · 18 events · 18 passed · 0 failed`; with caller scripts the turns count too, and what failed is
 * named: `1 flow (1 failed) · 6 events · 3 turns · 8 passed · 1 failed (1 turn)`.
 */
export function formatSummary(result: SimulationResult, colors: ChalkInstance): string {
  const summary = summarize(result);
  const kinds = [summary.failedEvents && plural(summary.failedEvents, "event"), summary.failedTurns && plural(summary.failedTurns, "turn")].filter(Boolean);
  const failed = `${summary.failed} failed${summary.turns && kinds.length ? ` (${kinds.join(", ")})` : ""}`;
  const parts = [
    `${plural(summary.flows, "flow")}${summary.failedFlows && (summary.flows > 1 || summary.failed === 0) ? colors.red(` (${summary.failedFlows} failed)`) : ""}`,
    plural(summary.events, "event"),
    ...(summary.turns ? [plural(summary.turns, "turn")] : []),
    colors.green(`${summary.passed} passed`),
    summary.failed ? colors.red(failed) : failed,
  ];
  if (summary.warnings) parts.push(colors.yellow(plural(summary.warnings, "warning")));
  if (summary.overBudget) parts.push(colors.yellow(`${summary.overBudget} over budget`));
  if (summary.retried) parts.push(`${summary.retried} retried`);
  if (summary.duplicated) parts.push(`${summary.duplicated} duplicated`);
  if (summary.deadLettered) parts.push(colors.red(`${summary.deadLettered} dead-lettered`));
  parts.push(formatLatency(result.durationMs));
  parts.push(colors.dim(`seed ${result.seed}`));
  const lines = [`\n${parts.join(" · ")}`];
  if (result.bailed) lines.push(colors.red("stopped at the first failure (--bail)"));
  if (result.interrupted) lines.push(colors.yellow("interrupted (Ctrl-C): partial results"));
  if (result.unreachable) lines.push(colors.red(`could not reach the handler: ${result.unreachable}`));
  return lines.join("\n");
}

/** The fields every --json report of simulate starts with, flow mode and load mode alike. */
export function runJson(
  run: RunDescription,
  result: { seed: number; bailed: boolean; interrupted?: boolean; unreachable: string | undefined },
  exitCode: number,
) {
  return {
    target: run.target,
    scheme: run.scheme,
    budget_ms: run.budgetMs,
    timeout_ms: run.timeoutMs,
    retries: run.retries,
    profile: run.profile ?? null,
    ...(run.notes && { notes: run.notes }),
    seed: result.seed,
    bailed: result.bailed,
    interrupted: result.interrupted ?? false,
    passed: exitCode === 0,
    exit_code: exitCode,
    unreachable: result.unreachable ?? null,
    ...(run.notices && { notices: run.notices }),
  };
}

const mediaJson = (media: TurnMedia) => ({
  protocol: media.protocol,
  measures: media.measures,
  first_audio_ms: media.firstAudioMs ?? null,
  agent_audio_ms: media.agentAudioMs,
  stops_on_interrupt: media.stoppedOnInterrupt ?? null,
  marks: media.marks,
  ...(media.text && { llm: textJson(media.text) }),
});

export function toJsonReport(result: SimulationResult, run: RunDescription, exitCode: number) {
  const summary = summarize(result);
  const finding = (item: Finding) => ({ kind: item.kind, path: item.path ?? null, message: item.message });
  return {
    ...runJson(run, result, exitCode),
    summary: {
      flows: summary.flows,
      failed_flows: summary.failedFlows,
      events: summary.events,
      failed_events: summary.failedEvents,
      turns: summary.turns,
      failed_turns: summary.failedTurns,
      passed: summary.passed,
      failed: summary.failed,
      warnings: summary.warnings,
      over_budget: summary.overBudget,
      retried: summary.retried,
      duplicated: summary.duplicated,
      dead_lettered: summary.deadLettered,
      duration_ms: Math.round(result.durationMs),
    },
    flows: result.flows.map((flow) => ({
      file: flow.file,
      name: flow.name,
      platform: flow.platform,
      call_id: flow.callId,
      passed: flow.passed,
      turns:
        flow.turns?.map((turn) => ({
          step: turn.step + 1,
          label: turn.label,
          actions: turn.actions,
          not_executed: turn.notExecuted ?? [],
          notes: turn.notes ?? [],
          says: turn.says,
          ended: turn.ended ?? null,
          passed: turn.passed,
          media: turn.media ? mediaJson(turn.media) : null,
          failures: turn.failures.map(finding),
        })) ?? null,
      events: flow.events.map((event) => ({
        sequence: event.sequence,
        ...(event.step !== undefined && { step: event.step + 1 }),
        event_type: event.eventType,
        event_id: event.eventId,
        status: event.status ?? null,
        latency_ms: event.latencyMs ?? null,
        attempts: event.attempts,
        dead_lettered: event.deadLettered,
        duplicate: event.duplicate ?? null,
        passed: event.passed,
        instructions: event.instructionTypes,
        failures: event.failures.map(finding),
        warnings: event.warnings.map(finding),
        exchange: event.exchange ? exchangeJson(event.exchange) : null,
      })),
    })),
  };
}
