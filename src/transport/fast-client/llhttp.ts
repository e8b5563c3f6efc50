/**
 * HTTP/1.1 response parsing for the fast client with llhttp, the parser node's http and undici use,
 * as undici ships it compiled to WebAssembly (undici is a dependency already; its package has no
 * exports map, so its lib/llhttp files load by path). Measured against http-parser-js in load mode, it
 * took ~1 µs less per reply. One WebAssembly instance serves every connection: `execute` runs
 * synchronously, so the callbacks know whose bytes they are reading from `current`.
 */
import { createRequire } from "node:module";
import { withoutTrailingWhitespace } from "../../lib/field-value.js";

interface LlhttpExports {
  memory: { buffer: ArrayBuffer };
  malloc(size: number): number;
  free(pointer: number): void;
  llhttp_alloc(type: number): number;
  llhttp_free(parser: number): void;
  llhttp_execute(parser: number, data: number, length: number): number;
  llhttp_finish(parser: number): number;
  llhttp_get_error_reason(parser: number): number;
}

export interface ResponseEvents {
  /** Status line and headers read (names lower-case, repeats joined with ", "); 1 means "no body follows". */
  onHeaders(status: number, headers: Record<string, string>, keepAlive: boolean): 0 | 1;
  onBody(chunk: Buffer): void;
  onComplete(): void;
}

// The few WebAssembly entry points used (the project's TypeScript libs carry no WebAssembly types).
interface WebAssemblyApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: Record<string, Record<string, (...args: number[]) => number>>) => { exports: unknown };
}
const { Module, Instance } = (globalThis as unknown as { WebAssembly: WebAssemblyApi }).WebAssembly;

const require = createRequire(import.meta.url);
const responseType = (require("undici/lib/llhttp/constants.js") as { TYPE: { RESPONSE: number } }).TYPE.RESPONSE;
const okCode = 0;
// A reply's header section may not grow past this (http-parser-js's limit, which this parser replaced):
// a handler that never ends its headers must not fill memory before the timeout.
export const maxHeaderBytes = 80 * 1024;

let instance: LlhttpExports | undefined;
/** The parser whose bytes `execute` is reading, and those bytes (callbacks give offsets into wasm memory). */
let current: ResponseParser | undefined;
let currentData: Buffer = Buffer.alloc(0);
let dataPointer = 0;
let dataCapacity = 0;
/** A Buffer over the instance's memory (made again when the memory grows). */
let memory: Buffer = Buffer.alloc(0);

function llhttp(): LlhttpExports {
  if (instance) return instance;
  const module = new Module(require("undici/lib/llhttp/llhttp-wasm.js") as Buffer);
  const created = new Instance(module, {
    env: {
      wasm_on_url: () => 0,
      wasm_on_status: () => 0,
      wasm_on_message_begin: () => current!.messageBegin(),
      wasm_on_header_field: (_parser: number, at: number, length: number) => current!.headerPiece(fieldPiece, at - dataPointer, length),
      wasm_on_header_value: (_parser: number, at: number, length: number) => current!.headerPiece(valuePiece, at - dataPointer, length),
      wasm_on_headers_complete: (_parser: number, status: number, _upgrade: number, keepAlive: number) => current!.headersComplete(status, keepAlive === 1),
      wasm_on_body: (_parser: number, at: number, length: number) => current!.body(currentData.subarray(at - dataPointer, at - dataPointer + length)),
      wasm_on_message_complete: () => current!.messageComplete(),
    },
  });
  instance = created.exports as unknown as LlhttpExports;
  return instance;
}

/** The last header section read whole (by any parser) and the headers it gave. */
let lastSection = "";
/** Kept once the section has repeated: a handler whose every section differs costs no copy. */
let lastHeaders: Record<string, string> | undefined;

const fieldPiece = 0;
const valuePiece = 1;

export class ResponseParser {
  private readonly exports = llhttp();
  private pointer: number;
  /**
   * The header section's pieces as llhttp reports them (a name or value, or part of one split across
   * reads): kind, and either offsets into the bytes being read or, once those bytes are gone, the text.
   * Decoded at the end of the section as one string: one latin1 decode per reply instead of one per
   * piece (ten, for node's five headers), each a call into C++.
   */
  private readonly kinds: number[] = [];
  private readonly starts: number[] = [];
  private readonly ends: number[] = [];
  private readonly texts: (string | undefined)[] = [];
  private pieces = 0;
  private headerBytes = 0;
  /** Why a callback stopped the parser (llhttp only knows that one did). */
  private failure: string | undefined;

  constructor(private readonly events: ResponseEvents) {
    this.pointer = this.exports.llhttp_alloc(responseType);
  }

