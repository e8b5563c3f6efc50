/**
 * The evidence of one delivery: what vwh sent (method, URL, the URL it signed over, the body or form
 * parameters) and what came back (status, content type, the start of the body), secrets masked. Every failed
 * event carries it; with --verbose every event does.
 */
import { redactSecrets, shownUrl } from "../core/secrets.js";
import { formParameters, showBody } from "../lib/pretty-body.js";
import type { DeliveryResult } from "../transport/undici.js";
import { type DeliveryTarget, deliveryAddress } from "./address.js";
import { type PlannedEvent } from "./expand-flow.js";
import type { Exchange } from "./results.js";

export function exchangeOf(planned: PlannedEvent, target: DeliveryTarget, outcome: DeliveryResult): Exchange {
  const { url, addressed } = deliveryAddress(planned, target);
  const form = formParameters(planned.body, planned.contentType);
  const contentType = planned.method === "GET" && planned.body.length === 0 ? undefined : planned.contentType;
  return {
    request: {
      method: planned.method,
      url: redactSecrets(shownUrl(url)),
      signedUrl: redactSecrets(shownUrl(addressed)),
      contentType,
      body: showBody(planned.body, contentType),
      form: form && Object.fromEntries(Object.entries(form).map(([name, value]) => [name, redactSecrets(value)])),
    },
    reply: outcome.ok
      ? {
          status: outcome.status,
          contentType: outcome.headers["content-type"],
          bytes: outcome.body.length,
          body: showBody(outcome.body, outcome.headers["content-type"]),
        }
      : undefined,
  };
}
