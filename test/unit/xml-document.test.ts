/** The shared XML reader of TwiML and Plivo XML (issue 22: the two readers had drifted apart). */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { readXml, xmlDocument } from "../../src/platforms/shared/xml-document.js";
import { parsePlivoReply } from "../../src/platforms/plivo/reply.js";
import type { WebhookRequest } from "../../src/platforms/types.js";

const request: WebhookRequest = { method: "POST", url: new URL("https://example.com/answer"), body: Buffer.alloc(0), contentType: undefined, headers: {} };

describe("the platforms' XML reader", () => {
  it("limits nesting for Plivo as for TwiML: a deep document is one finding, not a crash", () => {
    const deep = `<Response>${"<Speak>".repeat(100)}x${"</Speak>".repeat(100)}</Response>`;
    const read = readXml(deep);
    assert.equal(read.ok, false);
    const parsed = parsePlivoReply(
      { status: 200, headers: { "content-type": "text/xml" }, body: Buffer.from(deep) },
      { eventType: "answer", waits: true, expectsActions: false, request },
    );
    assert.equal(parsed.failures.length, 1);
    assert.match(parsed.failures[0]!.message, /nested deeper than 64 levels/);
  });

  it("reads mixed content in document order, own text apart, and selects native paths", () => {
    const read = readXml('<Response><Say voice="alice">Hello <emphasis>there</emphasis>, friend</Say><Gather action="/menu"/></Response>');
    assert.ok(read.ok);
    const [root] = read.roots;
    const say = root!.children[0]!;
    assert.equal(say.path, "Response/Say[1]");
    assert.equal(say.text, "Hello , friend");
    assert.equal(say.allText, "Hello there , friend");
    const document = xmlDocument(root!);
    assert.deepEqual(document.select("Response/Say@voice"), ["alice"]);
    assert.deepEqual(document.select("Response/Gather[1]@action"), ["/menu"]);
    assert.deepEqual(document.select("Response/Say[2]"), []);
    assert.deepEqual(document.select("Other/Say"), []);
  });

  it("says where a malformed document breaks (line:column)", () => {
    const read = readXml("<Response>\n  <Say>unclosed\n</Response>");
    assert.equal(read.ok, false);
    if (!read.ok) assert.ok(read.line !== undefined && read.line >= 2, `line ${read.line}`);
  });
});
