/**
 * Reads one SOP.toml or SOP.md as text, or says why it can't: missing, not a regular file, too
 * large, binary, not UTF-8, unreadable. Synchronous on purpose: a thousand SOPs are two thousand
 * small files, which take ~30 ms this way and ~250 ms through fs.promises (four trips through
 * libuv's thread pool each); callers that must stay responsive read a batch at a time.
 */
import { closeSync, constants, fstatSync, openSync, readSync } from "node:fs";
import type { Diagnostic } from "../core/sop/types.ts";

/** Real SOP files are a few KiB; the cap keeps a hostile file from stalling a load. */
export const MAX_SOP_FILE_BYTES = 256 * 1024;

export type SopFileRead = { text: string } | { problem: Diagnostic } | { missing: true };

export function fileProblem(file: string, code: string, message: string, severity: Diagnostic["severity"] = "error"): Diagnostic {
  return { severity, file, line: 1, column: 1, code, message };
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

function tooLarge(file: string, bytes: number): { problem: Diagnostic } {
  const kib = Math.round(bytes / 1024);
  return { problem: fileProblem(file, "file-too-large", `file is ${kib} KiB; an SOP file may be at most ${MAX_SOP_FILE_BYTES / 1024} KiB`) };
}

/** The whole file, or undefined once it is past the cap (it may have grown since fstat). */
function readAll(fd: number, size: number): Buffer | undefined {
  let buffer = Buffer.allocUnsafe(Math.min(size, MAX_SOP_FILE_BYTES) + 1);
  let length = 0;
  for (;;) {
    const read = readSync(fd, buffer, length, buffer.length - length, null);
    if (read === 0) return buffer.subarray(0, length);
    length += read;
    if (length > MAX_SOP_FILE_BYTES) return undefined;
    if (length === buffer.length) {
      const bigger = Buffer.allocUnsafe(Math.min(buffer.length * 2, MAX_SOP_FILE_BYTES + 1));
      buffer.copy(bigger, 0, 0, length);
      buffer = bigger;
    }
  }
}

function failed(file: string, err: unknown): SopFileRead {
  if ((err as NodeJS.ErrnoException).code === "ENOENT") return { missing: true };
  return { problem: fileProblem(file, "unreadable", `cannot read file: ${(err as Error).message}`) };
}

export function readSopFile(file: string): SopFileRead {
  let fd: number;
  try {
    // Non-blocking, so that a FIFO named SOP.md is reported instead of hanging the load.
    fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (err) {
    return failed(file, err);
  }
  try {
    const info = fstatSync(fd);
    if (!info.isFile()) return { problem: fileProblem(file, "not-a-file", `${file} is not a regular file`) };
    if (info.size > MAX_SOP_FILE_BYTES) return tooLarge(file, info.size);
    const bytes = readAll(fd, info.size);
    if (bytes === undefined) return tooLarge(file, MAX_SOP_FILE_BYTES + 1);
    if (bytes.includes(0)) return { problem: fileProblem(file, "binary-file", "file is binary (it contains NUL bytes), not UTF-8 text") };
    try {
      return { text: utf8.decode(bytes).replace(/^\uFEFF/, "") };
    } catch {
      return { problem: fileProblem(file, "not-utf8", "file is not valid UTF-8 text") };
    }
  } catch (err) {
    return failed(file, err);
  } finally {
    closeSync(fd);
  }
}
