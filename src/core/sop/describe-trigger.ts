import type { Trigger } from "./types.ts";

/** A trigger in a few words, the same in the CLI, the web UI and chat. */
export function describeTrigger(t: Trigger): string {
  switch (t.type) {
    case "command": return `command /${t.pattern}/`;
    case "file_watch": return `file ${t.event} ${t.path}`;
    case "schedule": return `schedule "${t.cron}"${t.timezone ? ` (${t.timezone})` : ""}`;
    case "manual": return "manual";
  }
}
