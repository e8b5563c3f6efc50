/** A Twilio tunnel in process for the inspector's tests: handler, proxy, session (public URL https://abc.ngrok.app) and inspector. */
import { request } from "undici";
import { loadPlatform } from "../src/platforms/registry.js";
import { getScheme } from "../src/signing/index.js";
import { twilioSignature } from "../src/signing/twilio.js";
import { requestIdentifier } from "../src/tunnel/identify.js";
import { startInspector } from "../src/tunnel/inspector.js";
import { startProxy } from "../src/tunnel/proxy.js";
import { secretNeedles } from "../src/tunnel/redact.js";
import { TunnelSession } from "../src/tunnel/session.js";
import { createSignatureExplainer } from "../src/tunnel/signature-explain.js";
import { startServer } from "./helpers.js";

export const token = "f00dfeedf00dfeedf00dfeedf00dfeed";
const scheme = getScheme("twilio");
const secrets = [{ value: token, source: "(test)" }];
export const goodTwiml =
  '<?xml version="1.0" encoding="UTF-8"?><Response><Say>Hello</Say><Gather input="dtmf" action="/gather"><Say>Press 1</Say></Gather></Response>';

export async function startTwilioTunnel(accept: (digits: string | null) => number = () => 200, twiml = goodTwiml) {
  const handler = await startServer((received, response) => {
    const digits = new URLSearchParams(received.body.toString()).get("Digits");
    response.writeHead(accept(digits), { "content-type": "text/xml" }).end(twiml);
  });
  const twilio = await loadPlatform("twilio");
  let session: TunnelSession | undefined;
  const proxy = await startProxy({
    upstream: new URL(`http://localhost:${handler.port}`),
    maxBodyBytes: 1 << 20,
    upstreamTimeoutMs: 5000,
    onExchange: (exchange) => void session?.observe(exchange),
  });
  // As behind ngrok: the platform signs the public https URL.
  const publicUrl = (path: string) => `https://abc.ngrok.app${path}`;
  const verifier = scheme.create(secrets, { purpose: "verify" });
  const signer = scheme.create(secrets, { purpose: "sign" });
  session = new TunnelSession({
    identify: requestIdentifier([twilio]),
    verifier,
    resigner: signer,
    signatureHeaders: scheme.headers({ purpose: "verify" }),
    toleranceSeconds: 300,
    requestUrl: publicUrl,
    forward: proxy.forward,
    explain: createSignatureExplainer({ scheme, settings: { purpose: "verify" }, secrets: [token], verifier, signer, toleranceSeconds: 300 }),
  });
  const inspector = await startInspector({
    session,
    port: 0,
    secretNeedles: secretNeedles([token]),
    signatureHeaders: scheme.headers({ purpose: "verify" }),
    upstream: `http://localhost:${handler.port}`,
    signsUrl: true,
    exportPolicy: { redactPii: false, secretNeedles: secretNeedles([token]), platform: "twilio", url: publicUrl },
  });
  const origin = inspector.url.slice(0, -1);
  const send = async (body: string, signedOver = publicUrl("/voice")) => {
    const signature = twilioSignature(token, signedOver, new URLSearchParams(body));
    await (
      await request(`${proxy.url}/voice`, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded", "x-twilio-signature": signature },
        body,
      })
    ).body.dump();
  };
  const act = async (
    path: string,
    payload: unknown,
    headers: Record<string, string> = { origin, "content-type": "application/json", "sec-fetch-site": "same-origin" },
  ) => {
    const response = await request(`${inspector.url}${path.slice(1)}`, { method: "POST", headers, body: JSON.stringify(payload) });
    const text = await response.body.text();
    return { status: response.statusCode, text, json: () => JSON.parse(text) as Record<string, unknown> };
  };
  return {
    inspector,
    proxyUrl: proxy.url,
    handler,
    session,
    send,
    act,
    origin,
    close: async () => {
      await inspector.close();
      await proxy.close();
      await handler.close();
    },
  };
}

export const twilioForm = "CallSid=CA1&CallStatus=in-progress&Digits=1234&From=%2B15550001111";
