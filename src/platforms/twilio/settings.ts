/**
 * Twilio settings of a script (`settings`, snake_case), checked when the file is read; flags (camelCase,
 * `--status-callback` → statusCallback) win over them.
 */
import * as z from "zod";

/** How a <Dial> can end (DialCallStatus), as Twilio reports it to Dial@action. */
export const dialOutcomes = ["completed", "answered", "busy", "no-answer", "failed", "canceled"] as const;
export type DialOutcome = (typeof dialOutcomes)[number];

const method = z.enum(["GET", "POST"]);
const place = z.string().max(64);

export const twilioSettingsSchema = z.strictObject({
  voice_method: method.optional().describe("the method of the number's voice URL (Twilio's console setting): POST (default) or GET"),
  status_callback: z.string().min(1).optional().describe("the statusCallback URL (absolute, or relative to the voice URL); --status-callback wins"),
  account_sid: z
    .string()
    .regex(/^AC[0-9a-f]{32}$/, "expected AC and 32 hex digits")
    .optional()
    .describe("the AccountSid sent (default: one derived from a fixed seed)"),
  call_token: z.string().optional().describe("CallToken"),
  dial_outcomes: z
    .array(z.enum(dialOutcomes))
    .min(1)
    .optional()
    .describe(
      "how each <Dial> of the call ends, in order (default completed): busy, no-answer, failed and canceled go on with the next verb, or post DialCallStatus to Dial@action",
    ),
  from_city: place.optional().describe("FromCity and CallerCity"),
  from_state: place.optional().describe("FromState and CallerState"),
  from_zip: place.optional().describe("FromZip and CallerZip"),
  from_country: place.optional().describe("FromCountry and CallerCountry (default US for +1 numbers)"),
  to_city: place.optional().describe("ToCity and CalledCity"),
  to_state: place.optional().describe("ToState and CalledState"),
  to_zip: place.optional().describe("ToZip and CalledZip"),
  to_country: place.optional().describe("ToCountry and CalledCountry (default US for +1 numbers)"),
});

export type TwilioFileSettings = z.infer<typeof twilioSettingsSchema>;

export interface TwilioSettings {
  voiceMethod: "GET" | "POST";
  statusCallback: string | undefined;
  accountSid: string | undefined;
  callToken: string;
  dialOutcomes: readonly DialOutcome[];
  from: { city?: string | undefined; state?: string | undefined; zip?: string | undefined; country?: string | undefined };
  to: { city?: string | undefined; state?: string | undefined; zip?: string | undefined; country?: string | undefined };
}

/** The call's settings: the file's (validated when it was read; keys the schema does not know are flags'), flags winning. */
export function twilioSettings(settings: Readonly<Record<string, unknown>>): TwilioSettings {
  const fileKeys = Object.keys(twilioSettingsSchema.shape);
  const parsed = twilioSettingsSchema.safeParse(Object.fromEntries(Object.entries(settings).filter(([key]) => fileKeys.includes(key))));
  const file: TwilioFileSettings = parsed.success ? parsed.data : {};
  const flag = settings["statusCallback"];
  return {
    voiceMethod: file.voice_method ?? "POST",
    statusCallback: typeof flag === "string" ? flag : file.status_callback,
    accountSid: file.account_sid,
    callToken: file.call_token ?? "",
    dialOutcomes: file.dial_outcomes ?? [],
    from: { city: file.from_city, state: file.from_state, zip: file.from_zip, country: file.from_country },
    to: { city: file.to_city, state: file.to_state, zip: file.to_zip, country: file.to_country },
  };
}
