/**
 * Shared-secret headers (Vapi's server authentication, docs/platforms/vapi.md): the secret itself travels in a
 * header — `X-Vapi-Secret: <secret>` (Vapi's legacy default, scheme `vapi`) or `Authorization: Bearer
 * <token>` (a bearer credential, scheme `bearer`). Nothing signs the body, so a tampered body passes:
 * only TLS protects it. Comparison is constant-time over every configured secret (rotation).
 */
import { randomBytes } from "node:crypto";
import { anyMatches, invalid, requireHeader, requireNonEmpty, valid } from "./common.js";
import type { ReceivedRequest, SignableRequest, SignatureScheme, SignedRequest, Signer, Verdict } from "./types.js";

class SharedSecretSigner implements Signer {
  constructor(
    private readonly secrets: readonly string[],
    private readonly header: string,
    private readonly prefix: string,
  ) {}

  sign(request: SignableRequest): SignedRequest {
    return { url: request.url, headers: { [this.header]: `${this.prefix}${this.secrets[0]}` } };
  }

  verify(request: ReceivedRequest): Verdict {
    const value = requireHeader(request, this.header);
    if (typeof value !== "string") return value;
    if (this.prefix && !value.toLowerCase().startsWith(this.prefix.toLowerCase()))
      return invalid(`malformed ${this.header} (expected ${this.prefix.trim()} <token>)`);
    const given = Buffer.from(value.slice(this.prefix.length));
    return anyMatches(
      this.secrets.map((secret) => Buffer.from(secret)),
      [given],
    )
      ? valid
      : invalid(`wrong ${this.header}`);
  }
}

function sharedSecretScheme(name: string, summary: string, header: string, prefix: string): SignatureScheme {
  return {
    name,
    summary,
    headers: () => [header],
    create: (secrets) =>
      new SharedSecretSigner(
        secrets.map((secret) => requireNonEmpty(secret, "a shared secret")),
        header,
        prefix,
      ),
    randomSecret: () => randomBytes(24).toString("hex"),
    probes: () => ({
      timestamped: false,
      signsBody: false,
      malformed: () => ({ [header]: prefix ? "Basic dXNlcjpwYXNz" : "" }),
    }),
  };
}

export const vapiSecretScheme = sharedSecretScheme(
  "vapi",
  "Vapi: X-Vapi-Secret: <secret> (a shared secret in a header; the body is not signed)",
  "x-vapi-secret",
  "",
);
export const bearerScheme = sharedSecretScheme(
  "bearer",
  "bearer token: Authorization: Bearer <token> (Vapi bearer credentials; the body is not signed)",
  "authorization",
  "Bearer ",
);
