/**
 * Vapi custom-LLM settings of a script (`settings`, snake_case): the assistant's `model` block of provider
 * `custom-llm` (@vapi-ai/server-sdk CustomLlmModel: model, temperature default 0.5, maxTokens default 250,
 * timeoutSeconds default 20, metadataSendMode default variable, messages, tools) and what Vapi itself says
 * first (`firstMessage`). `--metadata-send-mode` overrides the script's metadata_send_mode.
 */
import * as z from "zod";

export const metadataSendModes = ["variable", "off", "destructured"] as const;

export const vapiLlmSettingsSchema = z.looseObject({
  model: z.string().min(1).optional().describe("the model name Vapi sends (default gpt-4o)"),
  temperature: z.number().min(0).max(2).optional().describe("default 0.5"),
  max_tokens: z.number().int().min(1).max(10_000).optional().describe("default 250"),
  timeout_seconds: z.number().min(1).max(600).optional().describe("how long Vapi waits for the first token (default 20; Vapi takes 20–600)"),
  metadata_send_mode: z
    .enum(metadataSendModes)
    .optional()
    .describe("variable (default): call, phoneNumber, customer and metadata in the body; off: none; destructured: metadata's fields at the top"),
  metadata: z.record(z.string(), z.unknown()).optional().describe("the assistant's metadata"),
  system_prompt: z.string().min(1).optional().describe("the model's starting messages: one system message"),
  first_message: z.string().optional().describe("what Vapi says when the call connects (the assistant's firstMessage; empty: nothing)"),
  tools: z
    .array(z.looseObject({ type: z.string(), function: z.looseObject({ name: z.string().min(1) }).optional() }))
    .optional()
    .describe("the model's tools, as OpenAI takes them"),
});

export interface VapiLlmSettings {
  model: string;
  temperature: number;
  maxTokens: number;
  timeoutMs: number;
  metadataSendMode: (typeof metadataSendModes)[number];
  metadata: Record<string, unknown>;
  systemPrompt: string | undefined;
  firstMessage: string;
  tools: unknown[] | undefined;
}

export function vapiLlmSettings(settings: Readonly<Record<string, unknown>>): VapiLlmSettings {
  const parsed = vapiLlmSettingsSchema.safeParse(settings);
  const given = parsed.success ? parsed.data : {};
  const flag = settings["metadataSendMode"];
  return {
    model: given.model ?? "gpt-4o",
    temperature: given.temperature ?? 0.5,
    maxTokens: given.max_tokens ?? 250,
    timeoutMs: (given.timeout_seconds ?? 20) * 1000,
    metadataSendMode: metadataSendModes.includes(flag as never) ? (flag as VapiLlmSettings["metadataSendMode"]) : (given.metadata_send_mode ?? "variable"),
    metadata: given.metadata ?? {},
    systemPrompt: given.system_prompt,
    firstMessage: given.first_message ?? "Hi, how can I help you today?",
    tools: given.tools,
  };
}
