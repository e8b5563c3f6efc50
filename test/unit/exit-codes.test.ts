/**
 * Exit codes and error reports (issue 30): what each kind of error exits with, what reaches stderr and
 * --json's stdout, and that no message, hint or stack carries a secret — in process, through
 * reportError (what src/index.ts prints) and the real parser. The CLI's own exit codes over mixed runs
 * are in mixed-runs.test.ts.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { CommanderError } from "commander";
import { ExitCode, ExitError, InputError, NetworkError, UsageError, VwhError } from "../../src/core/errors.js";
import { forgetSecrets, redactSecrets, rememberConfiguredSecrets, rememberSecrets } from "../../src/core/secrets.js";
import { reportError } from "../../src/ui/report-error.js";
import { runInProcess, withFlowFile, flowWith } from "../helpers.js";

const plain = { json: false, debug: false };
const bugHint = "this is a bug in vwh: run again with --debug for the stack trace, and please report it";

describe("each error's exit code and report", () => {
  it("the exit codes are the documented numbers", () => {
    assert.deepEqual({ ...ExitCode }, { ok: 0, checkFailed: 1, badInput: 2, unreachable: 3, internal: 70, interrupted: 130 });
  });

  it("each error class carries its code, its message, its hint and its own name", () => {
    const cases: [VwhError, number, string][] = [
      [new UsageError("bad flag"), 2, "UsageError"],
      [new InputError("f.json: bad"), 2, "InputError"],
      [new NetworkError("refused"), 3, "NetworkError"],
      [new ExitError(1), 1, "ExitError"],
    ];
    for (const [error, code, name] of cases) {
      assert.equal(error.exitCode, code, name);
      assert.equal(error.name, name);
      assert.equal(error.hint, undefined, name);
      assert.ok(error instanceof VwhError && error instanceof Error);
    }
    assert.equal(new ExitError(130).message, "exit 130");
    assert.equal(new UsageError("u", "try this").hint, "try this");
    assert.equal(new InputError("i", "fix that").hint, "fix that");
    assert.equal(new NetworkError("n", "is it up?").hint, "is it up?");
    const cause = new Error("root");
    assert.equal(new VwhError("with cause", { exitCode: 3, cause }).cause, cause);
    assert.equal("cause" in new VwhError("without", { exitCode: 3 }), false);
  });

  it("a vwh error: one line and its hint on stderr, the same as JSON on stdout under --json, no stack", () => {
    const error = new NetworkError("could not reach http://127.0.0.1:9/", "is the handler running?");
    assert.deepEqual(reportError(error, plain), {
      exitCode: 3,
      stderr: "vwh: could not reach http://127.0.0.1:9/\n  hint: is the handler running?\n",
      stdout: "",
    });
    const json = reportError(error, { json: true, debug: false });
    assert.equal(json.stderr, "vwh: could not reach http://127.0.0.1:9/\n  hint: is the handler running?\n");
    assert.equal(
      json.stdout,
      `${JSON.stringify({ error: { message: "could not reach http://127.0.0.1:9/", hint: "is the handler running?", exit_code: 3 } })}\n`,
    );
    const noHint = reportError(new InputError("f.json: events[0]: expected an object"), { json: true, debug: false });
    assert.equal(noHint.stderr, "vwh: f.json: events[0]: expected an object\n");
    assert.deepEqual(JSON.parse(noHint.stdout), { error: { message: "f.json: events[0]: expected an object", hint: null, exit_code: 2 } });
    const debug = reportError(error, { json: false, debug: true });
    assert.match(
      debug.stderr,
      /^vwh: could not reach http:\/\/127\.0\.0\.1:9\/\n {2}hint: is the handler running\?\nNetworkError: could not reach[^]*\n {4}at /,
    );
  });

  it("an error already reported exits with its code and prints nothing (its stack only under --debug)", () => {
    assert.deepEqual(reportError(new ExitError(1), { json: true, debug: false }), { exitCode: 1, stderr: "", stdout: "" });
    const debug = reportError(new ExitError(3), { json: false, debug: true });
    assert.equal(debug.exitCode, 3);
    assert.match(debug.stderr, /^ExitError: exit 3\n {4}at /);
  });

  it("commander's errors exit 2 (it printed the line itself), its help and version exit 0", () => {
    for (const code of ["commander.helpDisplayed", "commander.version", "commander.help"]) {
      assert.deepEqual(reportError(new CommanderError(0, code, "(out)"), { json: true, debug: false }), { exitCode: 0, stderr: "", stdout: "" }, code);
    }
    const unknown = new CommanderError(1, "commander.unknownOption", "error: unknown option '--nope'");
    assert.deepEqual(reportError(unknown, plain), { exitCode: 2, stderr: "", stdout: "" });
    assert.deepEqual(JSON.parse(reportError(unknown, { json: true, debug: false }).stdout), {
      error: { message: "unknown option '--nope'", hint: "add --help for usage", exit_code: 2 },
    });
    // Only commander's own prefix goes: the same words later in the message stay.
    const quoted = new CommanderError(1, "commander.invalidArgument", "option '--url <url>' argument 'error: x' is invalid.");
    assert.equal(
      (JSON.parse(reportError(quoted, { json: true, debug: false }).stdout) as { error: { message: string } }).error.message,
      "option '--url <url>' argument 'error: x' is invalid.",
    );
  });

  it("anything else is a bug in vwh: exit 70, its first line, the hint to report it; the stack instead under --debug", () => {
    const bug = new TypeError("x is not a function\nsecond line");
    assert.deepEqual(reportError(bug, plain), { exitCode: 70, stderr: `vwh: internal error: x is not a function\n  hint: ${bugHint}\n`, stdout: "" });
    assert.deepEqual(JSON.parse(reportError(bug, { json: true, debug: false }).stdout), {
      error: { message: "internal error: x is not a function", hint: bugHint, exit_code: 70 },
    });
    const debug = reportError(bug, { json: false, debug: true });
    assert.match(debug.stderr, /^vwh: internal error: x is not a function\nTypeError: x is not a function\nsecond line\n {4}at /);
    assert.doesNotMatch(debug.stderr, /hint:/);
    assert.equal(reportError("a thrown string", plain).stderr, `vwh: internal error: a thrown string\n  hint: ${bugHint}\n`);
    assert.equal(reportError("", plain).stderr, `vwh: internal error: \n  hint: ${bugHint}\n`);
  });
});

describe("no error report carries a secret (issue 30)", () => {
  const secret = "hmac-key-0123456789abcdef";

  it("masks the message, the hint, the JSON and the stack of a vwh error", () => {
    forgetSecrets();
    try {
      rememberSecrets([secret]);
      const error = new UsageError(`--secret ${secret} is too short`, `did you mean "${secret}"? or whsec_AAAAAAAAAAAAAAAA`);
      for (const context of [plain, { json: true, debug: true }]) {
        const report = reportError(error, context);
        const printed = report.stderr + report.stdout;
        assert.ok(!printed.includes(secret.slice(0, 10)), printed);
        assert.ok(!printed.includes("whsec_AAAA"), printed);
        assert.match(report.stderr, /^vwh: --secret \[secret\] is too short\n {2}hint: did you mean "\[secret\]"\? or \[secret\]\n/);
      }
      const commander = reportError(new CommanderError(1, "commander.invalidArgument", `error: option '--timeout <ms>' argument '${secret}' is invalid.`), {
        json: true,
        debug: false,
      });
      assert.ok(!commander.stdout.includes(secret.slice(0, 10)), commander.stdout);
      const bug = reportError(new Error(`boom ${secret}`), { json: true, debug: true });
      assert.ok(!(bug.stdout + bug.stderr).includes(secret.slice(0, 10)), bug.stderr);
      assert.match(bug.stderr, /^vwh: internal error: boom \[secret\]\nError: boom \[secret\]\n/);
    } finally {
      forgetSecrets();
    }
  });

  it("--secret-env given a secret shaped like a variable name (sk_live_…) does not echo it", async () => {
    forgetSecrets();
    try {
      await withFlowFile(flowWith([{ event_type: "call.ended" }]), async (file) => {
        for (const args of [["--json"], []]) {
          const run = await runInProcess(["simulate", file, "--url", "http://127.0.0.1:9/", "--secret-env", "sk_live_abcdef123456", ...args]);
          assert.equal(run.code, 2, run.stderr);
          const printed = run.stdout + run.stderr;
          assert.match(printed, /no signing secret: pass --secret or set \[secret\] or VWH_SECRET/);
          assert.ok(!printed.includes("sk_live_abcdef"), printed);
        }
      });
    } finally {
      forgetSecrets();
    }
  });

  it("a conventional variable name that is not set is named; one that is set is never the secret", () => {
    forgetSecrets();
    try {
      rememberConfiguredSecrets(
        { AGENT_SECRET: "value-of-the-agent-secret" },
        [],
        ["AGENT_SECRET", "MISSING_SECRET", "sk_live_abcdef123456", "webhook_key_2024"],
      );
      assert.equal(redactSecrets("set AGENT_SECRET or MISSING_SECRET"), "set AGENT_SECRET or MISSING_SECRET");
      assert.equal(redactSecrets("got value-of-the-agent-secret"), "got [secret]");
      assert.equal(redactSecrets("set sk_live_abcdef123456"), "set [secret]");
      assert.equal(redactSecrets("set webhook_key_2024"), "set [secret]");
    } finally {
      forgetSecrets();
    }
  });
});
