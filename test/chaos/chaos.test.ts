/**
 * The chaos suite's fast subset: every scenario of `npm run chaos` at its small size, each count
 * asserted to be 0 (the notes say what was counted). Parse times are only printed by
 * `npm run chaos`, never asserted here. The seed is random unless CHAOS_SEED is set; it is in
 * the name of the suite, to run the same choices again.
 */
import { describe, expect, it } from "vitest";
import { hasRedisServer } from "../helpers/private-redis.ts";
import { redisUrlForTests } from "../helpers/redis.ts";
import { runScenario } from "./harness.ts";
import { randomSeed, Rng } from "./rng.ts";
import { SCENARIOS } from "./scenarios/index.ts";

const seed = process.env["CHAOS_SEED"] ? Number(process.env["CHAOS_SEED"]) : randomSeed();
const redisUrl = await redisUrlForTests();

describe(`chaos, small (seed ${seed}: CHAOS_SEED=${seed} npx vitest run test/chaos repeats its choices)`, () => {
  for (const scenario of SCENARIOS) {
    const unavailable = scenario.name === "redis-restart" ? !hasRedisServer : scenario.needsRedis && redisUrl === undefined;
    it.skipIf(unavailable)(`${scenario.name}: ${scenario.title}: every count is 0`, async () => {
      const result = await runScenario(scenario, { size: "small", seed, rng: Rng.forScenario(seed, scenario.name), redisUrl });
      const notes = result.notes.join("\n");
      expect(result.error, notes).toBeUndefined();
      const nonZero = Object.fromEntries(Object.entries(result.counts).filter(([, n]) => n !== 0));
      expect(nonZero, `counts that are not 0 (seed ${seed}):\n${notes}`).toEqual({});
    }, 120_000);
  }
});
