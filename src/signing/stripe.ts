/**
 * Stripe-style signatures (README: Signature schemes): `stripe-signature: t=<unix>,v1=<hex>[,v1=<hex>…]`, HMAC-SHA256
 * over `{t}.{body}` keyed by the whole secret string as UTF-8.
 */
import { createHmac, randomBytes } from "node:crypto";
import { anyTextMatches, checkTimestamp, invalid, requireHeader, requireNonEmpty, valid } from "./common.js";
import type { ReceivedRequest, SignableRequest, SignatureScheme, SignedRequest, Signer, Verdict, VerifyOptions } from "./types.js";

const header = "stripe-signature";

function stripeSignature(secret: string, timestamp: number | string, body: Buffer): string {
  return createHmac("sha256", secret).update(`${timestamp}.`).update(body).digest("hex");
}

class StripeSigner implements Signer {
  constructor(private readonly secrets: readonly string[]) {}

  sign(request: SignableRequest): SignedRequest {
    const signatures = this.secrets.map((secret) => `v1=${stripeSignature(secret, request.timestamp, request.body)}`);
    return { url: request.url, headers: { [header]: [`t=${request.timestamp}`, ...signatures].join(",") } };
  }

  verify(request: ReceivedRequest, options: VerifyOptions): Verdict {
    const value = requireHeader(request, header);
    if (typeof value !== "string") return value;
    // Parsed as the stripe library does: comma-separated `key=value`, keys untrimmed, the last t wins.
    const items = value.split(",").map((item) => item.split("="));
    const timestamp = items.findLast(([key]) => key === "t")?.[1];
    if (timestamp === undefined || !/^\d+$/.test(timestamp)) return invalid(`malformed ${header} (expected t=<unix>,v1=<hex>)`);
    const v1 = items.filter(([key]) => key === "v1").map(([, signature]) => signature ?? "");
    if (v1.length === 0) {
      return invalid(
        items.some(([key]) => /^v\d+$/.test(key!)) ? "no v1 signature (only unknown versions)" : `malformed ${header} (expected t=<unix>,v1=<hex>)`,
      );
    }
    const stale = checkTimestamp(Number(timestamp), options.now, options.toleranceSeconds);
    if (stale) return invalid(stale);
    const expected = this.secrets.map((secret) => stripeSignature(secret, timestamp, request.body));
    return anyTextMatches(expected, v1) ? valid : invalid("no matching signature");
  }
}

export const stripeScheme: SignatureScheme = {
  name: "stripe",
  summary: "Stripe style: stripe-signature: t=<unix>,v1=<hex> (HMAC-SHA256 of {t}.{body})",
  headers: () => [header],
  create: (secrets) => new StripeSigner(secrets.map((secret) => requireNonEmpty(secret, "a signing secret such as whsec_…"))),
  randomSecret: () => `whsec_${randomBytes(24).toString("hex")}`,
  probes: () => ({
    timestamped: true,
    unknownVersion: (headers) => ({ [header]: headers[header]!.replace(/v1=/g, "v0=") }),
    rotatedList: (valid, wrong) => {
      const [t, ...good] = valid[header]!.split(",");
      const bad = wrong[header]!.split(",").slice(1);
      return { [header]: [t, ...bad, ...good].join(",") };
    },
    malformed: (headers) => ({ [header]: headers[header]!.replace(/^t=\d+,/, "") }),
  }),
};
