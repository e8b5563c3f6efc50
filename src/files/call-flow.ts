/**
 * Call-flow files (README: Call-flow files): the format and its validation against the flow's platform. The domain only: nothing here
 * knows about terminals or HTTP.
 */
import { dirname, resolve } from "node:path";
import * as z from "zod";
import { callerActionFields, scriptSchema, type ScriptStep } from "./caller-script.js";
import { InputError } from "../core/errors.js";
import { describeProblems, readJsonFile } from "./json-file.js";
import { isPlatformId, loadPlatform, platformIds, type PlatformId } from "../platforms/registry.js";
import type { CallerInput, Platform } from "../platforms/types.js";
// The `instructions` expectation predates the platform seam: partial vwh instructions (README: Call-flow files).
import { e164 } from "../platforms/vwh/envelope.js";
import { didYouMean } from "../lib/did-you-mean.js";
import { describeIssue, formatJsonPath, issuesToProblems, type Problem } from "../lib/validation.js";

import { expectationSchema } from "./expectation-schema.js";
import { rawRequestSchema } from "./raw-request.js";

export const flowEventSchema = z
  .strictObject({
    event_type: z.string().min(1).optional().describe("required unless raw is given; one of the platform's event types"),
    raw: rawRequestSchema.optional().describe("a recorded request, replayed as is"),
    event_id: z.string().min(1).optional().describe("default: a fresh id per run"),
    sequence: z.number().int().min(1).optional().describe("default: previous + 1"),
    timestamp: z.iso.datetime({ offset: true }).optional().describe("default: the run's start plus after_ms"),
    after_ms: z.number().int().nonnegative().max(86_400_000, "expected at most 86400000 (a day)").optional().describe("platform time since the previous event"),
    description: z.string().optional(),
    payload: z.record(z.string(), z.unknown()).optional(),
    expect: expectationSchema.optional(),
  })
  .superRefine((event, ctx) => {
    if (event.raw) {
      for (const field of ["payload", "event_id", "sequence", "timestamp"] as const) {
        if (event[field] !== undefined) ctx.addIssue({ code: "custom", message: `a raw event is replayed as recorded: remove ${field}`, path: [field] });
      }
      return;
    }
    if (event.event_type === undefined) {
      ctx.addIssue({ code: "custom", message: "required (a string), or a recorded raw request", path: ["event_type"] });
      return;
    }
    if (event.expect?.ack_only && (event.expect.instructions?.length || event.expect.actions?.length)) {
      ctx.addIssue({ code: "custom", message: "ack_only contradicts expected instructions", path: ["expect", "ack_only"] });
    }
    if (event.expect?.instructions && event.expect.actions) {
      ctx.addIssue({ code: "custom", message: "give instructions or actions, not both", path: ["expect", "actions"] });
    }
  });
export type FlowEvent = z.infer<typeof flowEventSchema>;

/** The fields every flow-shaped file starts with (call flows and recordings). */
export const fileHeaderShape = {
  $schema: z.string().optional(),
  version: z.literal(1),
  name: z.string().min(1),
  description: z.string().optional(),
};

export const callFlowSchema = z
  .strictObject({
    ...fileHeaderShape,
    platform: z.enum(platformIds).optional().describe("the platform this file speaks (default: --platform, else vwh); it wins over --platform"),
    call: z
      .strictObject({
        call_id: z.string().min(1).optional().describe("default: a fresh id per run"),
        from: e164.optional(),
        to: e164.optional(),
        direction: z.enum(["inbound", "outbound"]).optional(),
      })
      .optional(),
    settings: z.record(z.string(), z.unknown()).optional().describe("platform-specific settings (e.g. vapi_tool_shape); flags override them"),
    events: z.array(flowEventSchema).min(1).optional().describe("scripted flow: the platform's events in order (README: Call-flow files)"),
    script: scriptSchema
      .optional()
      .describe("caller script: what the caller does; vwh plays the platform (README: Platforms and caller scripts; docs/platforms/<platform>.md)"),
  })
  .superRefine((flow, ctx) => {
    if (flow.events && flow.script) ctx.addIssue({ code: "custom", message: "a file has either events or script, not both", path: ["script"] });
    if (!flow.events && !flow.script)
      ctx.addIssue({ code: "custom", message: "required: events (a scripted flow) or script (a caller script)", path: ["events"] });
    let previousSequence = 0;
    const seenIds = new Map<string, number>();
    flow.events?.forEach((event, index) => {
      const sequence = event.sequence ?? previousSequence + 1;
      if (sequence <= previousSequence) {
        ctx.addIssue({
          code: "custom",
          message: `expected a sequence greater than ${previousSequence} (sequences strictly increase)`,
          path: ["events", index, "sequence"],
        });
      }
      previousSequence = sequence;
      if (event.event_id !== undefined) {
        const first = seenIds.get(event.event_id);
        if (first !== undefined) {
          ctx.addIssue({
            code: "custom",
            message: `duplicate event_id ${JSON.stringify(event.event_id)} (also events[${first}]); ids must be unique`,
            path: ["events", index, "event_id"],
          });
        } else seenIds.set(event.event_id, index);
      }
    });
  })
  .meta({
    title: "vwh call flow",
    description:
      "A simulated call: events replayed to a webhook handler, or a caller script the simulated platform reacts to (README: Call-flow files, Platforms and caller scripts; each platform's wire format: docs/platforms/<platform>.md).",
  });
