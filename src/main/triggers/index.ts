/**
 * The armed `file_watch` and `schedule` triggers of the loaded SOPs. `sync` after every reload
 * keeps the ones that did not change (so a watcher never misses events while an unrelated SOP
 * is edited), closes those that went away and arms the new ones.
 */
import type { SopDefinition, Trigger } from "../../core/sop/types.ts";
import { armFileWatch, type ArmedTrigger } from "./file-watch.ts";
import { armSchedule } from "./schedule.ts";
import type { TriggerContext } from "./trigger-context.ts";

type Armable = Extract<Trigger, { type: "file_watch" | "schedule" }>;

export class TriggerSet {
  private readonly armed = new Map<string, { type: Armable["type"]; trigger: ArmedTrigger }>();

  constructor(private readonly ctx: TriggerContext, private readonly sopsDir: string) {}

  async sync(defs: readonly SopDefinition[]): Promise<void> {
    // With Redis the queue keeps the schedules (each tick fires once across processes).
    const queueSchedules = await this.ctx.runner.syncSchedules(defs);
    const wanted = new Map<string, { sop: string; trigger: Armable }>();
    for (const def of defs) {
      for (const t of def.triggers) {
        if (t.type === "file_watch" || (t.type === "schedule" && !queueSchedules)) wanted.set(`${def.name}\u0000${JSON.stringify(t)}`, { sop: def.name, trigger: t });
      }
    }
    for (const [key, { trigger }] of [...this.armed]) {
      if (wanted.has(key)) continue;
      this.armed.delete(key);
      await trigger.close();
    }
    for (const [key, { sop, trigger }] of wanted) {
      if (this.armed.has(key)) continue;
      try {
        const armed = trigger.type === "schedule" ? armSchedule(this.ctx, sop, trigger) : await armFileWatch(this.ctx, sop, trigger, this.sopsDir);
        this.armed.set(key, { type: trigger.type, trigger: armed });
      } catch (err) {
        this.ctx.log.error({ sop, trigger: trigger.type, err }, `cannot arm the ${trigger.type} trigger of ${sop}: ${(err as Error).message}`);
      }
    }
  }

  counts(): { schedule: number; file_watch: number } {
    const all = [...this.armed.values()];
    return { schedule: all.filter((a) => a.type === "schedule").length, file_watch: all.filter((a) => a.type === "file_watch").length };
  }

  async close(): Promise<void> {
    const all = [...this.armed.values()];
    this.armed.clear();
    await Promise.all(all.map((a) => a.trigger.close()));
  }
}
