/**
 * The caller's audio for media streams (issue 17): 20 ms frames in the platform's encoding, from a WAV
 * recording (`audio` on a say step) or, without one, a deterministic tone pattern of the utterance's
 * spoken length — so runs need no text-to-speech and give the same bytes every time.
 * WAV parsing and resampling: `wavefile`; G.711 μ-law: `alawmulaw` (same author, what wavefile uses).
 */
import alawmulaw from "alawmulaw";
import wavefile from "wavefile";
import { InputError } from "../core/errors.js";
import { speechMs } from "../platforms/shared/timing.js";
import { FileTooLargeError, readBoundedFile } from "../files/json-file.js";

/** `mulaw`: G.711 μ-law, one byte a sample. `l16`: signed 16-bit little-endian PCM. */
export type Encoding = "mulaw" | "l16";

export interface AudioFormat {
  encoding: Encoding;
  sampleRate: number;
}

export const frameMs = 20;

export const samplesPerFrame = (format: AudioFormat): number => (format.sampleRate * frameMs) / 1000;
export const bytesPerSample = (format: AudioFormat): number => (format.encoding === "mulaw" ? 1 : 2);
export const bytesPerFrame = (format: AudioFormat): number => samplesPerFrame(format) * bytesPerSample(format);
/** How long encoded audio plays, in ms. */
export const durationMs = (bytes: number, format: AudioFormat): number => (bytes / bytesPerSample(format) / format.sampleRate) * 1000;

export function encode(samples: Int16Array, format: AudioFormat): Buffer {
  if (format.encoding === "mulaw") return Buffer.from(alawmulaw.mulaw.encode(samples));
  const bytes = Buffer.alloc(samples.length * 2);
  samples.forEach((sample, index) => bytes.writeInt16LE(sample, index * 2));
  return bytes;
}

export function decode(bytes: Buffer, format: AudioFormat): Int16Array {
  if (format.encoding === "mulaw") return alawmulaw.mulaw.decode(bytes);
  const samples = new Int16Array(Math.floor(bytes.length / 2));
  for (let index = 0; index < samples.length; index++) samples[index] = bytes.readInt16LE(index * 2);
  return samples;
}

/** A small stable hash of a word, so the same words always sound the same. */
function wordHash(word: string): number {
  let hash = 2166136261;
  for (const char of word) hash = Math.imul(hash ^ char.codePointAt(0)!, 16777619) >>> 0;
  return hash;
}

/**
 * Stand-in speech for a say step without a recording: as long as vwh's platform time for the text
 * (speechMs: 400 ms a word, at least 300 ms), one segment per word — a two-tone "vowel" (a pitch of
 * 110–250 Hz and an overtone of 600–1300 Hz picked by the word's hash, peaks near −7 dBFS), with 50 ms
 * of silence between words and none after the last, so the speech ends where the text's time does.
 * Deterministic: the same text gives the same samples.
 */
export function synthesizeSpeech(text: string, sampleRate: number): Int16Array {
  const total = Math.round((speechMs(text) * sampleRate) / 1000);
  const samples = new Int16Array(total);
  const words = text.trim().split(/\s+/).filter(Boolean);
  const segment = Math.round(total / Math.max(1, words.length));
  const voiced = Math.round(segment * 0.875);
  for (let index = 0; index < total; index++) {
    const word = Math.min(words.length - 1, Math.floor(index / segment));
    const within = index - Math.max(0, word) * segment;
    const end = word === words.length - 1 ? total - word * segment : voiced;
    if (within >= end) continue;
    const hash = wordHash(words[Math.max(0, word)] ?? "");
    const pitch = 110 + (hash % 15) * 10;
    const overtone = 600 + ((hash >>> 8) % 15) * 50;
    const t = index / sampleRate;
    // A short fade at both ends keeps the segments click-free.
    const envelope = Math.min(1, within / (sampleRate * 0.01), (end - within) / (sampleRate * 0.01));
    samples[index] = Math.round(envelope * (5500 * Math.sin(2 * Math.PI * pitch * t) + 2700 * Math.sin(2 * Math.PI * overtone * t)));
  }
  return samples;
}

const minSampleRate = 8000;
const maxSampleRate = 192_000;

type Wav = InstanceType<typeof wavefile.WaveFile>;

const maxChannels = 8;
/** A caller's turn is seconds long: ten minutes of audio is plenty, and bounds the samples decoded. */
export const maxAudioSeconds = 600;
const bitDepths: Record<number, readonly number[]> = { 1: [8, 16, 24, 32], 3: [32, 64], 6: [8], 7: [8], 0xfffe: [8, 16, 24, 32] };

/**
 * The rest of the header, checked before any sample is decoded (issue 26, defect 7): a channel count
 * or bit depth wavefile cannot convert crashed the call, and a long file took gigabytes once decoded.
 */
