/**
 * The run events this process's listeners hear, in a process that keeps LOGS_DIR: an end that
 * another process announced (with Redis, a `sop worker` that keeps no audit files) reaches them
 * only once the run's final record is on disk here too. Whoever hears `run_finished` then finds
 * the file final wherever the run ended, as for the ends this process's engine makes, which it
 * tells only once written. Every other event passes at once.
 */
import type { RunEvent } from "../core/run/effects.ts";
import type { EventBus } from "../ports/event-bus.ts";

export interface EndsAfterFilesOptions {
  /** Whether this process's engine published the event (its ends are told once written already). */
  ownEvent: (event: RunEvent) => boolean;
  /** Until the run's final record is on disk here; rejects when the process gives up waiting (closing). */
  finalLanded: (runId: string) => Promise<void>;
  /** A listener that threw on an end it was handed late (the bus reports those it hands at once). */
  onError: (error: unknown, event: RunEvent) => void;
}

export function endsAfterTheirFiles(bus: EventBus, options: EndsAfterFilesOptions): EventBus {
  // One wait per end, however many listeners hear it.
  const waits = new WeakMap<RunEvent, Promise<boolean>>();
  const landed = (event: RunEvent): Promise<boolean> => {
    let wait = waits.get(event);
    if (wait === undefined) {
      wait = options.finalLanded(event.runId).then(() => true, () => false);
      waits.set(event, wait);
    }
    return wait;
  };
  return {
    publish: (event) => bus.publish(event),
    subscribe: (handler) => bus.subscribe((event) => {
      if (event.type !== "run_finished" || options.ownEvent(event)) {
        handler(event);
        return;
      }
      // Not on disk before the process closes: untold here, as for this engine's own ends.
      void landed(event).then((onDisk) => {
        if (!onDisk) return;
        try {
          handler(event);
        } catch (error) {
          options.onError(error, event);
        }
      });
    }),
    close: () => bus.close(),
  };
}
