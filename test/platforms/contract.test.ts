/**
 * One contract over every registered platform (SPEC §7): what `vwh platforms` says, starters that are
 * valid scripts for their platform, bundled scripts that load, a catalogue whose every event the platform
 * encodes and identifies again, and defaults that name a real scheme and profile.
 */
import assert from "node:assert/strict";
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { describe, it } from "node:test";
import { flowFromValue, loadFlow } from "../../src/files/call-flow.js";
import { loadPlatform, platformIds } from "../../src/platforms/registry.js";
import { profiles } from "../../src/engine/retry-policy.js";
import { schemes } from "../../src/signing/index.js";
import { repoRoot, runInProcess } from "../helpers.js";

describe("every registered platform", () => {
  for (const id of platformIds) {
    it(`${id}: defaults, starters, bundled scripts, and a catalogue it encodes and identifies`, async () => {
      const platform = await loadPlatform(id);
      assert.equal(platform.id, id);
      assert.ok(Object.hasOwn(schemes, platform.scheme), `${id}: default scheme ${platform.scheme} is not a signature scheme`);
      if (platform.profile !== undefined) assert.ok(Object.hasOwn(profiles, platform.profile), `${id}: unknown profile ${platform.profile}`);

      assert.ok(platform.starters.length > 0, `${id}: vwh init --platform ${id} needs starters`);
      for (const starter of platform.starters) {
        const loaded = await flowFromValue({ ...starter.flow({ from: "+15550100001", to: "+15550100002" }), platform: id }, `${id}/${starter.id}`);
        assert.equal(loaded.platform.id, id);
      }

      // vapi-llm-*.json belong to vapi-llm, not vapi.
      const longer = platformIds.filter((other) => other !== id && other.startsWith(`${id}-`));
      const bundled = (await readdir(join(repoRoot, "fixtures", "scripts"))).filter(
        (name) => name.startsWith(`${id}-`) && name.endsWith(".json") && !longer.some((other) => name.startsWith(`${other}-`)),
      );
      assert.ok(bundled.length > 0, `${id}: no bundled caller script fixtures/scripts/${id}-*.json`);
      for (const name of bundled) assert.equal((await loadFlow(join(repoRoot, "fixtures", "scripts", name))).platform.id, id, name);

      const call = { callId: "call_contract_1", from: "+15550100001", to: "+15550100002", direction: "inbound" as const };
      for (const [eventType, spec] of Object.entries(platform.events)) {
        assert.ok(platform.eventType.safeParse(eventType).success, `${id}: ${eventType} is in the catalogue but not a valid event type`);
        assert.equal(typeof spec.waits, "boolean");
        const request = platform.encode({
          eventType,
          eventId: "evt_contract_1",
          sequence: 1,
          timestamp: new Date("2026-11-30T12:00:00Z"),
          payload: {},
          call,
          url: new URL("https://voice.example.test/hooks/voice"),
        });
        const path = `${request.url.pathname}${request.url.search}`;
        const identity = platform.identify({
          method: request.method,
          path,
          headers: { ...request.headers, ...(request.contentType && { "content-type": request.contentType }) },
          body: request.body,
        });
        assert.equal(identity.callId, platform.nativeCallId?.(call.callId) ?? call.callId, `${id}: ${eventType} does not identify its call`);
        assert.ok(identity.eventType, `${id}: ${eventType} does not identify its event type`);
      }
    });
  }

  it("vwh platforms lists them all, for people and as JSON (spawned, with a slow reader: piped-output.test.ts)", async () => {
    const listed = await runInProcess(["platforms"]);
    assert.equal(listed.code, 0, listed.stderr);
    for (const id of platformIds) assert.match(listed.stdout, new RegExp(`^${id}\\b`, "m"));
    const asJson = await runInProcess(["platforms", "--json"]);
    assert.equal(asJson.code, 0, asJson.stderr);
    const report = JSON.parse(asJson.stdout) as {
      platforms: { id: string; scheme: string; events: { type: string; waits: boolean }[]; caller_steps: string[] }[];
    };
    assert.deepEqual(
      report.platforms.map((platform) => platform.id),
      platformIds,
    );
    const vwh = report.platforms.find((platform) => platform.id === "vwh")!;
    assert.equal(vwh.scheme, "standard");
    assert.ok(vwh.events.some((event) => event.type === "call.started" && event.waits));
    assert.ok(vwh.caller_steps.includes("say") && !vwh.caller_steps.includes("tool"));
  });

  it("call ids look like the platform's own, and no request carries a header its platform does not send (issue 24)", async () => {
    const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
    const shapes: Partial<Record<string, RegExp>> = { twilio: /^CA[0-9a-f]{32}$/, plivo: uuid, vonage: uuid, vapi: uuid, telnyx: /^v3:[\w-]{20,}$/ };
    const { attemptHeader } = await import("../../src/platforms/types.js");
    for (const id of platformIds) {
      const platform = await loadPlatform(id);
      const [eventType] = Object.keys(platform.events);
      if (eventType === undefined) continue; // a socket or stream protocol (vapi-llm): no webhooks
      const call = { callId: "call_contract_shape", from: "+15550100001", to: "+15550100002", direction: "inbound" as const };
      const request = platform.encode({
        eventType: eventType!,
        eventId: "evt_shape_1",
        sequence: 1,
        timestamp: new Date("2026-11-30T12:00:00Z"),
        payload: {},
        call,
        url: new URL("https://voice.example.test/hooks/voice"),
      });
      const identity = platform.identify({
        method: request.method,
        path: `${request.url.pathname}${request.url.search}`,
        headers: request.headers,
        body: request.body,
      });
      const shape = shapes[id];
      if (shape) assert.match(identity.callId ?? "", shape, `${id}: call id ${identity.callId}`);
      assert.equal(Object.hasOwn(request.headers, attemptHeader), id === "vwh", `${id}: ${attemptHeader} only on vwh's own envelope`);
    }
  });
});
