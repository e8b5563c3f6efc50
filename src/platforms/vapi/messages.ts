/**
 * Building Vapi server messages (docs/platforms/vapi.md): `{"message":{type, timestamp, …, artifact, call,
 * phoneNumber, customer}}` with a realistic call around each, and the tool-call payload shapes (docs/platforms/vapi.md, Tool-call shape).
 */
import { derivedUuid, uuidCallId } from "../../core/ids.js";
import { grammar } from "./grammar.js";

/** The identities of one simulated Vapi call. */
export interface VapiCall {
  id: string;
  orgId: string;
  phoneNumberId: string;
  assistantId: string | undefined;
  direction: "inbound" | "outbound";
  customer: string;
  number: string;
  createdAt: Date;
}

export function newVapiCall(
  callId: string,
  from: string | undefined,
  to: string | undefined,
  direction: "inbound" | "outbound" | undefined,
  start: Date,
  assistantId: string | undefined,
): VapiCall {
  const outbound = direction === "outbound";
  const customer = (outbound ? to : from) ?? "+15550100001";
  const number = (outbound ? from : to) ?? "+15550100002";
  // Vapi's ids are UUIDs (call.id too); derived from vwh's call id, so every message of a call names the same org and number.
  return {
    id: uuidCallId(callId),
    orgId: derivedUuid("org", callId),
    phoneNumberId: derivedUuid("phone-number", callId),
    assistantId,
    direction: outbound ? "outbound" : "inbound",
    customer,
    number,
    createdAt: start,
  };
}

export type CallStatus = "ringing" | "in-progress" | "forwarding" | "ended";

/** One conversation turn as Vapi keeps it in `artifact.messages` (and in OpenAI's format). */
export interface ConversationMessage {
  role: "bot" | "user" | "tool_calls" | "tool_call_result";
  message?: string;
  time: number;
  secondsFromStart: number;
  toolCalls?: unknown[];
  name?: string;
  result?: string;
  toolCallId?: string;
}

export function openAiFormat(messages: readonly ConversationMessage[]): unknown[] {
  return messages.map((message) => {
    if (message.role === "tool_calls") return { role: "assistant", tool_calls: message.toolCalls };
    if (message.role === "tool_call_result") return { role: "tool", tool_call_id: message.toolCallId, content: message.result };
    return { role: message.role === "bot" ? "assistant" : "user", content: message.message };
  });
}

export function transcriptText(messages: readonly ConversationMessage[]): string {
  return messages
    .filter((message) => message.role === "bot" || message.role === "user")
    .map((message) => `${message.role === "bot" ? "AI" : "User"}: ${message.message}`)
    .join("\n");
}

export interface CallState {
  status: CallStatus;
  startedAt: Date | undefined;
  endedAt?: Date;
  endedReason?: string;
}

export function callObject(call: VapiCall, state: CallState, now: Date): Record<string, unknown> {
  return {
    id: call.id,
    orgId: call.orgId,
    createdAt: call.createdAt.toISOString(),
    updatedAt: now.toISOString(),
    type: call.direction === "outbound" ? "outboundPhoneCall" : "inboundPhoneCall",
    status: state.status,
    phoneCallProvider: "vapi",
    phoneCallTransport: "pstn",
    ...(state.startedAt && { startedAt: state.startedAt.toISOString() }),
    ...(state.endedAt && { endedAt: state.endedAt.toISOString() }),
    ...(state.endedReason && { endedReason: state.endedReason }),
    phoneNumberId: call.phoneNumberId,
    ...(call.assistantId && { assistantId: call.assistantId }),
    customer: { number: call.customer },
  };
}

export function phoneNumberObject(call: VapiCall): Record<string, unknown> {
  return {
    id: call.phoneNumberId,
    orgId: call.orgId,
    provider: "vapi",
    number: call.number,
    name: "Main line",
    status: "active",
    createdAt: call.createdAt.toISOString(),
    updatedAt: call.createdAt.toISOString(),
    ...(call.assistantId && { assistantId: call.assistantId }),
  };
}

export function artifactObject(messages: readonly ConversationMessage[]): Record<string, unknown> {
  return { messages, messagesOpenAIFormatted: openAiFormat(messages), transcript: transcriptText(messages) };
}

