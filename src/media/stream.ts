/**
 * The `stream` move of a reactive call (issue 17): opens the WebSocket as the platform would (its
 * handshake headers, its signature where it signs the upgrade), picks the message set the move names,
 * and plays the rest of the caller script on the socket. The client is `ws`: node 20's global
 * WebSocket is experimental and cannot set handshake headers.
 */
import WebSocket from "ws";
import type { Finding } from "../core/findings.js";
import type { MediaStreamRequest, StreamEnd } from "../platforms/types.js";
import type { MediaProtocolLoader, SessionProtocol } from "./protocol.js";
import type { StreamClock, StreamScript } from "./script.js";

export interface StreamOptions {
  callId: string;
  newId: (prefix: string) => string;
  clock: StreamClock;
  /** Where the handler under test listens, and the public URL the platform addresses (a tunnel's). */
  target: URL;
  publicUrl: URL | undefined;
  /** `expect.first_audio_ms` of the turn that opened the stream. */
  firstAudioLimitMs: number | undefined;
  /** How long the WebSocket handshake may take. */
  connectTimeoutMs: number;
  /** Signature headers for the upgrade, signed over the addressed (public) URL, when the request asks for it. */
  signUpgrade: ((addressed: URL) => Record<string, string>) | undefined;
}

const loopbackHosts = new Set(["127.0.0.1", "localhost", "[::1]"]);

/**
 * Where vwh connects for a stream URL from a reply: the public host maps onto --url's host (ws for
 * http, wss for https), loopback URLs are used as they are, and any other host is not followed — vwh
 * only talks to what it was pointed at. Only ws: and wss: are followed: to `ws`, ws+unix://localhost/…
 * is a unix socket, and other schemes make it throw.
 */
export function socketUrl(addressed: URL, options: Pick<StreamOptions, "target" | "publicUrl">): URL | undefined {
  if (addressed.protocol !== "ws:" && addressed.protocol !== "wss:") return undefined;
  const { target } = options;
  const publicUrl = options.publicUrl ?? target;
  if (addressed.host === publicUrl.host || addressed.host === target.host) {
    return new URL(`${target.protocol === "https:" || target.protocol === "wss:" ? "wss" : "ws"}://${target.host}${addressed.pathname}${addressed.search}`);
  }
  return loopbackHosts.has(addressed.hostname) ? addressed : undefined;
}

function connect(url: URL, headers: Record<string, string>, timeoutMs: number): Promise<{ socket: WebSocket } | { message: string }> {
  return new Promise((resolve) => {
    // maxPayload: a minute of 24 kHz L16 in base64 fits; a flood beyond it fails the stream.
    const socket = new WebSocket(url, { headers, perMessageDeflate: false, handshakeTimeout: timeoutMs, followRedirects: false, maxPayload: 16 * 1024 * 1024 });
    // Paused until the session listens: an agent's first messages (sent the moment the socket opens) would be lost.
    socket.once("open", () => {
      socket.pause();
      resolve({ socket });
    });
    socket.once("unexpected-response", (_request, response) => {
      resolve({ message: `the WebSocket handshake was refused: HTTP ${response.statusCode ?? "?"}` });
      socket.terminate();
    });
    socket.once("error", (error: NodeJS.ErrnoException) => resolve({ message: error.code ?? error.message }));
  });
}

/**
 * Plays the rest of the caller script on the stream, with the message set the call's platform has for
 * the move's protocol (`Platform.media`). One the platform does not play on calls (yet): the call goes
 * on as if the agent closed the stream at once, as before media support.
 */
export async function playStream(
  request: MediaStreamRequest,
  script: StreamScript,
  options: StreamOptions & { protocols: Readonly<Record<string, MediaProtocolLoader>> },
): Promise<StreamEnd> {
  const load = options.protocols[request.protocol];
  return load ? playStreamWith(load, request, script, options) : { kind: "closed_by_agent" };
}

/** Plays the caller script on the stream with a message set; findings that stop it from starting go to the open turn. */
export async function playStreamWith(load: MediaProtocolLoader, request: MediaStreamRequest, script: StreamScript, options: StreamOptions): Promise<StreamEnd> {
  const fail = (finding: Finding): StreamEnd => {
    script.record(undefined, [finding]);
    return { kind: "failed", message: finding.message };
  };
  const created = (await load()).createProtocol({ request, callId: options.callId, newId: options.newId });
  if (created.kind === "session") {
    // An HTTP protocol: the public URL's origin maps onto --url's, as for webhooks.
    const publicUrl = options.publicUrl ?? options.target;
    const addressed = request.url.origin === publicUrl.origin ? new URL(`${request.url.pathname}${request.url.search}`, options.target) : request.url;
    const headers = { ...request.headers, ...(request.signUpgrade && options.signUpgrade?.(request.url)) };
    return (created as SessionProtocol<StreamScript, StreamEnd>).run(script, { url: addressed, headers, clock: options.clock });
  }
  const url = socketUrl(request.url, options);
  if (!url) {
    const handler = (options.publicUrl ?? options.target).host;
    const { protocol, host } = request.url;
    const reason =
      protocol === "ws:" || protocol === "wss:" ? `${host} is not the handler's host (${handler}) nor loopback` : `is ${protocol}, not ws: or wss:`;
    return fail({ kind: "rule", path: request.path, message: `not followed: the stream URL ${reason}` });
  }
  const protocol = created;
  const headers = { ...request.headers, ...(request.signUpgrade && options.signUpgrade?.(request.url)) };
  const opened = await connect(url, headers, options.connectTimeoutMs);
  if ("message" in opened) return fail({ kind: "network", path: request.path, message: `could not open the media stream ${url.href}: ${opened.message}` });
  const { socket } = opened;
  try {
    if (protocol.kind === "text") {
      const { TextSession } = await import("./text-session.js");
      const session = new TextSession(socket, protocol, request.protocol, options.clock, script, options.firstAudioLimitMs);
      socket.resume();
      return await session.run();
    }
    const { AudioSession } = await import("./session.js");
    const session = new AudioSession(socket, protocol, request.protocol, options.clock, script, options.firstAudioLimitMs);
    socket.resume();
    return await session.run();
  } finally {
    // Whatever happened (a recording that vanished since the script loaded…), the socket does not outlive the call.
    socket.terminate();
  }
}
