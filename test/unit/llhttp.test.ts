/** The fast client's response parser (src/fast-client/llhttp.ts: llhttp as undici ships it) fed as a socket would. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { maxHeaderBytes, ResponseParser } from "../../src/transport/fast-client/llhttp.js";

type Seen = [string, ...unknown[]];

function parserRecording(skipBodyFor: (status: number) => boolean = () => false): { parser: ResponseParser; seen: Seen[] } {
  const seen: Seen[] = [];
  const parser = new ResponseParser({
    onHeaders: (status, headers, keepAlive) => {
      seen.push(["headers", status, headers, keepAlive]);
      return skipBodyFor(status) ? 1 : 0;
    },
    onBody: (chunk) => void seen.push(["body", chunk.toString("latin1")]),
    onComplete: () => void seen.push(["complete"]),
  });
  return { parser, seen };
}

describe("the fast client's llhttp response parser", () => {
  const replies =
    "HTTP/1.1 200 OK\r\nContent-Type: application/json  \r\nX-Empty:\r\nSet-Cookie: a=1\r\nset-cookie: b=2\r\nX-Latin: caf\xe9\r\nContent-Length: 2\r\n\r\n{}" +
    "HTTP/1.1 100 Continue\r\n\r\n" +
    "HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n";

  it("reads replies whatever the reads' boundaries: names lower-case, repeats joined, values trimmed, bytes as latin1", () => {
    const expected: Seen[] = [
      ["headers", 200, { "content-type": "application/json", "x-empty": "", "set-cookie": "a=1, b=2", "x-latin": "caf\xe9", "content-length": "2" }, true],
      ["body", "{}"],
      ["complete"],
      ["headers", 100, {}, true],
      ["complete"],
      ["headers", 201, { "transfer-encoding": "chunked" }, true],
      ["body", "abcde"],
      ["complete"],
    ];
    const bytes = Buffer.from(replies, "latin1");
    for (const size of [1, 2, 7, 64, bytes.length]) {
      const { parser, seen } = parserRecording();
      for (let offset = 0; offset < bytes.length; offset += size) assert.equal(parser.execute(bytes.subarray(offset, offset + size)), undefined);
      // Body pieces split by small reads are joined for the comparison.
      const joined = seen.reduce<Seen[]>((all, entry) => {
        const last = all[all.length - 1];
        if (entry[0] === "body" && last?.[0] === "body") last[1] = `${String(last[1])}${String(entry[1])}`;
        else all.push([...entry]);
        return all;
      }, []);
      assert.deepEqual(joined, expected, `reads of ${size} bytes`);
      parser.free();
    }
  });

  it("keeps a header section split across reads when each read lands in the same buffer, overwritten after it (the shared read buffer)", () => {
    const bytes = Buffer.from(replies.slice(0, replies.indexOf("HTTP/1.1 100")), "latin1");
    for (const size of [1, 3, 16, 40]) {
      const headers: Record<string, string>[] = [];
      const parser = new ResponseParser({ onHeaders: (_status, seen) => (headers.push(seen), 0), onBody: () => {}, onComplete: () => {} });
      const scratch = Buffer.alloc(size);
      for (let offset = 0; offset < bytes.length; offset += size) {
        const length = bytes.copy(scratch, 0, offset, offset + size);
        assert.equal(parser.execute(scratch, length), undefined);
        scratch.fill("#");
      }
      assert.deepEqual(
        headers,
        [{ "content-type": "application/json", "x-empty": "", "set-cookie": "a=1, b=2", "x-latin": "caf\xe9", "content-length": "2" }],
        `reads of ${size} bytes`,
      );
      parser.free();
    }
  });

  it("gives each reply its own headers object, also when the header section repeats (a repeat is served from the last one read)", () => {
    const reply = (date: string, extra = "") =>
      Buffer.from(`HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nDate: ${date}${extra}\r\nContent-Length: 0\r\n\r\n`, "latin1");
    const headers: Record<string, string>[] = [];
    // Each reader changes the object it was given: no later reply may see that.
    const parsers = [0, 1].map(
      () =>
        new ResponseParser({
          onHeaders: (_status, seen) => {
            headers.push({ ...seen });
            seen["content-type"] = "changed by its reader";
            seen["x-added"] = "by its reader";
            return 1;
          },
          onBody: () => {},
          onComplete: () => {},
        }),
    );
    const [first, second] = parsers as [ResponseParser, ResponseParser];
    for (const parser of [first, second, first, second]) parser.execute(reply("Mon, 07 Dec 2026 10:00:00 GMT"));
    first.execute(reply("Mon, 07 Dec 2026 10:00:01 GMT", "\r\nX-Request: 2"));
    second.execute(reply("Mon, 07 Dec 2026 10:00:01 GMT", "\r\nX-Request: 2"));
    const expected = { "content-type": "application/json", date: "Mon, 07 Dec 2026 10:00:00 GMT", "content-length": "0" };
    const changed = { ...expected, date: "Mon, 07 Dec 2026 10:00:01 GMT", "x-request": "2" };
    assert.deepEqual(headers, [expected, expected, expected, expected, changed, changed]);
    for (const parser of parsers) parser.free();
  });

  it("skips the body when told (HEAD, 204), completes a reply delimited by the end of the connection, and says why bytes are not HTTP", () => {
    const head = parserRecording(() => true);
    assert.equal(head.parser.execute(Buffer.from("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n")), undefined);
    assert.deepEqual(
      head.seen.map(([kind, status]) => (kind === "headers" ? status : kind)),
      [200, "complete", 204, "complete"],
    );

    const untilClose = parserRecording();
    assert.equal(untilClose.parser.execute(Buffer.from("HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nhello")), undefined);
    assert.deepEqual(untilClose.seen.at(-1), ["body", "hello"]);
    assert.equal(untilClose.parser.finish(), undefined);
    assert.deepEqual(untilClose.seen.at(-1), ["complete"]);

    const cutShort = parserRecording();
    cutShort.parser.execute(Buffer.from("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhel"));
    assert.match(cutShort.parser.finish() ?? "", /./);

    assert.match(parserRecording().parser.execute(Buffer.from("HTTP/1.1 abc\r\n\r\n")) ?? "", /status/i);
    assert.match(parserRecording().parser.execute(Buffer.from("HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n")) ?? "", /content-length/i);
  });

  it("refuses a header section past its limit instead of collecting it, however it is split", () => {
    const { parser, seen } = parserRecording();
    assert.equal(parser.execute(Buffer.from("HTTP/1.1 200 OK\r\nX-Endless: ")), undefined);
    const chunk = Buffer.alloc(16 * 1024, "a");
    let problem: string | undefined;
    for (let sent = 0; sent <= maxHeaderBytes && problem === undefined; sent += chunk.length) problem = parser.execute(chunk);
    assert.match(problem ?? "", /headers larger than 80 KiB/);
    assert.deepEqual(seen, []);
  });
});
