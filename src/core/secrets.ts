/**
 * Secrets never reach the user's screen (issue 12, item 5): every secret vwh learns of (flags,
 * VWH_SECRET, the variable named by --secret-env or secret_env) is remembered here, and every error
 * message, quoted value and `vwh config` row passes through `redactSecrets` before it is printed. A
 * misused flag such as `--secret-env "$VWH_SECRET"` is quoted back as `[secret]`.
 */

/** Shorter values are too likely to occur in ordinary text to be masked wherever they appear. */
const minSecretLength = 6;
/** A quoted value is cut to a prefix in some messages: a shared run this long still gives it away. */
const sharedRun = 10;
const known = new Set<string>();

// Values that look like a secret whatever vwh was told: Standard Webhooks secrets and PEM keys.
const secretShapes = [/whsec_[A-Za-z0-9+/=_-]{8,}/g, /-----BEGIN [A-Z ]*KEY-----[\s\S]*?(?:-----END [A-Z ]*KEY-----|$)/g];

export function rememberSecrets(values: Iterable<string | undefined>): void {
  for (const value of values) {
    const trimmed = value?.trim();
    if (trimmed && trimmed.length >= minSecretLength) known.add(trimmed);
  }
}

/** How people name variables (VWH_SECRET, AGENT_SECRET): a name that is not set and not written so is taken for a secret. */
const conventionalName = /^[A-Z_][A-Z0-9_]*$/;

/**
 * The secrets a command could be using: flags, VWH_SECRET (space-separated), and named variables. A
 * "variable name" that names no set variable and is not written as names are (`sk_live_abcdef123456`)
 * is most likely the secret itself, pasted in its place: it is masked like one (issue 30).
 */
export function rememberConfiguredSecrets(env: NodeJS.ProcessEnv, flagValues: readonly unknown[], variableNames: readonly unknown[]): void {
  const pieces = (value: string | undefined) => (value ?? "").split(/\s+/);
  const fromVariables = variableNames
    .filter((name): name is string => typeof name === "string" && name !== "")
    .flatMap((name) => (env[name] === undefined ? (conventionalName.test(name) ? [] : [name]) : [env[name], ...pieces(env[name])]));
  rememberSecrets([...flagValues.filter((value): value is string => typeof value === "string"), env.VWH_SECRET, ...pieces(env.VWH_SECRET), ...fromVariables]);
}

/** Whether a token shares a run of `sharedRun` characters (or all of itself) with a known secret. */
function revealsSecret(token: string): boolean {
  for (const secret of known) {
    if (token.includes(secret) || (token.length >= sharedRun && secret.includes(token))) return true;
    for (let start = 0; start + sharedRun <= secret.length; start++) {
      if (token.includes(secret.slice(start, start + sharedRun))) return true;
    }
  }
  return false;
}

/** The text with every known secret, every part of one long enough to matter and every secret-shaped value masked. */
export function redactSecrets(text: string): string {
  let out = known.size === 0 ? text : text.replace(/[^\s"'`,;()[\]{}<>]+/g, (token) => (revealsSecret(token) ? "[secret]" : token));
  for (const shape of secretShapes) out = out.replace(shape, "[secret]");
  return out;
}

/** For tests: forget what was remembered. */
export function forgetSecrets(): void {
  known.clear();
}

/** A URL as vwh prints it: a password in its userinfo (`https://user:pass@host`) is masked. */
export function shownUrl(url: URL): string {
  if (url.password === "") return url.href;
  const masked = new URL(url.href);
  masked.password = "***";
  return masked.href;
}
