/**
 * Realistic SOP folders for the loading benchmark: every manifest table an author would use and
 * a procedure with prose, attributes, conditions and shell fences. Deterministic, so two runs
 * (and two machines) parse the same text.
 */
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";

const PRIORITIES = ["low", "medium", "high", "critical"] as const;
const MODES = ["automatic", "supervised", "step_by_step", "priority_based"] as const;
const SERVICES = ["billing", "checkout", "search", "auth", "ledger", "inventory", "notifications"] as const;
const REGIONS = ["eu-west-1", "us-east-1", "ap-southeast-2"] as const;

interface StepTemplate {
  title: string;
  attrs: string;
  description: string;
  script: string[];
}

// Distinct titles, so every slug is unique and the gates below always name exactly one step.
const STEPS: readonly StepTemplate[] = [
  {
    title: "Check Prerequisites", attrs: "[timeout: 120]",
    description: "Make sure the on-call engineer has access and the target cluster is reachable.",
    script: ['echo "checking access to ${SOP_VAR_SERVICE} in ${SOP_VAR_REGION}"', 'test -n "$SOP_VAR_SERVICE"', 'echo "prereqs_ok=true" >> "$SOP_OUTPUT"'],
  },
  {
    title: "Run Tests", attrs: "[if: prereqs_ok, timeout: 900, retries: 1]",
    description: "Run the unit and integration suites against the release candidate.",
    script: ['echo "running tests for ${SOP_VAR_VERSION}"', "npm test --silent -- --reporter=dot", 'echo "tests_pass=true" >> "$SOP_OUTPUT"'],
  },
  {
    title: "Build Release", attrs: "[if: tests_pass, timeout: 600]",
    description: "Build the production bundle and push the image to the registry.",
    script: ['out="${TMPDIR:-/tmp}/releases"', 'mkdir -p "$out"', 'docker build -t "registry.local/${SOP_VAR_SERVICE}:${SOP_VAR_VERSION}" .', 'echo "built=true" >> "$SOP_OUTPUT"'],
  },
  {
    title: "Snapshot Database", attrs: '[if: environment == "production", timeout: 1800]',
    description: "Take a snapshot so the migration can be rolled back.",
    script: ['pg_dump --format=custom --file="/backups/${SOP_VAR_SERVICE}-${SOP_RUN_ID}.dump" "$DATABASE_URL"', 'echo "snapshot_ok=true" >> "$SOP_OUTPUT"'],
  },
  {
    title: "Deploy to Staging", attrs: "[if: tests_pass && built, requires_approval: true]",
    description: "Roll the new image out to staging, one pod at a time.",
    script: ['kubectl --context staging -n "${SOP_VAR_SERVICE}" set image "deploy/${SOP_VAR_SERVICE}" app="registry.local/${SOP_VAR_SERVICE}:${SOP_VAR_VERSION}"', 'kubectl --context staging -n "${SOP_VAR_SERVICE}" rollout status "deploy/${SOP_VAR_SERVICE}" --timeout=5m'],
  },
  {
    title: "Verify Staging", attrs: '[if: previous_step == "success" && !dry_run, timeout: 300]',
    description: "Smoke-test the staging endpoints and compare error rates with the last hour.",
    script: ['curl -fsS "https://staging.example.com/${SOP_VAR_SERVICE}/health"', 'echo "staging_verified=true" >> "$SOP_OUTPUT"'],
  },
  {
    title: "Deploy to Production", attrs: '[if: tests_pass && environment == "production", requires_approval: true, timeout: 1200]',
    description: "The real thing. Watch the dashboards while it rolls.",
    script: ['kubectl --context prod -n "${SOP_VAR_SERVICE}" set image "deploy/${SOP_VAR_SERVICE}" app="registry.local/${SOP_VAR_SERVICE}:${SOP_VAR_VERSION}"', 'kubectl --context prod -n "${SOP_VAR_SERVICE}" rollout status "deploy/${SOP_VAR_SERVICE}" --timeout=10m'],
  },
  {
    title: "Run Migrations", attrs: '[if: snapshot_ok && (region == "eu-west-1" || region == "us-east-1"), continue_on_error: false]',
    description: "Apply pending schema migrations; they are idempotent.",
    script: ["npx knex migrate:latest --env production", 'echo "migrated=true" >> "$SOP_OUTPUT"'],
  },
  {
    title: "Warm Caches", attrs: "[if: !dry_run, continue_on_error: true]",
    description: "Prime the CDN and the application caches so the first users do not pay for it.",
    script: ['for path in / /pricing /login; do curl -fsS -o /dev/null "https://www.example.com$path"; done'],
  },
  {
    title: "Notify Stakeholders", attrs: '[if: environment != "staging" || force_notify]',
    description: "Post the release notes in the release channel.",
    script: ['echo "released ${SOP_VAR_SERVICE} ${SOP_VAR_VERSION} to ${SOP_VAR_ENVIRONMENT}"'],
  },
  {
    // Its condition is filled in per SOP: it names the first step by slug.
    title: "Roll Back", attrs: "",
    description: "Put the previous image back when anything above failed.",
    script: ['kubectl --context prod -n "${SOP_VAR_SERVICE}" rollout undo "deploy/${SOP_VAR_SERVICE}"', 'echo "rolled back" >&2'],
  },
];

