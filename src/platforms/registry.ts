/**
 * The platforms vwh can play (SPEC §7). Each is loaded only when used, so `vwh --help` stays fast;
 * adding a platform is adding its folder and one line here. The order is the listing's (`vwh platforms`)
 * and the order in which the tunnel asks platforms to recognise a request without --platform.
 */
import type { Platform } from "./types.js";

const loaders = {
  vwh: async () => (await import("./vwh/index.js")).vwhPlatform,
  twilio: async () => (await import("./twilio/index.js")).twilioPlatform,
  vonage: async () => (await import("./vonage/index.js")).vonagePlatform,
  plivo: async () => (await import("./plivo/index.js")).plivoPlatform,
  telnyx: async () => (await import("./telnyx/index.js")).telnyxPlatform,
  vapi: async () => (await import("./vapi/index.js")).vapiPlatform,
  "vapi-llm": async () => (await import("./vapi-llm/index.js")).vapiLlmPlatform,
  retell: async () => (await import("./retell/index.js")).retellPlatform,
  teler: async () => (await import("./teler/index.js")).telerPlatform,
} satisfies Record<string, () => Promise<Platform>>;

export type PlatformId = keyof typeof loaders;
export const platformIds = Object.keys(loaders) as [PlatformId, ...PlatformId[]];
export const defaultPlatformId: PlatformId = "vwh";

export function isPlatformId(id: string): id is PlatformId {
  return Object.hasOwn(loaders, id);
}

export async function loadPlatform(id: PlatformId): Promise<Platform> {
  return loaders[id]();
}
