/** Step output is capped at 64 KiB (SPEC §4): head and tail kept, a marker between. */
export const OUTPUT_CAP_BYTES = 64 * 1024;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export function capOutput(text: string, cap = OUTPUT_CAP_BYTES): string {
  const bytes = encoder.encode(text);
  if (bytes.length <= cap) return text;
  const half = Math.floor(cap / 2);
  const head = decoder.decode(bytes.subarray(0, half));
  const tail = decoder.decode(bytes.subarray(bytes.length - half));
  return `${head}\n… [${bytes.length - 2 * half} bytes omitted] …\n${tail}`;
}
