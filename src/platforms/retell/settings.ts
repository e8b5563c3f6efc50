/** Retell settings of a script (`settings`, snake_case). */
import * as z from "zod";

export const retellSettingsSchema = z.looseObject({
  retell_inbound_webhook: z.boolean().optional().describe("the number has an inbound_webhook_url: call_inbound first (default true for inbound calls)"),
  retell_end_call_after_silence_ms: z.number().int().min(10_000).max(3_600_000).optional().describe("the agent's end_call_after_silence_ms (default 600000)"),
  retell_greeting: z.string().min(1).optional().describe("what the agent says first (it goes into the transcript)"),
  retell_reminder_trigger_ms: z
    .number()
    .int()
    .min(1)
    .max(3_600_000)
    .optional()
    .describe("custom LLM: the agent's reminder_trigger_ms — silence before reminder_required (default 10000)"),
  retell_reminder_max_count: z
    .number()
    .int()
    .min(0)
    .max(100)
    .optional()
    .describe("custom LLM: the agent's reminder_max_count — reminders per silence (default 1)"),
});

export function retellSettings(settings: Readonly<Record<string, unknown>>) {
  const parsed = retellSettingsSchema.safeParse(settings);
  const given = parsed.success ? parsed.data : {};
  return {
    inboundWebhook: given.retell_inbound_webhook ?? true,
    endCallAfterSilenceMs: given.retell_end_call_after_silence_ms ?? 600_000,
    greeting: given.retell_greeting ?? "Hi, thanks for calling. How can I help you today?",
    reminderTriggerMs: given.retell_reminder_trigger_ms ?? 10_000,
    reminderMaxCount: given.retell_reminder_max_count ?? 1,
  };
}
