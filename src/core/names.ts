/**
 * What a name may be, said once: every layer that takes an SOP name or a run id from outside
 * (folders, SOP.toml, the API, web paths, chat words, CLI arguments) checks it against these.
 */

/** An SOP's name: its folder's name and `[sop] name`; safe in a path, a URL and a Redis key. */
export const SOP_NAME = /^[a-z0-9][a-z0-9_-]{0,63}$/;

/** Any run id the store may hold (a library user may choose its own ids): safe in a path and a URL. */
export const RUN_ID = /^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$/;

/**
 * The ids the bot makes (UUIDs). Where a word may be a run id or something else — `/approve NAME
 * [RUN_ID] [comment]`, `sop cancel NAME|RUN_ID` — only a word of this shape names a run.
 */
export const RUN_ID_SHAPE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
