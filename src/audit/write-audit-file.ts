import { randomBytes } from "node:crypto";
import { close, fsync, open, rename as renameCallback, writeFile as writeFileCallback } from "node:fs";
import { mkdir, rm } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { promisify } from "node:util";

export interface WriteJsonOptions {
  /** What the file is, for error messages: `cannot write <what> <path>: …`. Default "file". */
  what?: string;
  /**
   * Default true: fsync the file and its folder. False keeps the write atomic (readers see the
   * old file or the new one) but lets the OS flush it later, for files rewritten often whose
   * truth lives elsewhere.
   */
  durable?: boolean;
  /** Readable by the owner only: the file 0600, folders it creates 0700 (state that may hold secrets). */
  private?: boolean;
}

/**
 * Writes `value` as pretty JSON (2-space indent, trailing newline) so that readers see either the
 * old file or the new one, never a part: a uniquely named temp file beside the target
 * (`.<name>.<pid>.<random><n>.tmp`), fsynced, renamed over the target, then the folder fsynced
 * (best-effort). Creates missing folders. On failure the temp file is removed and the Error names
 * the path and the cause, e.g. `cannot write audit file /x/y.json: ENOSPC: no space left on device`.
 */
export async function writeJsonAtomic(path: string, value: unknown, options: WriteJsonOptions = {}): Promise<void> {
  let text: string;
  try {
    text = serialize(value);
  } catch (error) {
    throw writeError(path, options, error);
  }
  await writeTextAtomic(path, text, options);
}

/**
 * Temp names: this process's pid and a random tag drawn once, then a counter. Unique across
 * processes that share a folder (containers may all be pid 1), and never reused within one.
 */
const TEMP_TAG = `${process.pid}.${randomBytes(6).toString("hex")}`;
let tempCount = 0;

// The callback API, not FileHandle: the same system calls, at some 40% less of the event loop's
// time per file (no handle objects to make, close and collect), which adds up at one file per run.
const writeFileFd = promisify(writeFileCallback);
const renamePath = promisify(renameCallback);

/** `writeJsonAtomic` for text already made (JSON lines, say): the same temp file, rename and errors. */
export async function writeTextAtomic(path: string, text: string, options: WriteJsonOptions = {}): Promise<void> {
  const dir = dirname(path);
  const temp = join(dir, `.${basename(path)}.${TEMP_TAG}${(tempCount++).toString(36)}.tmp`);
  const durable = options.durable !== false;
  // "wx": never reuse or clobber a file that happens to carry the temp name. `flush` fsyncs the
  // file before it is closed. The folder is made only when missing: files are rewritten far more
  // often than folders appear.
  const create = () => writeFileFd(temp, text, { encoding: "utf8", flag: "wx", mode: options.private ? 0o600 : 0o666, flush: durable });
  try {
    await create().catch(async (error: unknown) => {
      if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
      await mkdir(dir, { recursive: true, ...(options.private ? { mode: 0o700 } : {}) });
      return create();
    });
    await renamePath(temp, path);
  } catch (error) {
    // EEXIST: the temp name was someone else's file, left alone. Otherwise ours may be there, half written.
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") await rm(temp, { force: true }).catch(() => undefined);
    throw writeError(path, options, error);
  }
  if (durable) await syncDirectoryShared(dir);
}

function writeError(path: string, options: WriteJsonOptions, error: unknown): Error {
  return new Error(`cannot write ${options.what ?? "file"} ${path}: ${describe(error)}`, { cause: error });
}

/**
 * Group commit of folder fsyncs: a caller gets a promise for an fsync of `dir` that began after
 * the call (so after its rename), and callers that ask while one is under way share the next one.
 * A burst of files renamed into one folder costs two folder fsyncs at a time instead of one each,
 * and none of them resolves before its own rename is durable.
 */
export function sharedSyncs(sync: (dir: string) => Promise<void>): (dir: string) => Promise<void> {
  const folders = new Map<string, { running?: Promise<void>; next?: Promise<void> }>();
  const start = (dir: string, state: { running?: Promise<void>; next?: Promise<void> }): Promise<void> => {
    const running: Promise<void> = sync(dir).catch(() => undefined).finally(() => {
      if (state.running === running) delete state.running;
      if (state.running === undefined && state.next === undefined && folders.get(dir) === state) folders.delete(dir);
    });
    state.running = running;
    return running;
  };
  return (dir) => {
    let state = folders.get(dir);
    if (state === undefined) {
      state = {};
      folders.set(dir, state);
    }
    const { running } = state;
    if (running === undefined) return start(dir, state);
    // The fsync under way may have begun before this caller's rename: the one after it covers
    // this caller and everyone who asks meanwhile.
    const waiting = state;
    waiting.next ??= running.then(() => {
      delete waiting.next;
      return start(dir, waiting);
    });
    return waiting.next;
  };
}

const syncDirectoryShared = sharedSyncs(syncDirectory);

function serialize(value: unknown): string {
  // lib.d.ts says string, but undefined, a function or a symbol has no JSON form.
  const text = JSON.stringify(value, null, 2) as string | undefined;
  if (text === undefined) throw new TypeError("the value has no JSON form (undefined, a function or a symbol)");
  return `${text}\n`;
}

// Makes the rename itself durable. Some platforms cannot open or fsync a folder; the data is
// already safe in the file, so this is worth trying but not worth failing for.
function syncDirectory(dir: string): Promise<void> {
  return new Promise((resolve) => {
    open(dir, "r", (openError, fd) => {
      if (openError) return resolve(); // best-effort, see above
      fsync(fd, () => close(fd, () => resolve()));
    });
  });
}

// Node's messages end with the syscall and (temp) path, e.g. "ENOSPC: no space left on device,
// write" or "…, open '/x/.y.json.1.ab.tmp'"; the caller's path is already in our message.
function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const code = (error as NodeJS.ErrnoException).code;
  return typeof code === "string" ? error.message.replace(/, [a-z]+( '.*)?$/s, "") : error.message;
}
