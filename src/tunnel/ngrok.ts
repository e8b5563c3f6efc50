/**
 * Opening the public ngrok URL in front of the proxy. The token comes only from NGROK_AUTHTOKEN or
 * ngrok's own config file, never from a flag (it would show in the process list), and is never
 * printed. `forward` is injected so the command is testable offline; the real one is imported lazily.
 */
import { readFile } from "node:fs/promises";
import { homedir } from "node:os";
import { join } from "node:path";
import { NetworkError, UsageError } from "../core/errors.js";

export interface TunnelListener {
  url(): string | null;
  close(): Promise<void>;
}

export interface ForwardConfig {
  addr: string;
  authtoken?: string;
  authtoken_from_env?: boolean;
  domain?: string;
}

export type ForwardFunction = (config: ForwardConfig) => Promise<TunnelListener>;

export const tokenHelp = "get one at https://dashboard.ngrok.com/get-started/your-authtoken and export NGROK_AUTHTOKEN=…, or use --local for the proxy alone";

/** Where ngrok keeps its config on each platform (v3 first, then v2). */
export function ngrokConfigPaths(env: NodeJS.ProcessEnv, home = homedir()): string[] {
  if (env.NGROK_CONFIG) return [env.NGROK_CONFIG];
  return [
    join(env.XDG_CONFIG_HOME ?? join(home, ".config"), "ngrok", "ngrok.yml"),
    join(home, "Library", "Application Support", "ngrok", "ngrok.yml"),
    join(env.LOCALAPPDATA ?? join(home, "AppData", "Local"), "ngrok", "ngrok.yml"),
    join(home, ".ngrok2", "ngrok.yml"),
  ];
}

/** The `authtoken:` entry of ngrok's YAML config (top level in v2, under `agent:` in v3). */
export async function tokenFromNgrokConfig(env: NodeJS.ProcessEnv, home?: string): Promise<string | undefined> {
  for (const file of ngrokConfigPaths(env, home)) {
    try {
      const match = /^\s*authtoken:\s*["']?([^"'\s#]+)/m.exec(await readFile(file, "utf8"));
      if (match) return match[1];
    } catch {
      // no config at this path
    }
  }
  return undefined;
}

async function realForward(): Promise<ForwardFunction> {
  const ngrok = await import("@ngrok/ngrok");
  return (config) => ngrok.forward(config);
}

export interface OpenTunnelOptions {
  proxyPort: number;
  domain: string | undefined;
  env: NodeJS.ProcessEnv;
  forward?: ForwardFunction;
  timeoutMs?: number;
}

export async function openTunnel(options: OpenTunnelOptions): Promise<{ url: string; listener: TunnelListener }> {
  const fromEnv = options.env.NGROK_AUTHTOKEN !== undefined && options.env.NGROK_AUTHTOKEN !== "";
  const configToken = fromEnv ? undefined : await tokenFromNgrokConfig(options.env);
  if (!fromEnv && !configToken) throw new UsageError("NGROK_AUTHTOKEN is not set and ngrok's config has no authtoken", tokenHelp);
  const token = fromEnv ? options.env.NGROK_AUTHTOKEN! : configToken!;
  const forward = options.forward ?? (await realForward());
  const config: ForwardConfig = {
    // The proxy listens on 127.0.0.1 only; a bare port would let ngrok try localhost → ::1 first.
    addr: `127.0.0.1:${options.proxyPort}`,
    ...(fromEnv ? { authtoken_from_env: true } : { authtoken: token }),
    ...(options.domain && { domain: options.domain }),
  };
  const timeoutMs = options.timeoutMs ?? 20_000;
  let timer: NodeJS.Timeout | undefined;
  try {
    const listener = await Promise.race([
      forward(config),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer from the ngrok service within ${timeoutMs / 1000} s`)), timeoutMs);
      }),
    ]);
    const url = listener.url();
    if (!url) {
      await listener.close();
      throw new Error("ngrok opened a listener without a URL");
    }
    return { url, listener };
  } catch (error) {
    // ngrok's messages carry its error code (ERR_NGROK_105 …); the token itself must never show.
    const message = String((error as Error).message ?? error)
      .split(token)
      .join("[token]");
    const code = /ERR_NGROK_\d+/.exec(message)?.[0];
    throw new NetworkError(
      `could not open the ngrok tunnel${code && !message.includes(code) ? ` (${code})` : ""}: ${message}`,
      code ? `see https://ngrok.com/docs/errors/${code.toLowerCase().replace(/_/g, "-")}` : "check the network and the token",
    );
  } finally {
    clearTimeout(timer);
  }
}