function headerProblem(wav: Wav, code: number): string | undefined {
  const fmt = wav.fmt as { numChannels: number; sampleRate: number; byteRate: number; blockAlign: number; bitsPerSample: number };
  const { numChannels: channels, bitsPerSample: bits, blockAlign, byteRate, sampleRate } = fmt;
  if (!(Number.isInteger(channels) && channels >= 1 && channels <= maxChannels))
    return `expected 1 to ${maxChannels} channels in the WAV file, got ${channels}`;
  const depths = bitDepths[code] ?? [];
  if (!depths.includes(bits)) return `expected ${depths.join(", ")}-bit samples for format code ${code} in the WAV file, got ${bits}-bit`;
  if (blockAlign !== (channels * bits) / 8)
    return `the WAV header's block size (${blockAlign}) does not match ${channels} channel(s) of ${bits}-bit samples (${(channels * bits) / 8})`;
  if (byteRate !== sampleRate * blockAlign)
    return `the WAV header's byte rate (${byteRate}) does not match ${sampleRate} Hz × ${blockAlign} bytes (${sampleRate * blockAlign})`;
  const data = wav.data as { chunkSize: number; samples: Uint8Array };
  if (data.samples.length % blockAlign !== 0) return `the WAV data (${data.samples.length} bytes) is not a whole number of ${blockAlign}-byte frames`;
  const seconds = data.samples.length / byteRate;
  if (seconds > maxAudioSeconds) return `the audio is ${Math.round(seconds)} s long: at most ${maxAudioSeconds} s (${maxAudioSeconds / 60} minutes) per file`;
  return undefined;
}

/** Reads and parses a WAV file; the problem as one line when it is not one vwh can play. */
async function readWav(file: string): Promise<{ wav: Wav; code: number } | { problem: string }> {
  let bytes: Buffer;
  try {
    bytes = await readBoundedFile(file);
  } catch (error) {
    if (error instanceof FileTooLargeError) return { problem: `cannot read the audio file: ${error.message}` };
    return { problem: `cannot read the audio file: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}` };
  }
  let wav: Wav;
  try {
    wav = new wavefile.WaveFile(bytes);
  } catch (error) {
    return { problem: `not a WAV file: ${(error as Error).message}` };
  }
  const { audioFormat: code, sampleRate } = wav.fmt as { audioFormat: number; sampleRate: number };
  // Resampling multiplies the samples by the ratio: a header claiming 1 Hz would turn a small file into gigabytes.
  if (!(sampleRate >= minSampleRate && sampleRate <= maxSampleRate))
    return { problem: `expected a sample rate from ${minSampleRate} to ${maxSampleRate} Hz in the WAV file, got ${sampleRate}` };
  // 1 = integer PCM, 3 = float PCM, 0xFFFE = extensible (PCM inside), 6/7 = G.711 A-law/μ-law.
  if (![1, 3, 6, 7, 0xfffe].includes(code)) return { problem: `expected PCM (or G.711) audio in the WAV file, got format code ${code}` };
  const problem = headerProblem(wav, code);
  return problem ? { problem } : { wav, code };
}

/** Whether a recording can be played; the problem otherwise (checked when the script loads). */
export async function wavProblem(file: string): Promise<string | undefined> {
  const read = await readWav(file);
  return "problem" in read ? read.problem : undefined;
}

/** Reads a WAV file (PCM, any rate, any channel count) as mono 16-bit samples at `sampleRate`. */
export async function loadWav(file: string, sampleRate: number): Promise<Int16Array> {
  const read = await readWav(file);
  if ("problem" in read) throw new InputError(`${file}: ${read.problem}`);
  const { wav, code } = read;
  const format = wav.fmt as { sampleRate: number };
  if (code === 7) wav.fromMuLaw();
  else if (code === 6) wav.fromALaw();
  // wavefile's default: cubic interpolation behind an IIR low-pass filter when downsampling (sinc is ~10× slower).
  if (format.sampleRate !== sampleRate) wav.toSampleRate(sampleRate);
  wav.toBitDepth("16");
  const channels = wav.getSamples(false, Int16Array) as unknown as Int16Array | Int16Array[];
  if (!Array.isArray(channels)) return channels;
  // Several channels: their average.
  const mono = new Int16Array(channels[0]?.length ?? 0);
  for (let index = 0; index < mono.length; index++)
    mono[index] = Math.round(channels.reduce((sum, channel) => sum + (channel[index] ?? 0), 0) / channels.length);
  return mono;
}

/** Cuts samples into 20 ms frames, the last one padded with silence. */
export function frames(samples: Int16Array, format: AudioFormat): Int16Array[] {
  const size = samplesPerFrame(format);
  const result: Int16Array[] = [];
  for (let start = 0; start < samples.length; start += size) {
    const frame = new Int16Array(size);
    frame.set(samples.subarray(start, Math.min(samples.length, start + size)));
    result.push(frame);
  }
  return result;
}
