/** Issue 26: recordings carry the tunnel's --platform, so `vwh simulate recording.json` needs no flag. */
import assert from "node:assert/strict";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, it } from "node:test";
import { loadFlow } from "../../src/files/call-flow.js";
import { Recorder, recoverJournal, type RecordedRequest } from "../../src/tunnel/recorder.js";
import { withTempDir } from "../helpers.js";

const request: RecordedRequest = {
  receivedAt: new Date("2026-01-01T00:00:00Z"),
  method: "POST",
  path: "/voice",
  url: undefined,
  headers: { "content-type": "application/x-www-form-urlencoded" },
  body: Buffer.from("CallSid=CA1&CallStatus=ringing"),
};

describe("recordings carry the tunnel's platform (issue 26)", () => {
  it("writes --platform into the recording and its journal; loading picks it up, and one without it still loads", async () => {
    await withTempDir(async (dir) => {
      const file = join(dir, "calls.json");
      const recorder = await Recorder.open(file, { redactPii: false, platform: "twilio" });
      await recorder.append(request);
      await recorder.finish("r");
      assert.equal((JSON.parse(await readFile(file, "utf8")) as { platform?: string }).platform, "twilio");
      assert.equal((await loadFlow(file)).platform.id, "twilio", "no --platform needed to replay");

      // A journal left by a killed tunnel keeps it too.
      const killed = join(dir, "killed.json");
      const left = await Recorder.open(killed, { redactPii: false, platform: "plivo" });
      await left.append(request);
      const journal = await readFile(`${killed}.journal`, "utf8");
      await left.discard();
      await writeFile(`${killed}.journal`, journal);
      await recoverJournal(`${killed}.journal`);
      assert.equal((await loadFlow(killed)).platform.id, "plivo");

      // Recordings written before the field existed load as before.
      const old = JSON.parse(await readFile(file, "utf8")) as Record<string, unknown>;
      delete old.platform;
      await writeFile(join(dir, "old.json"), JSON.stringify(old));
      assert.equal((await loadFlow(join(dir, "old.json"), "twilio")).platform.id, "twilio");
      assert.equal((await loadFlow(join(dir, "old.json"))).platform.id, "vwh");
    });
  });
});