  /** Reads the first `length` bytes of `data`; returns why they are not HTTP, if they are not. */
  execute(data: Buffer, length = data.length): string | undefined {
    const { exports } = this;
    if (this.pointer === 0) return "the parser was freed";
    if (length > dataCapacity) {
      if (dataPointer) exports.free(dataPointer);
      dataCapacity = Math.ceil(length / 4096) * 4096;
      dataPointer = exports.malloc(dataCapacity);
    }
    // After malloc, since memory may have grown (and its old ArrayBuffer been detached).
    if (memory.buffer !== exports.memory.buffer) memory = Buffer.from(exports.memory.buffer);
    data.copy(memory, dataPointer, 0, length);
    // Written out, not through a helper taking a closure: this runs for every read.
    const outer = current;
    const outerData = currentData;
    current = this;
    currentData = data;
    let code: number;
    try {
      code = exports.llhttp_execute(this.pointer, dataPointer, length);
      // A header section split across reads: its pieces so far are kept as text (the next read overwrites these bytes).
      if (this.pieces > 0) this.keepPieces();
    } finally {
      current = outer;
      currentData = outerData;
    }
    return code === okCode ? undefined : (this.failure ?? this.reason(code));
  }

  /** The connection ended: completes a reply delimited by the end of the connection, or says why it can't. */
  finish(): string | undefined {
    if (this.pointer === 0) return undefined;
    const outer = current;
    current = this;
    let code: number;
    try {
      code = this.exports.llhttp_finish(this.pointer);
    } finally {
      current = outer;
    }
    return code === okCode ? undefined : (this.failure ?? this.reason(code));
  }

  free(): void {
    if (this.pointer !== 0) this.exports.llhttp_free(this.pointer);
    this.pointer = 0;
  }

  private reason(code: number): string {
    const { exports } = this;
    const pointer = exports.llhttp_get_error_reason(this.pointer);
    if (pointer === 0) return `llhttp error ${code}`;
    const memory = new Uint8Array(exports.memory.buffer);
    const end = memory.indexOf(0, pointer);
    return Buffer.from(memory.buffer, pointer, end - pointer).toString("latin1");
  }

  messageBegin(): number {
    this.pieces = 0;
    this.headerBytes = 0;
    return 0;
  }

  /** A name (kind 0) or value (kind 1), or part of one, at `start` in the bytes being read. */
  headerPiece(kind: number, start: number, length: number): number {
    this.headerBytes += length;
    if (this.headerBytes > maxHeaderBytes) {
      this.failure = `headers larger than ${maxHeaderBytes / 1024} KiB`;
      return -1;
    }
    const index = this.pieces++;
    this.kinds[index] = kind;
    this.starts[index] = start;
    this.ends[index] = start + length;
    this.texts[index] = undefined;
    return 0;
  }

  private keepPieces(): void {
    for (let index = 0; index < this.pieces; index++)
      if (this.texts[index] === undefined) this.texts[index] = currentData.toString("latin1", this.starts[index], this.ends[index]);
  }

  headersComplete(status: number, keepAlive: boolean): number {
    const headers = this.headerObject();
    this.pieces = 0;
    return this.events.onHeaders(status, headers, keepAlive);
  }

  /**
   * Lower-case names and repeated values joined with ", ", as undici gives them; trailing whitespace is trimmed
   * (RFC 9110 §5.5: not part of the value), which undici's `request` keeps.
   */
  private headerObject(): Record<string, string> {
    const headers: Record<string, string> = {};
    const count = this.pieces;
    if (count === 0) return headers;
    // The pieces read from these bytes lie between the first and the last of them.
    let first = -1;
    let last = -1;
    for (let index = 0; index < count; index++) {
      if (this.texts[index] !== undefined) continue;
      if (first === -1) first = this.starts[index]!;
      last = this.ends[index]!;
    }
    const section = first === -1 ? "" : currentData.toString("latin1", first, last);
    // A handler sends the same header section reply after reply (node's changes with its Date, once a second):
    // the object is a function of the section's text, so a repeat gets a copy of the last one.
    const whole = this.texts[0] === undefined;
    const repeated = whole && section === lastSection;
    if (repeated && lastHeaders !== undefined) return Object.assign({}, lastHeaders);
    let field = "";
    let value = "";
    let inValue = false;
    for (let index = 0; index < count; index++) {
      const piece = this.texts[index] ?? section.slice(this.starts[index]! - first, this.ends[index]! - first);
      if (this.kinds[index] === valuePiece) {
        value += piece;
        inValue = true;
        continue;
      }
      if (inValue) {
        addHeader(headers, field, value);
        field = "";
        value = "";
        inValue = false;
      }
      field += piece;
    }
    if (inValue || field) addHeader(headers, field, value);
    if (repeated) {
      // Its own copy: the one handed on is the caller's to change.
      lastHeaders = Object.assign({}, headers);
    } else if (whole) {
      lastSection = section;
      lastHeaders = undefined;
    }
    return headers;
  }

  body(chunk: Buffer): number {
    this.events.onBody(chunk);
    return 0;
  }

  messageComplete(): number {
    this.events.onComplete();
    return 0;
  }
}

function addHeader(headers: Record<string, string>, field: string, value: string): void {
  const name = lowerCaseName(field);
  const trimmed = withoutTrailingWhitespace(value);
  const previous = headers[name];
  headers[name] = previous === undefined ? trimmed : `${previous}, ${trimmed}`;
}

/** Lower-cased header names by their spelling on the wire (a handler sends the same few on every reply). */
const lowerCaseNames = new Map<string, string>();
function lowerCaseName(field: string): string {
  let name = lowerCaseNames.get(field);
  if (name === undefined) {
    name = field.toLowerCase();
    if (lowerCaseNames.size < 256) lowerCaseNames.set(field, name);
  }
  return name;
}