/** The whole request body of one message; `assistant` (CreateAssistantDto) rides along where the SDK's message has the field. */
export function messageBody(
  call: VapiCall,
  state: CallState,
  type: string,
  fields: Record<string, unknown>,
  now: Date,
  messages: readonly ConversationMessage[],
  assistant?: Record<string, unknown>,
): Buffer {
  const carriesAssistant = assistant !== undefined && grammar.messages[type]?.fields["assistant"] !== undefined;
  const message = {
    timestamp: now.getTime(),
    type,
    ...fields,
    ...(carriesAssistant && { assistant }),
    artifact: artifactObject(messages),
    call: callObject(call, state, now),
    phoneNumber: phoneNumberObject(call),
    customer: { number: call.customer },
  };
  return Buffer.from(JSON.stringify({ message }));
}

/**
 * Vapi's sources disagree on a tool call's shape (docs/platforms/vapi.md). `sdk` is what the current SDK types
 * describe; the others are what Vapi's docs and servers have been seen to send.
 */
export const toolShapes = {
  sdk: 'ToolCall {id, type: "function", function: {name, arguments: <JSON string>}} as the SDK types it',
  "sdk-object": "ToolCall with function.arguments as an object (observed in the wild)",
  "custom-tools": "{id, name, arguments: {…}} (docs: custom-tools)",
  events: "{id, name, parameters: {…}} (docs: server events)",
  "function-call": "the legacy model.functions message: function-call {functionCall: {name, parameters}}, answered with {result}",
} as const;
export type ToolShape = keyof typeof toolShapes;
export const toolShapeNames = Object.keys(toolShapes) as [ToolShape, ...ToolShape[]];
export const defaultToolShape: ToolShape = "sdk";

export function isToolShape(value: unknown): value is ToolShape {
  return typeof value === "string" && Object.hasOwn(toolShapes, value);
}

/** One tool call in the chosen shape. */
export function toolCallItem(shape: ToolShape, id: string, name: string, args: Record<string, unknown>): Record<string, unknown> {
  switch (shape) {
    case "sdk":
      return { id, type: "function", function: { name, arguments: JSON.stringify(args) } };
    case "sdk-object":
      return { id, type: "function", function: { name, arguments: args } };
    case "custom-tools":
      return { id, name, arguments: args };
    case "events":
    case "function-call":
      return { id, name, parameters: args };
  }
}

/** The `tool-calls` fields: `toolCallList` plus `toolWithToolCallList` (both required by the SDK). */
export function toolCallFields(
  shape: ToolShape,
  calls: readonly { id: string; name: string; arguments: Record<string, unknown> }[],
  serverUrl: string,
): Record<string, unknown> {
  const toolCallList = calls.map((call) => toolCallItem(shape, call.id, call.name, call.arguments));
  const toolWithToolCallList = calls.map((call, index) => ({
    type: "function",
    function: {
      name: call.name,
      parameters: {
        type: "object",
        properties: Object.fromEntries(
          Object.keys(call.arguments).map((key) => [key, { type: typeof call.arguments[key] === "number" ? "number" : "string" }]),
        ),
      },
    },
    server: { url: serverUrl },
    toolCall: toolCallList[index],
  }));
  return { toolWithToolCallList, toolCallList };
}

/** The ids of the tool calls a `tool-calls` request carried, read back from its body (any shape). */
export function sentToolCalls(body: Buffer): { id: string; name: string }[] {
  try {
    const list = (JSON.parse(body.toString("utf8")) as { message?: { toolCallList?: unknown } }).message?.toolCallList;
    if (!Array.isArray(list)) return [];
    return list.flatMap((item: { id?: unknown; name?: unknown; function?: { name?: unknown } }) =>
      typeof item?.id === "string" ? [{ id: item.id, name: String(item.function?.name ?? item.name ?? "") }] : [],
    );
  } catch {
    return [];
  }
}

/** End reasons, checked against the SDK's enum so a renamed value fails the tests, not a user's run. */
export function endedReason(reason: string): string {
  const values = grammar.messages["end-of-call-report"]?.fields["endedReason"]?.values ?? [];
  if (!values.includes(reason)) throw new Error(`"${reason}" is not an endedReason of ${grammar.sdk.name} ${grammar.sdk.version}`);
  return reason;
}
