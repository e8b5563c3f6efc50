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

export interface SimulationSummary {
  flows: number;
  events: number;
  passed: number;
  failed: number;
  overBudget: number;
  retried: number;
  deadLettered: number;
  duplicated: number;
}

export function summarize(result: SimulationResult): SimulationSummary {
  const events = result.flows.flatMap((flow) => flow.events);
  return {
    flows: result.flows.length,
    events: events.length,
    passed: events.filter((event) => event.passed).length,
    failed: events.filter((event) => !event.passed).length,
    overBudget: events.filter((event) => [...event.failures, ...event.warnings].some((finding) => finding.kind === "budget")).length,
    retried: events.filter((event) => event.attempts > 1).length,
    deadLettered: events.filter((event) => event.deadLettered).length,
    duplicated: events.filter((event) => event.duplicate !== undefined).length,
  };
}