export function slugify(title: string): string {
  return title.toLowerCase().replace(/[^a-z0-9]+/g, "_").replace(/^_|_$/g, "");
}

export interface SopText {
  name: string;
  toml: string;
  md: string;
}

/** The i-th SOP of the corpus: 6–10 steps, 1–2 triggers, gates on its own steps. */
export function corpusSop(i: number): SopText {
  const name = `sop-${String(i).padStart(4, "0")}`;
  const service = SERVICES[i % SERVICES.length]!;
  const region = REGIONS[i % REGIONS.length]!;
  const stepCount = 6 + (i % 5);
  // A rotating window over the templates, always ending with the rollback, so slugs differ per SOP.
  const body = STEPS.slice(0, -1);
  const picked = Array.from({ length: stepCount - 1 }, (_, k) => body[(i + k) % body.length]!);
  const rollback = { ...STEPS[STEPS.length - 1]!, attrs: `[if: previous_step == "failed" || steps.${slugify(picked[0]!.title)} == "failed", always: true]` };
  const steps = [...picked, rollback];
  const first = slugify(steps[1]!.title);
  const last = slugify(steps[steps.length - 2]!.title);

  const triggers = [
    "[[triggers]]",
    'type = "command"',
    `pattern = "^${name}:(?<version>\\\\S+)(?:\\\\s+(?<environment>staging|production))?$"`,
    "capture_groups = true",
  ];
  if (i % 2 === 0) triggers.push("", "[[triggers]]", 'type = "schedule"', `cron = "${i % 60} ${i % 24} * * 1-5"`, 'timezone = "Europe/Paris"');

  const toml = [
    "#:schema ../../schema/sop.schema.json",
    "[sop]",
    `name = "${name}"`,
    `description = "Release ${service} in ${region} with tests, staging and an approval gate"`,
    `version = "1.${i % 10}.${i % 7}"`,
    `priority = "${PRIORITIES[i % PRIORITIES.length]!}"`,
    `execution_mode = "${MODES[i % MODES.length]!}"`,
    `cooldown_secs = ${(i % 4) * 600}`,
    `max_concurrent = ${1 + (i % 3)}`,
    "timeout_secs = 7200",
    "",
    "[vars]",
    `service = "${service}"`,
    `region = "${region}"`,
    'environment = "staging"',
    'version = "0.0.0-dev"',
    "dry_run = false",
    "",
    "[secrets]",
    'names = ["DEPLOY_TOKEN", "DATABASE_URL"]',
    "",
    "[approval]",
    'approvers = ["slack-group:S0OPS", "discord-role:112233", "api:release-bot"]',
    `min_approvals = ${1 + (i % 2)}`,
    "allow_self_approval = false",
    "timeout_secs = 3600",
    'on_timeout = "deny"',
    "",
    "[notify]",
    'slack = ["C0DEPLOYS"]',
    "",
    ...triggers,
    "",
    "[gates]",
    `pre_${first} = { type = "approval", required = true, approvers = ["slack:U0LEAD"], min_approvals = 1 }`,
    `post_${last} = { type = "verification", command = "./scripts/verify.sh --service ${service}", timeout_secs = 300 }`,
    "",
  ].join("\n");

  const items = steps.map((s, k) => {
    const marker = `${k + 1}. `;
    // A step's body lines up under its title, past the marker ("10. " is four wide), or it falls out of the step.
    const indent = " ".repeat(marker.length);
    const fence = ["```bash", ...s.script, "```"];
    return [`${marker}**${s.title}** ${s.attrs}`, `${indent}${s.description}`, ...fence.map((l) => `${indent}${l}`)].join("\n");
  });
  const md = [
    `# Release ${service} (${region})`,
    "",
    `Ships a new version of **${service}** to ${region}. The run starts from chat (\`${name}:1.2.3 production\`)`,
    "or on a schedule, tests and builds the release, deploys to staging, and deploys to production after",
    "an approval. Every step is safe to re-run; the rollback step runs only when something failed.",
    "",
    "Ask in #ops before running this outside office hours. See the [runbook](https://wiki.example.com/runbooks) for context.",
    "",
    "## Steps",
    "",
    items.join("\n\n"),
    "",
    "## Notes",
    "",
    "The verification script prints its checks:",
    "",
    "```text",
    "health: ok",
    "error rate: 0.02%",
    "```",
    "",
  ].join("\n");
  return { name, toml, md };
}

/** Writes `count` SOP folders under `dir`. */
export async function writeCorpus(dir: string, count: number): Promise<void> {
  await Promise.all(Array.from({ length: count }, async (_, i) => {
    const sop = corpusSop(i);
    const folder = join(dir, sop.name);
    await mkdir(folder, { recursive: true });
    await writeFile(join(folder, "SOP.toml"), sop.toml);
    await writeFile(join(folder, "SOP.md"), sop.md);
  }));
}
