/**
 * Prometheus metrics of the bot (`GET /metrics`). Counters and histograms are fed from run
 * events; gauges of what waits now (queued runs, pending approvals, runs in progress) are read
 * from the store at scrape time, so they are right after a restart too.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import type { Logger } from "../app/logger.ts";
import type { RunAdmission } from "../app/run-admission.ts";
import type { SopRunner } from "../app/sop-runner.ts";
import type { RunEvent } from "../core/run/effects.ts";
import { isTerminal, OPEN_STATUSES, type RunState } from "../core/run/run-state.ts";

/** What the metrics read of a runner: its events and admissions as they come, its SOPs and open runs at a scrape. */
export type MetricsSource = Pick<SopRunner, "events" | "onAdmission" | "list" | "runs" | "run">;

/** What chat adapters report; starts and refusals come from the runner's admissions. */
export interface MetricsSink {
  /** A chat message or notification could not be delivered. */
  notificationFailed(platform: string): void;
}

const SNAPSHOT_MS = 500;

export class BotMetrics implements MetricsSink {
  readonly registry = new Registry();
  private snapshotAt = 0;
  private snapshotRuns: Promise<RunState[]> | undefined;

  private readonly runsTotal = new Counter({
    name: "sop_runs_total", help: "Runs that ended, by SOP and final status", labelNames: ["sop", "status"] as const, registers: [this.registry],
  });
  private readonly runDuration = new Histogram({
    name: "sop_run_duration_seconds", help: "Run duration from start to end", labelNames: ["sop", "status"] as const,
    buckets: [1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600, 7200, 21600], registers: [this.registry],
  });
  private readonly stepDuration = new Histogram({
    name: "sop_step_duration_seconds", help: "Duration of steps that ran, by SOP and step status", labelNames: ["sop", "status"] as const,
    buckets: [0.05, 0.1, 0.5, 1, 5, 15, 30, 60, 300, 900, 3600], registers: [this.registry],
  });
  private readonly approvalWait = new Histogram({
    name: "sop_approval_wait_seconds", help: "Time from an approval request to its decision", labelNames: ["sop", "decision"] as const,
    buckets: [5, 30, 60, 300, 900, 1800, 3600, 14400, 86400], registers: [this.registry],
  });
  private readonly approvalsRefused = new Counter({
    name: "sop_approvals_refused_total", help: "Approve/deny attempts refused (not an approver, self-approval)", labelNames: ["sop"] as const, registers: [this.registry],
  });
  private readonly runsAccepted = new Counter({
    name: "sop_runs_accepted_total", help: "Runs accepted, by SOP, trigger type and where the request came from (web, api, cli, slack, discord, schedule …)",
    labelNames: ["sop", "trigger", "via"] as const, registers: [this.registry],
  });
  private readonly runsRefused = new Counter({
    name: "sop_runs_refused_total", help: "Runs not accepted, by reason (cooldown, max_concurrent, not_allowed …) and where they came from",
    labelNames: ["sop", "reason", "trigger"] as const, registers: [this.registry],
  });
  private readonly triggerFirings = new Counter({
    name: "sop_trigger_firings_total", help: "Trigger firings by type and outcome", labelNames: ["type", "sop", "outcome"] as const, registers: [this.registry],
  });
  private readonly notificationFailures = new Counter({
    name: "sop_notification_failures_total", help: "Chat notifications that could not be delivered", labelNames: ["platform"] as const, registers: [this.registry],
  });

