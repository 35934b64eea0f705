/** Every chaos scenario, in the order the runner runs them. */
import type { Scenario } from "../harness.ts";
import { decisionsScenario } from "./decisions.ts";
import { killLocal } from "./kill-local.ts";
import { killRedis } from "./kill-redis.ts";
import { parser } from "./parser.ts";
import { redisRestart } from "./redis-restart.ts";
import { serialStarters } from "./serial-starters.ts";
import { slackScenario } from "./slack-requests.ts";

export const SCENARIOS: readonly Scenario[] = [killLocal, killRedis, redisRestart, decisionsScenario("local"), decisionsScenario("redis"), serialStarters, slackScenario("local"), slackScenario("redis"), parser];