export type CallFlow = z.infer<typeof callFlowSchema>;

/** What `vwh tunnel --record` writes: a call flow whose events are recorded requests (README: Call-flow files). */
export const recordingSchema = z
  .strictObject({
    ...fileHeaderShape,
    platform: z.enum(platformIds).optional().describe("the tunnel's --platform: vwh simulate replays as that platform without the flag"),
    events: z.array(
      z.strictObject({
        event_type: z.string().min(1).optional().describe("from the request, as its platform identifies it"),
        raw: rawRequestSchema,
        expect: expectationSchema.optional(),
      }),
    ),
  })
  .meta({ title: "vwh recording", description: "Requests recorded by vwh tunnel --record; a valid call flow for vwh simulate." });
export type Recording = z.infer<typeof recordingSchema>;

export interface LoadedFlow {
  file: string;
  flow: CallFlow;
  platform: Platform;
}

/** A scripted flow, or a caller script: the engine runs the two differently. */
export type FlowBody = { kind: "events"; events: FlowEvent[] } | { kind: "script"; steps: ScriptStep[] };

export function flowBody(flow: CallFlow): FlowBody {
  return flow.script ? { kind: "script", steps: flow.script } : { kind: "events", events: flow.events ?? [] };
}

export const stepInputKind: Record<(typeof callerActionFields)[number], CallerInput["kind"]> = {
  say: "say",
  press: "press",
  silence_ms: "silence",
  hangup: "hangup",
  interrupt: "interrupt",
  tool: "tool",
  event: "event",
};

