/**
 * A call to an assistant whose model is a custom LLM (Vapi, provider custom-llm): no webhooks — when the
 * call connects, the rest of the script plays against `<url>/chat/completions` (session.ts), one request
 * per caller utterance. The call ends when the caller hangs up, the LLM calls endCall or transferCall, or
 * a request fails.
 */
import { CallDriverBase } from "../shared/call-driver-base.js";
import type { CallerInput, CallSetup, CallWebhook, StreamEnd } from "../types.js";
import { callObject, newVapiCall, phoneNumberObject } from "../vapi/messages.js";
import { vapiLlmSettings } from "./settings.js";

/** `<base URL>/chat/completions`, as the OpenAI client builds it from its baseURL. */
export function chatCompletionsUrl(base: URL): URL {
  const url = new URL(base);
  url.pathname = `${url.pathname.replace(/\/+$/, "")}/chat/completions`;
  return url;
}

export class VapiLlmCallDriver extends CallDriverBase<never> {
  constructor(setup: CallSetup) {
    super(setup);
  }

  replied(): void {}

  protected webhook(): CallWebhook {
    throw new Error("a custom-LLM call sends no webhooks");
  }

  protected closingWebhooks(): void {}

  protected callerStep(input: CallerInput): void {
    if (input.kind === "hangup") {
      this.ended = "caller_hangup";
      return;
    }
    if (input.kind !== "connect") return;
    const { call: info, start } = this.setup;
    const call = newVapiCall(info.callId, info.from, info.to, info.direction, start, undefined);
    const parameters = {
      settings: JSON.stringify(vapiLlmSettings(this.setup.settings)),
      call: JSON.stringify(callObject(call, { status: "in-progress", startedAt: start }, start)),
      phoneNumber: JSON.stringify(phoneNumberObject(call)),
      customer: JSON.stringify({ number: call.customer }),
    };
    // signUpgrade: with a secret, each request carries the custom-llm credential (Authorization: Bearer <apiKey>).
    this.stream = { url: chatCompletionsUrl(this.setup.url), protocol: "vapi-llm", headers: {}, parameters, path: "chat/completions", signUpgrade: true };
  }

  override streamEnded(end: StreamEnd): void {
    if (end.kind === "caller_hangup") this.ended = "caller_hangup";
    else if (end.kind === "failed") this.ended = "failed";
    else if (end.transferTo !== undefined) this.ended = "transferred";
    else this.ended = "handler_hangup";
  }
}
