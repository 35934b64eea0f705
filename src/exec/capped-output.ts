import { StringDecoder } from "node:string_decoder";
import { StreamRedactor } from "./redact.ts";

export interface CappedOutputOptions {
  /** Most bytes of output kept (UTF-8, after redaction): the first half and the last half. */
  capBytes: number;
  /** Values shown as `***`, also when split across chunks. */
  secrets?: readonly string[];
}

/**
 * Collects a command's output in constant memory: decodes UTF-8 across chunk boundaries,
 * redacts secrets, keeps the head and the tail of the result and counts the bytes between.
 */
export class CappedOutput {
  readonly #capBytes: number;
  readonly #headCap: number;
  /** Set when the head closes: whatever room the head's character-boundary cut left over. */
  #tailCap = 0;
  readonly #decoder = new StringDecoder("utf8");
  readonly #redactor: StreamRedactor;
  #head: Buffer[] = [];
  #headBytes = 0;
  #headClosed = false;
  /** Ring buffer of the latest bytes, allocated once the head is full. */
  #tail: Buffer | undefined;
  #tailStart = 0;
  #tailBytes = 0;
  #omitted = 0;
  #rendered: string | undefined;

  constructor(options: CappedOutputOptions) {
    const { capBytes } = options;
    if (!Number.isSafeInteger(capBytes) || capBytes < 0) {
      throw new RangeError(`capBytes must be a non-negative integer, got ${capBytes}`);
    }
    this.#headCap = Math.floor(capBytes / 2);
    this.#capBytes = capBytes;
    this.#redactor = new StreamRedactor(options.secrets ?? []);
  }

  /** Adds output as it arrives. Ignored once `finish` was called. */
  write(chunk: Uint8Array | string): void {
    if (this.#rendered !== undefined) return;
    // A string cannot continue a half-decoded character, so end any pending one first.
    const text = typeof chunk === "string" ? this.#decoder.end() + chunk : this.#decoder.write(chunk);
    this.#keep(this.#redactor.push(text));
  }

  /** Bytes dropped between head and tail so far. */
  get omittedBytes(): number {
    return this.#omitted;
  }

  /** Ends the input and renders `head`, or `head + marker + tail` when bytes were dropped. */
  finish(): string {
    if (this.#rendered !== undefined) return this.#rendered;
    this.#keep(this.#redactor.push(this.#decoder.end()) + this.#redactor.flush());
    let tail = this.#orderedTail();
    if (this.#omitted === 0) {
      this.#rendered = Buffer.concat([...this.#head, tail]).toString("utf8");
    } else {
      // The ring may start inside a character; drop its orphaned continuation bytes too.
      let skip = 0;
      while (skip < tail.length && isContinuationByte(tail[skip])) skip++;
      tail = tail.subarray(skip);
      this.#omitted += skip;
      const head = Buffer.concat(this.#head).toString("utf8");
      this.#rendered = `${head}\n… [${this.#omitted} bytes omitted] …\n${tail.toString("utf8")}`;
    }
    this.#head = [];
    this.#tail = undefined;
    return this.#rendered;
  }

  #keep(text: string): void {
    if (text === "") return;
    let bytes = Buffer.from(text, "utf8");
    if (!this.#headClosed) {
      const room = this.#headCap - this.#headBytes;
      if (bytes.length <= room) {
        this.#head.push(bytes);
        this.#headBytes += bytes.length;
        return;
      }
      // Cut on a character boundary so the head never ends in half a character.
      let cut = room;
      while (cut > 0 && isContinuationByte(bytes[cut])) cut--;
      // Copy, so the head does not pin the whole chunk in memory.
      this.#head.push(Buffer.from(bytes.subarray(0, cut)));
      this.#headBytes += cut;
      this.#headClosed = true;
      this.#tailCap = this.#capBytes - this.#headBytes;
      bytes = bytes.subarray(cut);
    }
    this.#appendTail(bytes);
  }

  #appendTail(bytes: Buffer): void {
    const cap = this.#tailCap;
    if (cap === 0) {
      this.#omitted += bytes.length;
      return;
    }
    const ring = (this.#tail ??= Buffer.alloc(cap));
    if (bytes.length >= cap) {
      this.#omitted += this.#tailBytes + bytes.length - cap;
      bytes.copy(ring, 0, bytes.length - cap);
      this.#tailStart = 0;
      this.#tailBytes = cap;
      return;
    }
    const overflow = Math.max(0, this.#tailBytes + bytes.length - cap);
    const writeAt = (this.#tailStart + this.#tailBytes) % cap;
    const firstPart = Math.min(bytes.length, cap - writeAt);
    bytes.copy(ring, writeAt, 0, firstPart);
    bytes.copy(ring, 0, firstPart);
    this.#omitted += overflow;
    this.#tailStart = (this.#tailStart + overflow) % cap;
    this.#tailBytes = Math.min(cap, this.#tailBytes + bytes.length);
  }

  #orderedTail(): Buffer {
    const ring = this.#tail;
    if (!ring) return Buffer.alloc(0);
    const end = this.#tailStart + this.#tailBytes;
    if (end <= ring.length) return ring.subarray(this.#tailStart, end);
    return Buffer.concat([ring.subarray(this.#tailStart), ring.subarray(0, end - ring.length)]);
  }
}

function isContinuationByte(byte: number | undefined): boolean {
  return byte !== undefined && (byte & 0xc0) === 0x80;
}