  constructor(private readonly runner: MetricsSource, private readonly log: Logger) {
    collectDefaultMetrics({ register: this.registry });
    // Gauges' collect() runs with the gauge as `this`; these reach the bot's state.
    const runs = () => this.runs();
    const sopNames = () => this.sopNames();
    new Gauge({
      name: "sop_pending_approvals", help: "Approvals and manual steps waiting for a person", labelNames: ["sop", "kind"] as const, registers: [this.registry],
      async collect() {
        this.reset();
        for (const sop of sopNames()) for (const kind of ["approval", "manual"]) this.set({ sop, kind }, 0);
        for (const run of await runs()) {
          for (const c of run.checkpoints) if (c.status === "pending") this.inc({ sop: run.sop, kind: c.kind });
        }
      },
    });
    new Gauge({
      name: "sop_queued_runs", help: "Runs accepted and waiting for a slot (max_concurrent) or a worker", labelNames: ["sop"] as const, registers: [this.registry],
      async collect() {
        this.reset();
        for (const sop of sopNames()) this.set({ sop }, 0);
        for (const run of await runs()) if (run.status === "queued") this.inc({ sop: run.sop });
      },
    });
    new Gauge({
      name: "sop_runs_in_progress", help: "Runs not ended yet, by SOP and status", labelNames: ["sop", "status"] as const, registers: [this.registry],
      async collect() {
        this.reset();
        for (const sop of sopNames()) for (const status of OPEN_STATUSES) this.set({ sop, status }, 0);
        for (const run of await runs()) if (!isTerminal(run.status)) this.inc({ sop: run.sop, status: run.status });
      },
    });
  }

  /** Listen to the runner's events and admissions; returns the function that stops listening. */
  start(): () => void {
    const stopEvents = this.runner.events.subscribe((event) => {
      this.onEvent(event).catch((err: unknown) => this.log.warn({ err, event: event.type }, "metrics: could not record an event"));
    });
    const stopAdmissions = this.runner.onAdmission((a) => this.onAdmission(a));
    return () => {
      stopEvents();
      stopAdmissions();
    };
  }

  /** Every start, however it was asked for: accepted or refused, and for triggers their firings. */
  private onAdmission(a: RunAdmission): void {
    if (a.accepted) this.runsAccepted.inc({ sop: a.sop, trigger: a.trigger, via: a.via });
    else this.runsRefused.inc({ sop: a.sop, reason: a.code, trigger: a.trigger });
    if (a.trigger !== "manual") this.triggerFirings.inc({ type: a.trigger, sop: a.sop, outcome: a.accepted ? "started" : "refused" });
  }

  notificationFailed(platform: string): void {
    this.notificationFailures.inc({ platform });
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }

  private sopNames(): string[] {
    return this.runner.list().map((s) => s.name);
  }

  /** One store read serves every gauge of a scrape. */
  private runs(): Promise<RunState[]> {
    const now = Date.now();
    if (!this.snapshotRuns || now - this.snapshotAt > SNAPSHOT_MS) {
      this.snapshotAt = now;
      this.snapshotRuns = this.runner.runs({ statuses: OPEN_STATUSES });
    }
    return this.snapshotRuns;
  }

  private async onEvent(event: RunEvent): Promise<void> {
    const { sop } = event;
    switch (event.type) {
      case "approval_refused":
        this.approvalsRefused.inc({ sop });
        return;
      case "run_finished": {
        const { status } = event;
        this.runsTotal.inc({ sop, status });
        // Timed from its start, or its queueing when it never started; an earlier version's event is read.
        const start = event.startedAt ?? event.queuedAt ?? (await this.startOf(event.runId));
        if (start !== undefined) this.runDuration.observe({ sop, status }, (event.at - start) / 1000);
        return;
      }
      case "step_finished": {
        if (event.status === "skipped" || event.status === "bypassed") return;
        const start = event.startedAt ?? (await this.runner.run(event.runId))?.run.steps[event.step - 1]?.startedAt;
        if (start !== undefined) this.stepDuration.observe({ sop, status: event.status }, (event.at - start) / 1000);
        return;
      }
      case "approval_decided": {
        if (event.status === "partial" || event.status === "bypassed") return;
        const asked = event.requestedAt ?? (await this.askedAt(event.runId, event.checkpoint));
        if (asked !== undefined) this.approvalWait.observe({ sop, decision: event.status }, (event.at - asked) / 1000);
        return;
      }
      default:
        return;
    }
  }

  private async startOf(runId: string): Promise<number | undefined> {
    const run = (await this.runner.run(runId))?.run;
    return run?.startedAt ?? run?.queuedAt;
  }

  /** When a checkpoint decided by time (or told by an earlier version) was asked: from the run, if a decision time is on record. */
  private async askedAt(runId: string, checkpoint: string): Promise<number | undefined> {
    const cp = (await this.runner.run(runId))?.run.checkpoints.find((c) => c.id === checkpoint);
    return cp?.decidedAt === undefined ? undefined : cp.requestedAt;
  }
}
