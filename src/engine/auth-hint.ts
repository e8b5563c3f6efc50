/**
 * Why a handler refused vwh's signatures (401/403), said once per run and computed from what vwh knows:
 * whether the scheme signs the URL, whether other deliveries signed with the same secret were accepted,
 * which URL vwh signed and which it sent to, and (for the probe) which forgeries the handler accepted.
 */
import type { ProbeCaseResult } from "./probe.js";
import type { SimulationResult } from "./results.js";

export interface RunSigning {
  /** Per platform id: the scheme its webhooks were signed with, and whether that scheme signs the URL. */
  scheme(platformId: string): { name: string; signsUrl: boolean };
  target: URL;
  publicUrl: URL | undefined;
  /** Where the secret came from, as the user named it: `VWH_SECRET`, `$TWILIO_AUTH_TOKEN`, `--secret`. */
  secretSource: string;
  /** Runs the probe's URL cases (engine/probe.ts urlCases) against the handler for a platform's wire format. */
  probeUrl?(platformId: string): Promise<readonly ProbeCaseResult[]>;
}

const refusal = (status: number | undefined) => status === 401 || status === 403;

const telnyxHint = (count: number) =>
  `${count} Telnyx webhook${count === 1 ? "" : "s"} refused: the handler verifies Ed25519 signatures with TELNYX_PUBLIC_KEY — give it the key vwh printed at the start of this run (a new one each run, unless VWH_SECRET holds the private key)`;

/** One line for a run whose handler answered 401/403 to signed webhooks; undefined when it never did. */
export async function signatureHint(result: SimulationResult, signing: RunSigning): Promise<string | undefined> {
  for (const platformId of new Set(result.flows.map((flow) => flow.platform))) {
    const events = result.flows.filter((flow) => flow.platform === platformId).flatMap((flow) => flow.events);
    const refused = events.filter((event) => refusal(event.status));
    if (refused.length === 0) continue;
    if (platformId === "telnyx") return telnyxHint(refused.length);
    const accepted = events.filter((event) => event.status !== undefined && event.status >= 200 && event.status < 300).length;
    const scheme = signing.scheme(platformId);
    const statuses = [...new Set(refused.map((event) => event.status))].join("/");
    const head = `${refused.length} of ${events.length} webhooks refused with ${statuses}`;
    if (accepted > 0) {
      const urls = [...new Set(refused.map((event) => event.exchange?.request.signedUrl).filter(Boolean))];
      return `${head}, ${accepted} signed with the same secret accepted: not the secret — ${
        scheme.signsUrl && urls.length
          ? `the refused ones were signed for ${urls.join(", ")}: the handler validates another URL there`
          : "the handler refuses these events for another reason (their replies are shown above)"
      }`;
    }
    if (!scheme.signsUrl)
      return `${head}: wrong secret — ${scheme.name} signatures do not cover the URL, so only the secret can differ: the handler's is not the one in ${signing.secretSource}`;
    const { target, publicUrl } = signing;
    if (publicUrl && publicUrl.href !== target.href) {
      // Sent to the handler: one request signed for the public URL, one for the URL it receives. Which it accepts tells.
      const probed = signing.probeUrl && (await signing.probeUrl(platformId));
      const verdict = probed && probeSignatureHint(probed, platformId, { ...signing, scheme });
      if (verdict) return `${head}: ${verdict}`;
      return `${head}: vwh signed for ${publicUrl.href} and sent to ${target.href} — a handler that validates the URL it receives checks the wrong URL (give it ${publicUrl.href}); if it already validates that one, its token is not the one in ${signing.secretSource}`;
    }
    return `${head}: most likely the token — vwh signed the very URL it sent to (${target.href}), which a handler that rebuilds its URL from the request checks; so its token is not the one in ${signing.secretSource}, unless it validates a fixed public URL (then run with --public-url <that URL>)`;
  }
  return undefined;
}

/** The probe's verdict on a refused valid request: the URL or the secret, from which forgeries were accepted. */
export function probeSignatureHint(
  cases: readonly ProbeCaseResult[],
  platformId: string,
  signing: Omit<RunSigning, "scheme"> & { scheme: { name: string; signsUrl: boolean } },
): string | undefined {
  const valid = cases[0];
  if (valid === undefined || valid.outcome !== "wrongly-refused" || !refusal(valid.status)) return undefined;
  if (platformId === "telnyx")
    return "the handler refused a valid Telnyx signature: its TELNYX_PUBLIC_KEY is not the public key of the private key vwh signs with";
  const local = cases.find((result) => result.name.startsWith("signed for the local --url"));
  if (local?.outcome === "wrongly-accepted") {
    return `wrong URL, not the secret: the handler accepts a signature over the URL it receives (${signing.target.href}) and refuses one over the public URL (${signing.publicUrl?.href}) — validate against the public URL the platform is configured with`;
  }
  if (!signing.scheme.signsUrl)
    return `wrong secret: ${signing.scheme.name} signatures do not cover the URL, so only the secret can differ — the handler's is not the one in ${signing.secretSource}`;
  if (local?.outcome === "as-expected")
    return `wrong secret: the handler refused signatures over both the public and the local URL — its token is not the one in ${signing.secretSource}`;
  return `most likely the secret: vwh signed the URL it sent to (${signing.target.href}); the handler's token is not the one in ${signing.secretSource}, unless it validates a fixed public URL (then give --public-url <that URL>)`;
}
