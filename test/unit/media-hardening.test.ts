/** WAV headers checked in full before a sample is decoded, audio length capped (issue 26, defect 7). */
import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, it } from "node:test";
import { wavProblem } from "../../src/media/audio.js";
import { withTempDir } from "../helpers.js";

/** A RIFF/WAVE file with the given fmt fields and `dataBytes` of data. */
function wav(fields: { code?: number; channels?: number; rate?: number; bits?: number; blockAlign?: number; byteRate?: number }, dataBytes: number): Buffer {
  const { code = 1, channels = 1, rate = 8000, bits = 16 } = fields;
  const blockAlign = fields.blockAlign ?? (channels * bits) / 8;
  const byteRate = fields.byteRate ?? rate * blockAlign;
  const header = Buffer.alloc(44);
  header.write("RIFF", 0);
  header.writeUInt32LE(36 + dataBytes, 4);
  header.write("WAVE", 8);
  header.write("fmt ", 12);
  header.writeUInt32LE(16, 16);
  header.writeUInt16LE(code, 20);
  header.writeUInt16LE(channels, 22);
  header.writeUInt32LE(rate, 24);
  header.writeUInt32LE(byteRate, 28);
  header.writeUInt16LE(blockAlign, 32);
  header.writeUInt16LE(bits, 34);
  header.write("data", 36);
  header.writeUInt32LE(dataBytes, 40);
  return Buffer.concat([header, Buffer.alloc(dataBytes)]);
}

describe("WAV files are checked before they are played (issue 26, defect 7)", () => {
  it("refuses absurd channel counts, bit depths, inconsistent sizes and over-long audio with one line", async () => {
    await withTempDir(async (dir) => {
      const cases: [string, Buffer, RegExp | undefined][] = [
        ["fine.wav", wav({}, 1600), undefined],
        ["stereo.wav", wav({ channels: 2 }, 3200), undefined],
        ["channels.wav", wav({ channels: 65535, blockAlign: 2 }, 1600), /expected 1 to 8 channels in the WAV file, got 65535/],
        [
          "three-bit.wav",
          wav({ bits: 3, blockAlign: 1, byteRate: 8000 }, 1600),
          /expected 8, 16, 24, 32-bit samples for format code 1 in the WAV file, got 3-bit/,
        ],
        ["align.wav", wav({ blockAlign: 7 }, 1400), /block size \(7\) does not match 1 channel\(s\) of 16-bit samples \(2\)/],
        ["rate.wav", wav({ byteRate: 1 }, 1600), /byte rate \(1\) does not match 8000 Hz × 2 bytes \(16000\)/],
        ["ragged.wav", wav({}, 1601), /not a whole number of 2-byte frames/],
        ["long.wav", wav({ bits: 8, code: 7, rate: 8000 }, 8000 * 601), /the audio is 601 s long: at most 600 s/],
      ];
      for (const [name, bytes, expected] of cases) {
        const file = join(dir, name);
        await writeFile(file, bytes);
        const problem = await wavProblem(file);
        if (expected) assert.match(problem ?? "(none)", expected, name);
        else assert.equal(problem, undefined, name);
      }
    });
  });
});
