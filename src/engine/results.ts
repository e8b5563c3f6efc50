/**
 * What a run produced: each event's and turn's result, each flow's, and the summary every reporter counts from.
 */
import type { Finding } from "../core/findings.js";
import type { TurnMedia } from "../media/script.js";

export interface EventResult {
  index: number;
  sequence: number;
  eventType: string;
  eventId: string;
  /** The final attempt's status; absent when no reply came (timeout, connection error). */
  status: number | undefined;
  latencyMs: number | undefined;
  attempts: number;
  passed: boolean;
  failures: Finding[];
  warnings: Finding[];
  /** The normalised actions of the reply (instruction types on the vwh platform). */
  instructionTypes: string[];
  deadLettered: boolean;
  /** Caller scripts: the index of the step whose turn this webhook belongs to. */
  step: number | undefined;
  /** Set when the event was delivered twice (--duplicates). */
  duplicate: { attempt: number; status: number | undefined; passed: boolean } | undefined;
  /** Set when no reply came: the error's code (TIMEOUT, ECONNRESET), for load mode's counts. */
  errorCode?: string;
  /** What was sent and what came back: on every failed event, on all of them with --verbose. */
  exchange?: Exchange;
}

/** The evidence of one delivery (built by exchangeOf in exchange.ts), secrets masked. */
export interface Exchange {
  request: {
    method: string;
    /** Where vwh sent it (on --url). */
    url: string;
    /** The URL the platform addressed and signs (the public URL behind a tunnel). */
    signedUrl: string;
    contentType: string | undefined;
    /** The body as a person reads it (pretty JSON, form parameters one a line), the first 2 KiB. */
    body: string;
    /** Form bodies: the parameters. */
    form: Record<string, string> | undefined;
  };
  /** Absent when no reply came (timeout, connection error). */
  reply: { status: number; contentType: string | undefined; bytes: number; body: string } | undefined;
}

export interface NotExecuted {
  type: string;
  /** Where it stands in the native reply. */
  path: string;
  text?: string;
}

export interface TurnResult {
  /** Index of the script step. */
  step: number;
  /** `connect`, `say "…"`, `press 1`, `hangup (script ran out)`. */
  label: string;
  /** What the platform executed in the turn (the replies' actions as run, and what it did by itself). */
  actions: string[];
  /** Actions replied in this turn that the platform did not execute in it (replaced, unreachable, or left for a later turn). */
  notExecuted?: NotExecuted[];
  /** What the platform said about the turn that is not a failure (an after_ms past the end of the audio). */
  notes?: string[];
  /** Everything the agent said in the turn (spoken text of its replies, a text stream's tokens): what `says` matches. */
  says: string;
  /** How the call ended in this turn, if it did. */
  ended: string | undefined;
  failures: Finding[];
  passed: boolean;
  /** Set when the turn ran on a media stream: its figures (time to first audio, agent audio, interruption). */
  media?: TurnMedia;
}

export interface FlowResult {
  file: string;
  name: string;
  platform: string;
  callId: string;
  events: EventResult[];
  /** Caller scripts only: each step's turn, in order. */
  turns: TurnResult[] | undefined;
  passed: boolean;
}

export interface SimulationResult {
  flows: FlowResult[];
  /** Set when the target did not answer at all; the run stopped there (exit 3). */
  unreachable: string | undefined;
  /** Set when --bail stopped the run at the first failure. */
  bailed: boolean;
  /** Set when the run was stopped (Ctrl-C) before it finished: the results are partial. */
  interrupted: boolean;
  seed: number;
  durationMs: number;
}

/**
 * The one count every reporter prints (text, --json, JUnit, the API): a flow's verdict is the sum of its
 * events and turns (a turn carries its expectations and its media stream's checks), and `passed`/`failed`
 * count both, so a run that fails never reads "0 failed".
 */
export interface SimulationSummary {
  flows: number;
  failedFlows: number;
  events: number;
  failedEvents: number;
  /** Caller scripts: one per step (its expectations and stream checks); 0 for call flows. */
  turns: number;
  failedTurns: number;
  /** Events and turns that passed. */
  passed: number;
  /** Events and turns that failed. */
  failed: number;
  /** Warnings on events other than latency over budget (counted in overBudget): replies the platform tolerates, … */
  warnings: number;
  overBudget: number;
  retried: number;
  deadLettered: number;
  duplicated: number;
}

/** A flow's verdict: every event and every turn passed. */
export function flowPassed(flow: Pick<FlowResult, "events" | "turns">): boolean {
  return flow.events.every((event) => event.passed) && (flow.turns ?? []).every((turn) => turn.passed);
}

export function summarize(result: SimulationResult): SimulationSummary {
  const events = result.flows.flatMap((flow) => flow.events);
  const turns = result.flows.flatMap((flow) => flow.turns ?? []);
  const failedEvents = events.filter((event) => !event.passed).length;
  const failedTurns = turns.filter((turn) => !turn.passed).length;
  return {
    flows: result.flows.length,
    failedFlows: result.flows.filter((flow) => !flow.passed).length,
    events: events.length,
    failedEvents,
    turns: turns.length,
    failedTurns,
    passed: events.length - failedEvents + turns.length - failedTurns,
    failed: failedEvents + failedTurns,
    warnings: events.reduce((sum, event) => sum + event.warnings.filter((finding) => finding.kind !== "budget" && finding.kind !== "latency").length, 0),
    overBudget: events.filter((event) => [...event.failures, ...event.warnings].some((finding) => finding.kind === "budget")).length,
    retried: events.filter((event) => event.attempts > 1).length,
    deadLettered: events.filter((event) => event.deadLettered).length,
    duplicated: events.filter((event) => event.duplicate !== undefined).length,
  };
}
