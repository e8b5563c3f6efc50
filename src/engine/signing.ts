/**
 * How a run signs, resolved once for the CLI, the API and the load workers alike (issue 22): each flow's
 * platform signs with its own scheme unless a scheme was chosen for the run, and a recording replayed with its
 * recorded signatures signs nothing.
 */
import { getScheme } from "../signing/index.js";
import type { SchemeSettings, Signer } from "../signing/types.js";
import type { PlatformSigning } from "./options.js";

/** What signing needs of a platform: its id and its own scheme. */
export interface SigningPlatform {
  id: string;
  scheme: string;
}

export interface SigningPlan {
  /** The scheme chosen for the run (a flag, VWH_SCHEME, the config, the API's `scheme`); undefined: each platform's own. */
  chosenScheme: string | undefined;
  /** The scheme settings (hmac) the signer and its headers use. */
  settings: SchemeSettings;
  /** Replay recorded signature headers: no signer. */
  keepSignatures: boolean;
  /** Nothing to sign: the run sends no webhooks (a custom-LLM socket or stream). */
  unsigned?: boolean;
  /** Makes a scheme's signer for a platform (the secrets are the caller's: flags and environment, or the API's). */
  createSigner(scheme: string, platformId: string): Signer;
}

export interface RunSigning extends PlatformSigning {
  /** Per platform id, where each platform signs with its own scheme; undefined when one scheme was chosen. */
  platformSigning: Record<string, PlatformSigning> | undefined;
  /** For reports: the scheme, the schemes joined with " + ", or "recorded". */
  label: string;
}

/**
 * `platforms` are the flows' platforms (in order); `fallback` signs anything else (the --platform default).
 * The run's own signer is the fallback platform's when a flow uses it, else the first flow's.
 */
export function resolveRunSigning(platforms: readonly SigningPlatform[], fallback: SigningPlatform, plan: SigningPlan): RunSigning {
  const signingFor = (scheme: string, platformId: string): PlatformSigning => ({
    signer: plan.keepSignatures || plan.unsigned ? undefined : plan.createSigner(scheme, platformId),
    signatureHeaders: getScheme(scheme).headers(plan.settings),
  });
  if (plan.chosenScheme !== undefined) {
    const chosen = getScheme(plan.chosenScheme).name;
    return { ...signingFor(chosen, fallback.id), platformSigning: undefined, label: plan.keepSignatures ? "recorded" : plan.unsigned ? "none" : chosen };
  }
  const unique = [...new Map(platforms.map((platform) => [platform.id, platform])).values()];
  const platformSigning = Object.fromEntries(unique.map((platform) => [platform.id, signingFor(platform.scheme, platform.id)]));
  const own = platformSigning[fallback.id] ?? (unique[0] && platformSigning[unique[0].id]) ?? signingFor(fallback.scheme, fallback.id);
  const label = plan.keepSignatures
    ? "recorded"
    : plan.unsigned
      ? "none"
      : [...new Set((unique.length ? unique : [fallback]).map((platform) => platform.scheme))].join(" + ");
  return { ...own, platformSigning, label };
}
