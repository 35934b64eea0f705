/**
 * Errors at the boundary carry a code; the CLI maps codes to exit status, HTTP to a status code.
 */
export type SopErrorCode =
  | "unknown_sop" | "unknown_run" | "cooldown" | "not_allowed" | "nothing_waiting" | "ambiguous"
  | "invalid" | "finished" | "stale" | "already_decided" | "duplicate" | "self_approval" | "not_waiting"
  /** A trigger fired while its SOP had `max_concurrent` runs going (`refuseWhenBusy`). */
  | "max_concurrent";

export class SopError extends Error {
  override name = "SopError";
  constructor(
    readonly code: SopErrorCode,
    message: string,
    readonly details: { retryAfterSecs?: number; runs?: { id: string; status: string; waiting?: string; waitingIndex?: number }[] } = {},
  ) {
    super(message);
  }
}
