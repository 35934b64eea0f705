/**
 * One step's settings from its attribute group and its bullets (SPEC §2.2): each key set once,
 * each value validated, ZeroClaw's spellings read for what they mean, and every bullet that
 * changes nothing named as such.
 */
import { positionAt, report, type ProcedureContext } from "./procedure-context.ts";
import { shorten, type AttributeToken } from "./step-attributes.ts";
import {
  closestAttribute,
  defaultStepOptions,
  isStepAttribute,
  setStepOption,
  unknownAttributeMessage,
  type StepAttribute,
  type StepOptions,
} from "./step-options.ts";
import { attributeKey, bulletWithoutEffect, kindWithoutEffect, stepKind } from "./zeroclaw-keys.ts";

/** A bullet that changes nothing, reported once for every step that has it (see reportUnusedBullets). */
export interface UnusedBullet {
  step: number;
  offset: number;
  code: string;
  /** The warning, with `where` (" (here and in steps 3 and 5)") after the key. */
  message: (where: string) => string;
}

/** Where a key was set: the key and `key: value` as written there. */
export interface Setting {
  offset: number;
  key: string;
  written: string;
}

/** One step's attributes from its group and bullets: each key once, each value validated. */
export class StepSettings {
  readonly options: StepOptions = defaultStepOptions();
  /** A Map, so a bullet named `__proto__` is just a key (Object.fromEntries keeps it one). */
  readonly metadata = new Map<string, string>();
  readonly unused: UnusedBullet[] = [];
  /** Canonical key → where it was set and how it was written there (`kind: checkpoint` sets manual). */
  private readonly seen = new Map<string, Setting>();

  constructor(
    private readonly ctx: ProcedureContext,
    private readonly step: number,
  ) {}

  /** Where `key` was set and its `key: value` as written, if it was. */
  setAt(key: string): Setting | undefined {
    return this.seen.get(key);
  }

  fromGroup(attribute: AttributeToken): void {
    const key = attributeKey(attribute.key);
    if (isStepAttribute(key)) this.set(key, attribute);
    else report(this.ctx, "warning", "unknown-attribute", attribute.keyOffset, unknownAttributeMessage(attribute.key));
  }

  fromBullet(attribute: AttributeToken): void {
    const key = attributeKey(attribute.key);
    if (isStepAttribute(key)) {
      this.set(key, attribute);
      return;
    }
    if (key === "kind") {
      this.kind(attribute);
      return;
    }
    if (!this.claim(key, attribute)) return;
    this.metadata.set(key, attribute.value);
    const near = attribute.key.length >= 4 ? closestAttribute(attribute.key) : undefined;
    this.unused.push({
      step: this.step,
      offset: attribute.keyOffset,
      code: near ? "metadata-like-attribute" : "bullet-without-effect",
      message: (where) => bulletWithoutEffect(attribute.key, attribute.value, near, where),
    });
  }

  /** ZeroClaw's `- kind:`: a checkpoint is a person's pause, so a manual step; execute is what a step already is. */
  private kind(attribute: AttributeToken): void {
    if (!this.claim("kind", attribute)) return;
    const kind = stepKind(attribute.value);
    if (attribute.raw === "") {
      report(this.ctx, "error", "bad-attribute", attribute.keyOffset, 'attribute "kind" has no value; write "kind: checkpoint" for a step that waits for a person');
    } else if (kind === "checkpoint") {
      this.set("manual", { ...attribute, raw: "true", value: "true" }, `kind: ${attribute.raw}`);
    } else if (kind === "other") {
      this.metadata.set("kind", attribute.value);
      this.unused.push({
        step: this.step,
        offset: attribute.keyOffset,
        code: "bullet-without-effect",
        message: (where) => kindWithoutEffect(attribute.value, where),
      });
    }
  }

  private set(key: StepAttribute, attribute: AttributeToken, written?: string): void {
    if (!this.claim(key, attribute, written)) return;
    if (attribute.raw === "") {
      report(this.ctx, "error", "bad-attribute", attribute.keyOffset, `attribute "${shorten(attribute.key)}" has no value`);
      return;
    }
    const problem = setStepOption(this.options, key, attribute.key, attribute.raw, attribute.value);
    if (problem) report(this.ctx, "error", problem.code, attribute.rawOffset + problem.offset, problem.message);
  }

  /** Records the key as set; false (and an error) when it already was. */
  private claim(key: string, attribute: AttributeToken, written = `${attribute.key}: ${attribute.raw}`): boolean {
    const earlier = this.seen.get(key);
    if (earlier === undefined) {
      this.seen.set(key, { offset: attribute.keyOffset, key: attribute.key, written });
      return true;
    }
    const { line, column } = positionAt(this.ctx, earlier.offset);
    const alias = attribute.key === key ? "" : `here as "${attribute.key}", `;
    const first = earlier.key === key ? "" : ` as "${shorten(earlier.written)}"`;
    report(this.ctx, "error", "duplicate-attribute", attribute.keyOffset,
      `attribute "${shorten(key)}" is set twice (${alias}first at ${line}:${column}${first}); keep one`);
    return false;
  }
}

/**
 * One warning per bullet that changes nothing, at its first place, naming the other steps that
 * have it: a ZeroClaw SOP with `- tools:` under every step gets one line, not one per step, and
 * real problems further down are never crowded out of the report.
 */
export function reportUnusedBullets(ctx: ProcedureContext, unused: readonly UnusedBullet[]): void {
  const byMessage = new Map<string, { first: UnusedBullet; steps: number[] }>();
  for (const bullet of unused) {
    const text = bullet.message("");
    const same = byMessage.get(text);
    if (same) same.steps.push(bullet.step);
    else byMessage.set(text, { first: bullet, steps: [] });
  }
  for (const { first, steps } of byMessage.values()) {
    const where = steps.length === 0 ? "" : ` (here and in ${steps.length === 1 ? "step" : "steps"} ${listed(steps)})`;
    report(ctx, "warning", first.code, first.offset, first.message(where));
  }
}

/** "3", "3 and 5", "3, 5 and 9"; past ten, "3, 5, … and 40 more". */
function listed(numbers: readonly number[], shown = 10): string {
  if (numbers.length > shown) return `${numbers.slice(0, shown).join(", ")}, … and ${numbers.length - shown} more`;
  return numbers.length === 1 ? String(numbers[0]) : `${numbers.slice(0, -1).join(", ")} and ${numbers[numbers.length - 1]}`;
}
