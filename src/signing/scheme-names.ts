/** The signature schemes by name, apart from their code: the settings table and `--help` list them without loading any. */
export const schemeNames = ["standard", "stripe", "hmac", "twilio", "telnyx", "retell", "vonage", "plivo", "vapi", "bearer"] as const;
export type SchemeName = (typeof schemeNames)[number];