/** What the file asks of its platform that the platform does not have: event types, payloads, actions, steps. */
export function platformProblems(flow: CallFlow, platform: Platform): Problem[] {
  const problems: Problem[] = [];
  const add = (rawPath: PropertyKey[], message: string) => problems.push({ path: formatJsonPath(rawPath), rawPath, message });
  const checkActions = (expected: readonly unknown[] | undefined, at: PropertyKey[]) =>
    expected?.forEach((item, index) => {
      const type = typeof item === "string" ? item : (item as { type: string }).type;
      if (!platform.actions.includes(type as never))
        add([...at, index], `${platform.id} replies cannot produce ${JSON.stringify(type)} (it has ${platform.actions.join(", ")})`);
    });
  flow.events?.forEach((event, index) => {
    if (event.raw || event.event_type === undefined) return;
    const typeCheck = platform.eventType.safeParse(event.event_type, { reportInput: true });
    if (!typeCheck.success) {
      add(
        ["events", index, "event_type"],
        `${typeCheck.error.issues[0] ? describeIssue(typeCheck.error.issues[0]) : "unknown event type"}${platform.id === "vwh" ? "" : ` for platform ${platform.id}`}`,
      );
      return;
    }
    const spec = platform.events[event.event_type];
    if (spec && event.payload) {
      for (const issue of spec.payload.safeParse(event.payload, { reportInput: true }).error?.issues ?? []) {
        add(["events", index, "payload", ...issue.path], describeIssue(issue));
      }
    }
    if (event.expect?.ack_only && spec?.waits)
      add(["events", index, "expect", "ack_only"], `${event.event_type} waits for instructions, so its reply cannot be ack_only`);
    checkActions(event.expect?.actions, ["events", index, "expect", "actions"]);
  });
  if (flow.settings) {
    // An unknown key would silently do nothing (issue 24): it is the file's error, with the known ones.
    const known = platform.settings instanceof z.ZodObject ? Object.keys(platform.settings.shape) : [];
    for (const key of Object.keys(flow.settings)) {
      if (known.includes(key)) continue;
      const guess = didYouMean(key, known);
      add(
        ["settings", key],
        `unknown setting for ${platform.id}${known.length ? ` (known: ${known.join(", ")})` : " (it takes none)"}${guess ? `; did you mean ${JSON.stringify(guess)}?` : ""}`,
      );
    }
    for (const issue of platform.settings?.safeParse(flow.settings, { reportInput: true }).error?.issues ?? []) {
      if (issue.code !== "unrecognized_keys") add(["settings", ...issue.path], describeIssue(issue));
    }
  }
  flow.script?.forEach((step, index) => {
    for (const field of callerActionFields) {
      if (step[field] !== undefined && !platform.callerInputs.includes(stepInputKind[field])) {
        add(
          ["script", index, field],
          `the ${platform.id} platform has no ${field} step (it takes ${callerActionFields.filter((f) => platform.callerInputs.includes(stepInputKind[f])).join(", ")})`,
        );
      }
    }
    if (step.event && platform.callerInputs.includes("event")) {
      // A native event is sent as the platform would: its type and payload are the platform's (a call status it does not have is refused here).
      const typeCheck = platform.eventType.safeParse(step.event.type, { reportInput: true });
      const spec = typeCheck.success ? platform.events[step.event.type] : undefined;
      if (!typeCheck.success)
        add(
          ["script", index, "event", "type"],
          `${typeCheck.error.issues[0] ? describeIssue(typeCheck.error.issues[0]) : "unknown event type"} for platform ${platform.id}`,
        );
      for (const issue of (spec && step.event.payload ? spec.payload.safeParse(step.event.payload, { reportInput: true }).error?.issues : undefined) ?? []) {
        add(["script", index, "event", "payload", ...issue.path], describeIssue(issue));
      }
    }
    checkActions(step.expect?.actions, ["script", index, "expect", "actions"]);
    const kind = callerActionFields.find((field) => step[field] !== undefined);
    const acts = platform.actsDuringPlayback;
    if (acts && step.after_ms !== undefined && (kind === "hangup" || kind === "press" || kind === "say" || kind === "interrupt") && !acts.includes(kind)) {
      add(
        ["script", index, "after_ms"],
        `the ${platform.id} platform cannot interrupt its playback with ${kind === "interrupt" ? "speech" : kind} (after_ms on ${acts.join(", ")} only): step ${index + 1} (${kind}) acts when the line is quiet — drop after_ms`,
      );
    }
  });
  return problems;
}

/** Recordings a script's steps play on media streams (`audio`, relative to the file) that cannot be played. */
export async function audioProblems(file: string, flow: CallFlow): Promise<Problem[]> {
  const steps = (flow.script ?? []).map((step, index) => ({ audio: step.audio, index })).filter((step) => step.audio !== undefined);
  if (steps.length === 0) return [];
  const { wavProblem } = await import("../media/audio.js");
  const problems: Problem[] = [];
  for (const { audio, index } of steps) {
    const problem = await wavProblem(resolve(dirname(file), audio!));
    if (problem) problems.push({ path: formatJsonPath(["script", index, "audio"]), rawPath: ["script", index, "audio"], message: `${audio}: ${problem}` });
  }
  return problems;
}

/** Reads and validates a flow, a caller script or a recording, against its platform too. */
export async function loadFlow(file: string, defaultPlatform: PlatformId = "vwh"): Promise<LoadedFlow> {
  const { value, text } = await readJsonFile(file, callFlowSchema, "call flow");
  return withPlatform(file, value, text, defaultPlatform);
}

/** A flow given as a value (the programmatic API): validated as a file would be; `name` stands for its file. */
export async function flowFromValue(value: unknown, name: string, defaultPlatform: PlatformId = "vwh"): Promise<LoadedFlow> {
  const result = callFlowSchema.safeParse(value, { reportInput: true });
  if (!result.success) throw new InputError(describeProblems(name, undefined, issuesToProblems(result.error)));
  return withPlatform(name, result.data, undefined, defaultPlatform);
}

export async function withPlatform(file: string, value: CallFlow, text: string | undefined, defaultPlatform: PlatformId): Promise<LoadedFlow> {
  const id = value.platform ?? defaultPlatform;
  if (!isPlatformId(id)) throw new InputError(`${file}: unknown platform ${JSON.stringify(id)} (expected one of ${platformIds.join(", ")})`);
  const platform = await loadPlatform(id);
  const problems = [...platformProblems(value, platform), ...(await audioProblems(file, value))];
  if (problems.length) throw new InputError(describeProblems(file, text, problems));
  return { file, flow: value, platform };
}
