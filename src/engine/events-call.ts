/**
 * A call of scripted events (a call-flow file or a recording): each event delivered in order and checked.
 */
import { type LoadedFlow } from "../files/call-flow.js";
import { type Random } from "../core/random.js";
import { type CallHandlers, type FlowCallOutcome, type RunContext, interruptedCall, stopReason, throwIfStopped } from "./context.js";
import { deliverAndCheck } from "./deliver-event.js";
import { type CallOverrides, planCall } from "./plan.js";

/**
 * A call of scripted events: planned, then delivered in order, each result handed on as it finishes.
 * One async function for the whole call (load mode runs millions; each async layer allocates per event).
 */
export async function runEventsCall(
  loaded: LoadedFlow,
  context: RunContext,
  planRandom: Random,
  overrides: CallOverrides,
  handlers: CallHandlers,
  shouldStop: () => boolean,
): Promise<FlowCallOutcome> {
  try {
    const call = planCall(loaded, planRandom, context.options, new Date(context.now()), overrides);
    handlers.onStart?.(call.callId);
    let passed = true;
    const { ordered } = call;
    for (let i = 0; i < ordered.length; i++) {
      const event = ordered[i]!;
      if (shouldStop()) break;
      if (context.options.realtime && event.afterMs > 0) await context.wait(event.afterMs);
      throwIfStopped(context.options.stop);
      const { result } = await deliverAndCheck(event, call.loaded, call.duplicates.has(event.index), context);
      passed &&= result.passed;
      handlers.onEvent(result);
      const stopped = stopReason(result, context);
      if (stopped) return { passed: false, stopped, callId: call.callId, turns: undefined };
    }
    return { passed, stopped: undefined, callId: call.callId, turns: undefined };
  } catch (error) {
    return interruptedCall(error);
  }
}
