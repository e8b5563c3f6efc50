/**
 * Generic HMAC signatures (README: Signature schemes, `--scheme hmac`): one configurable scheme for Vapi's HMAC plan,
 * GitHub-style `sha256=<hex>` headers and FreJun's METHOD+URL+body. The content is a template of
 * `{timestamp}`, `{body}`, `{method}`, `{url}` and `{id}`; the body goes in as raw bytes.
 */
import { createHmac, randomBytes } from "node:crypto";
import { anyTextMatches, checkTimestamp, invalid, requireHeader, requireNonEmpty, valid } from "./common.js";
import type {
  HmacSettings,
  ReceivedRequest,
  SchemeSettings,
  SignableRequest,
  SignatureScheme,
  SignedRequest,
  Signer,
  Verdict,
  VerifyOptions,
} from "./types.js";

export const defaultHmacSettings: HmacSettings = {
  header: "x-signature",
  algorithm: "sha256",
  template: "{timestamp}.{body}",
  timestampHeader: "x-timestamp",
  idHeader: "x-webhook-id",
  encoding: "hex",
  prefix: "",
};

export const templatePlaceholders = ["timestamp", "body", "method", "url", "id"] as const;

interface TemplateValues {
  timestamp: string;
  body: Buffer;
  method: string;
  url: string;
  id: string;
}

/** The signed bytes: template text as UTF-8, with the body spliced in byte for byte. */
export function renderTemplate(template: string, values: TemplateValues): Buffer {
  const parts: Buffer[] = [];
  for (const piece of template.split(/(\{(?:timestamp|body|method|url|id)\})/)) {
    if (piece === "{body}") parts.push(values.body);
    else if (piece === "{timestamp}") parts.push(Buffer.from(values.timestamp));
    else if (piece === "{method}") parts.push(Buffer.from(values.method.toUpperCase()));
    else if (piece === "{url}") parts.push(Buffer.from(values.url));
    else if (piece === "{id}") parts.push(Buffer.from(values.id));
    else parts.push(Buffer.from(piece));
  }
  return Buffer.concat(parts);
}

class HmacSigner implements Signer {
  private readonly usesTimestamp: boolean;
  private readonly usesId: boolean;

  constructor(
    private readonly secrets: readonly string[],
    private readonly settings: HmacSettings,
  ) {
    this.usesTimestamp = settings.template.includes("{timestamp}");
    this.usesId = settings.template.includes("{id}");
  }

  private digest(secret: string, values: TemplateValues): Buffer {
    return createHmac(this.settings.algorithm, secret).update(renderTemplate(this.settings.template, values)).digest();
  }

  sign(request: SignableRequest): SignedRequest {
    const values = { ...request, timestamp: String(request.timestamp) };
    const signatures = this.secrets.map((secret) => `${this.settings.prefix}${this.digest(secret, values).toString(this.settings.encoding)}`);
    const headers: Record<string, string> = { [this.settings.header]: signatures.join(", ") };
    if (this.usesTimestamp) headers[this.settings.timestampHeader] = String(request.timestamp);
    if (this.usesId) headers[this.settings.idHeader] = request.id;
    return { url: request.url, headers };
  }

  verify(request: ReceivedRequest, options: VerifyOptions): Verdict {
    const { settings } = this;
    const signatureHeader = requireHeader(request, settings.header);
    if (typeof signatureHeader !== "string") return signatureHeader;
    let timestamp = "";
    if (this.usesTimestamp) {
      const value = requireHeader(request, settings.timestampHeader);
      if (typeof value !== "string") return value;
      if (!/^\d+$/.test(value)) return invalid(`invalid ${settings.timestampHeader} (expected unix seconds)`);
      const stale = checkTimestamp(Number(value), options.now, options.toleranceSeconds);
      if (stale) return invalid(stale);
      timestamp = value;
    }
    let id = "";
    if (this.usesId) {
      const value = requireHeader(request, settings.idHeader);
      if (typeof value !== "string") return value;
      id = value;
    }
    const shape = settings.encoding === "hex" ? /^[0-9a-f]+$/i : /^[A-Za-z0-9+/]+={0,2}$/;
    const given = signatureHeader
      .split(",")
      .map((entry) => entry.trim())
      .filter(Boolean);
    const candidates = given.filter((entry) => entry.startsWith(settings.prefix) && shape.test(entry.slice(settings.prefix.length)));
    if (candidates.length === 0) return invalid(`malformed ${settings.header} (expected ${settings.prefix}<${settings.encoding}>)`);
    const values = { timestamp, body: request.body, method: request.method, url: request.url, id };
    // The exact text the signer sends (lower-case hex, canonical base64), as GitHub-style verifiers compare.
    const expected = this.secrets.map((secret) => `${settings.prefix}${this.digest(secret, values).toString(settings.encoding)}`);
    return anyTextMatches(expected, candidates) ? valid : invalid("no matching signature");
  }
}

const settingsOf = (settings: SchemeSettings) => settings.hmac ?? defaultHmacSettings;

export const hmacScheme: SignatureScheme = {
  name: "hmac",
  signsUrl: (settings) => settingsOf(settings).template.includes("{url}"),
  summary: "generic HMAC: header, algorithm, content template, encoding and prefix configurable (--hmac-*)",
  headers: (settings) => {
    const hmac = settingsOf(settings);
    return [hmac.header, hmac.timestampHeader, hmac.idHeader];
  },
  create: (secrets, settings) =>
    new HmacSigner(
      secrets.map((secret) => requireNonEmpty(secret, "a shared secret")),
      settingsOf(settings),
    ),
  randomSecret: () => randomBytes(24).toString("hex"),
  probes: (settings) => ({
    timestamped: settingsOf(settings).template.includes("{timestamp}"),
    rotatedList: (valid, wrong) => {
      const [name] = Object.keys(valid).filter((key) => wrong[key] !== valid[key]);
      return name ? { ...valid, [name]: `${wrong[name]}, ${valid[name]}` } : valid;
    },
    // The signature header by name: the request's headers also hold others (content-type) since the probe is platform-aware.
    malformed: (headers) => ({ ...headers, [settingsOf(settings).header]: "not a signature!" }),
  }),
};
