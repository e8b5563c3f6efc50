/** Vapi settings from flags (`--vapi-tool-shape` → vapiToolShape) and a script's `settings` (snake_case). */
import * as z from "zod";
import { grammar } from "./grammar.js";
import { defaultToolShape, toolShapeNames, toolShapes, type ToolShape } from "./messages.js";

export const vapiSettingsSchema = z.strictObject({
  vapi_tool_shape: z.enum(toolShapeNames).optional().describe("the tool-call payload shape (PROVIDERS §4.3)"),
  vapi_assistant_request: z.boolean().optional().describe("the phone number has no assistant: Vapi sends assistant-request first"),
  vapi_silence_timeout_s: z.number().int().min(10).max(3600).optional().describe("the assistant's silenceTimeoutSeconds (default 30)"),
  vapi_server_messages: z
    .array(z.enum(grammar.serverMessages.values as [string, ...string[]]))
    .optional()
    .describe(`the assistant's serverMessages: which messages it sends (default, as the SDK documents: ${grammar.serverMessages.default.join(", ")})`),
});

export interface VapiSettings {
  toolShape: ToolShape;
  assistantRequest: boolean;
  silenceTimeoutSeconds: number;
  /** serverMessages as configured, or undefined for the SDK's default. */
  serverMessages: readonly string[] | undefined;
}

/** Flags (camelCase) win over the file's settings (snake_case); both were validated when read. */
export function vapiSettings(settings: Readonly<Record<string, unknown>>): VapiSettings {
  const keys = Object.keys(vapiSettingsSchema.shape);
  const file = vapiSettingsSchema.safeParse(Object.fromEntries(Object.entries(settings).filter(([key]) => keys.includes(key))));
  const fromFile = file.success ? file.data : {};
  const flag = settings["vapiToolShape"];
  return {
    toolShape: typeof flag === "string" && Object.hasOwn(toolShapes, flag) ? (flag as ToolShape) : (fromFile.vapi_tool_shape ?? defaultToolShape),
    assistantRequest: fromFile.vapi_assistant_request ?? false,
    silenceTimeoutSeconds: fromFile.vapi_silence_timeout_s ?? 30,
    serverMessages: fromFile.vapi_server_messages,
  };
}

export function describeVapiSettings(settings: Readonly<Record<string, unknown>>): string {
  const { toolShape } = vapiSettings(settings);
  return `vapi tool calls: ${toolShape} — ${toolShapes[toolShape]}`;
}
