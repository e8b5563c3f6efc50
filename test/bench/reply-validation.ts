/**
 * `node dist/test/bench/reply-validation.js`: the cost of checking one handler reply (issue 15), zod's
 * safeParse against the compiled acceptor and fastSafeParse, in µs per call — min / median / max over
 * BENCH_ROUNDS runs (default 7). Figures, never assertions: not part of `npm test`.
 */
import { performance } from "node:perf_hooks";
import { compileAcceptor, fastSafeParse } from "../../src/lib/compiled-schema.js";
import { nccoSchema } from "../../src/platforms/vonage/grammar.js";
import { instructionReplySchema } from "../../src/platforms/vwh/grammar.js";

const rounds = Math.max(1, Number(process.env.BENCH_ROUNDS ?? 7));
const callsPerRound = 200_000;

const cases = [
  {
    label: "vwh reply (speak + listen)",
    schema: instructionReplySchema,
    options: {},
    body: '{"instructions":[{"type":"speak","text":"Hello, how can I help?"},{"type":"listen"}]}',
  },
  {
    label: "Vonage NCCO (talk + input)",
    schema: nccoSchema,
    options: { anyKeyOrder: true },
    body: JSON.stringify([
      { action: "talk", text: "Thanks for calling Bright Smile Dental. How can I help?", bargeIn: true },
      { action: "input", type: ["dtmf", "speech"], dtmf: { maxDigits: 1 }, speech: { language: "en-US" }, eventUrl: ["https://example.test/webhooks/input"] },
    ]),
  },
];

/** µs per call of `check` over fresh JSON.parse results (as replies arrive), less the parse itself. */
function timePerCall(body: string, check: (value: unknown) => unknown): number {
  const values = Array.from({ length: 1000 }, () => JSON.parse(body) as unknown);
  let sink = 0;
  const start = performance.now();
  for (let i = 0; i < callsPerRound; i++) if (check(values[i % values.length])) sink++;
  const elapsed = performance.now() - start;
  if (sink === -1) console.log(sink);
  return (elapsed * 1000) / callsPerRound;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const spread = (values: number[]) => `${Math.min(...values).toFixed(3)} / ${median(values).toFixed(3)} / ${Math.max(...values).toFixed(3)} µs`;

for (const { label, schema, options, body } of cases) {
  const accept = compileAcceptor(schema, options);
  const parse = fastSafeParse(schema, options);
  if (!accept(JSON.parse(body))) throw new Error(`${label}: the acceptor refuses the benchmark reply`);
  const variants: [string, (value: unknown) => unknown][] = [
    ["zod safeParse", (value) => schema.safeParse(value, { reportInput: true }).success],
    ["compiled acceptor", accept],
    ["fastSafeParse", (value) => parse(value, { reportInput: true }).success],
  ];
  for (const [, check] of variants) timePerCall(body, check); // warm-up
  console.log(`${label} — min / median / max of ${rounds} rounds × ${callsPerRound} calls`);
  for (const [name, check] of variants) {
    const figures = Array.from({ length: rounds }, () => timePerCall(body, check));
    console.log(`  ${name.padEnd(18)} ${spread(figures)}`);
  }
}
