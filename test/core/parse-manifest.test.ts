import { readFileSync } from "node:fs";
import { afterEach, describe, expect, it, vi } from "vitest";
import { parseManifest, type Manifest } from "../../src/core/sop/parse-manifest.ts";
import { createTomlLocator } from "../../src/core/sop/toml-locations.ts";
import { DEFAULT_APPROVAL, type Diagnostic } from "../../src/core/sop/types.ts";

const FIXTURES = new URL("../fixtures/manifest/", import.meta.url);
const fixture = (name: string): string => readFileSync(new URL(name, FIXTURES), "utf8");

const HEAD = '[sop]\nname = "x"\ndescription = "d"\n';

const located = (diagnostics: Diagnostic[]): string[] =>
  diagnostics.map((d) => `${d.file}:${d.line}:${d.column}: ${d.message}`);

/** Every diagnostic of `toml`, as `file:line:col: message`. */
function problems(toml: string, file = "SOP.toml"): string[] {
  return located(parseManifest(toml, file).diagnostics);
}

function valid(toml: string, file = "SOP.toml"): Manifest {
  const { manifest, diagnostics } = parseManifest(toml, file);
  expect(diagnostics.filter((d) => d.severity === "error")).toEqual([]);
  if (manifest === undefined) throw new Error("no manifest");
  return manifest;
}

const defaults = {
  version: "0.1.0",
  priority: "medium",
  executionMode: "supervised",
  cooldownSecs: 0,
  maxConcurrent: 1,
  workdir: ".",
  vars: {},
  secrets: [],
  approval: DEFAULT_APPROVAL,
  notify: { slack: [], discord: [] },
  triggers: [],
  gates: [],
};

describe("the seed's example manifests", () => {
  it("reads deploy-production, whose empty [triggers] and [gates] tables mean none", () => {
    expect(valid(fixture("seed-deploy-production.toml"))).toEqual({
      ...defaults,
      name: "deploy-production",
      description: "Deploy code to production with approval gate",
      version: "1.0.0",
      priority: "high",
      executionMode: "supervised",
      cooldownSecs: 3600,
      maxConcurrent: 1,
      namePosition: { line: 2, column: 8 },
    });
  });

  it("reads db-backup with every unset key at its default", () => {
    expect(valid(fixture("seed-db-backup.toml"))).toEqual({
      ...defaults,
      name: "db-backup",
      description: "Backup database with integrity check",
      version: "1.0.0",
      executionMode: "automatic",
      cooldownSecs: 86400,
      namePosition: { line: 3, column: 8 },
    });
  });

  it("reads security-patch's gates with their positions and the SOP's approval policy", () => {
    const manifest = valid(fixture("seed-security-patch.toml"));
    expect(manifest.priority).toBe("critical");
    expect(manifest.gates).toEqual([
      { name: "pre_patch", line: 11, column: 1, gate: { type: "approval", required: true, policy: DEFAULT_APPROVAL } },
      { name: "post_patch", line: 12, column: 1, gate: { type: "verification", command: "npm audit" } },
    ]);
  });

  it("reads the seed's trigger examples, an absolute watch path included", () => {
    expect(valid(fixture("seed-triggers.toml")).triggers).toEqual([
      { type: "command", pattern: "^deploy:", captureGroups: true },
      { type: "file_watch", path: "/job/releases/*.tar.gz", event: "create" },
      { type: "schedule", cron: "0 2 * * *" },
    ]);
  });
});

describe("a complete manifest", () => {
  it("maps every key of SPEC §2.1 onto the definition", () => {
    const { manifest, diagnostics } = parseManifest(fixture("basic.toml"), "basic.toml");
    expect(diagnostics).toEqual([]);
    expect(manifest).toEqual({
      name: "deploy-production",
      description: "Deploy with approval gate",
      version: "1.0.0",
      priority: "high",
      executionMode: "supervised",
      cooldownSecs: 3600,
      maxConcurrent: 1,
      timeoutSecs: 7200,
      workdir: ".",
      vars: { environment: "production", replicas: 3, dry_run: false },
      secrets: ["DEPLOY_TOKEN"],
      approval: {
        approvers: ["slack-group:S0OPS", "discord-role:112233", "api:alice"],
        minApprovals: 1,
        allowSelfApproval: true,
        timeoutSecs: 0,
        onTimeout: "deny",
      },
      notify: { slack: ["C0DEPLOYS"], discord: ["998877"] },
      triggers: [
        { type: "command", pattern: "^deploy:(?<version>\\S+)$", captureGroups: true },
        { type: "file_watch", path: "releases/*.tar.gz", event: "create" },
        { type: "schedule", cron: "0 2 * * *", timezone: "UTC" },
        { type: "manual" },
      ],
      gates: [
        {
          name: "pre_patch",
          line: 51,
          column: 1,
          gate: {
            type: "approval",
            required: true,
            policy: { approvers: ["slack:U01"], minApprovals: 2, allowSelfApproval: true, timeoutSecs: 0, onTimeout: "deny" },
          },
        },
        { name: "post_patch", line: 52, column: 1, gate: { type: "verification", command: "npm audit" } },
      ],
      namePosition: { line: 3, column: 8 },
    });
  });

  it('reads "normal" as medium and "auto" as automatic', () => {
    const manifest = valid(`${HEAD}priority = "normal"\nexecution_mode = "auto"\n`);
    expect([manifest.priority, manifest.executionMode]).toEqual(["medium", "automatic"]);
  });

  it("merges an approval gate's own keys over the SOP's [approval]", () => {
    const manifest = valid(
      `${HEAD}[approval]\napprovers = ["api:alice"]\ntimeout_secs = 600\n` +
        `[gates]\npre_run = { type = "approval", required = false, on_timeout = "approve", min_approvals = 2 }\n` +
        `post_deploy = { type = "verification", command = "./check.sh", timeout_secs = 30 }\n`,
    );
    expect(manifest.gates.map((g) => g.gate)).toEqual([
      {
        type: "approval",
        required: false,
        policy: { approvers: ["api:alice"], minApprovals: 2, allowSelfApproval: true, timeoutSecs: 600, onTimeout: "approve" },
      },
      { type: "verification", command: "./check.sh", timeoutSecs: 30 },
    ]);
  });

  it("accepts gates written as sub-tables and keys written dotted", () => {
    const manifest = valid(`sop.name = "x"\nsop.description = "d"\n[gates.pre_run]\ntype = "approval"\n`);
    expect(manifest.gates).toEqual([{ name: "pre_run", line: 3, column: 1, gate: expect.objectContaining({ type: "approval" }) }]);
  });

  it("reads a byte-order mark as nothing, so columns match the editor's", () => {
    expect(problems(`\uFEFF${HEAD}priority = 1\n`)).toEqual([
      'SOP.toml:4:12: [sop].priority must be one of low, medium, high, critical (or "normal"), got 1',
    ]);
  });
});

describe("fixtures that are not valid", () => {
  it("says an empty file lacks [sop], at 1:1", () => {
    expect(problems(fixture("empty.toml"), "empty.toml")).toEqual(["empty.toml:1:1: missing required table [sop]"]);
  });

  it("points missing required keys at their table's header", () => {
    expect(problems(fixture("missing.toml"), "sops/x/SOP.toml")).toEqual([
      'sops/x/SOP.toml:2:1: [sop] is missing required key "name"',
      'sops/x/SOP.toml:2:1: [sop] is missing required key "description"',
    ]);
  });

  it("locates a TOML syntax error where smol-toml found it, with the first line of its message", () => {
    const { manifest, diagnostics } = parseManifest(fixture("malformed.toml"), "malformed.toml");
    expect(manifest).toBeUndefined();
    expect(diagnostics).toEqual([
      {
        severity: "error",
        code: "toml-syntax",
        file: "malformed.toml",
        line: 3,
        column: 41,
        message: "TOML syntax error: control characters are not allowed in strings",
      },
    ]);
  });

  it("keeps hostile but legal content as data, warns about unknown keys, and pollutes no prototype", () => {
    const { manifest, diagnostics } = parseManifest(fixture("evil.toml"), "evil.toml");
    expect(located(diagnostics)).toEqual([
      "evil.toml:3:1: unknown table [__proto__]",
      'evil.toml:8:1: unknown key "constructor" in [sop]',
    ]);
    expect(({} as Record<string, unknown>)["polluted"]).toBeUndefined();
    expect(Object.getPrototypeOf(manifest?.vars)).toBe(Object.prototype);
    expect(Object.keys(manifest?.vars ?? {})).toEqual(["constructor", "toString", "emoji", "a.b"]);
    expect(manifest?.workdir).toBe("../../../etc");
    expect(manifest?.triggers[0]).toEqual({ type: "command", pattern: "^(a+)+$", captureGroups: true });
    expect(manifest?.gates.map((g) => g.name)).toEqual(["pre_run", "post_run"]);
  });
});

describe("errors, each located at the value it is about", () => {
  it.each<[string, string, string[]]>([
    [
      "an unknown enum value",
      `${HEAD}priority = "urgent"\nexecution_mode = "fast"\n`,
      [
        'SOP.toml:4:12: [sop].priority must be one of low, medium, high, critical (or "normal"), got "urgent"',
        'SOP.toml:5:18: [sop].execution_mode must be one of automatic, supervised, step_by_step, priority_based (or "auto"), got "fast"',
      ],
    ],
    [
      "a bad name",
      '[sop]\nname = "Deploy Prod"\ndescription = "d"\n',
      ['SOP.toml:2:8: [sop].name must be 1-64 lower-case letters, digits, "-" or "_", starting with a letter or digit, got "Deploy Prod"'],
    ],
    ["an empty description", '[sop]\nname = "x"\ndescription = "  "\n', ['SOP.toml:3:15: [sop].description must not be empty, got "  "']],
    ["a string for an integer", `${HEAD}cooldown_secs = "3600"\n`, ['SOP.toml:4:17: [sop].cooldown_secs must be an integer, got "3600"']],
    ["a fraction for an integer", `${HEAD}timeout_secs = 1.5\n`, ["SOP.toml:4:16: [sop].timeout_secs must be an integer, got 1.5"]],
    ["nan for an integer", `${HEAD}cooldown_secs = nan\n`, ["SOP.toml:4:17: [sop].cooldown_secs must be an integer, got nan"]],
    ["a number below its minimum", `${HEAD}max_concurrent = 0\n`, ["SOP.toml:4:18: [sop].max_concurrent must be at least 1, got 0"]],
    ["a negative cooldown", `${HEAD}cooldown_secs = -1\n`, ["SOP.toml:4:17: [sop].cooldown_secs must be at least 0, got -1"]],
    ["a number for a string", `${HEAD}version = 1.0\n`, ["SOP.toml:4:11: [sop].version must be a string, got 1"]],
    [
      "an absolute workdir",
      `${HEAD}workdir = "/etc"\n`,
      ['SOP.toml:4:11: [sop].workdir must be a path relative to the SOP folder, not an absolute path, got "/etc"'],
    ],
    ["[sop] that is not a table", 'sop = "deploy"\n', ['SOP.toml:1:7: [sop] must be a table, got "deploy"']],
    ["[sop] that is a date", "sop = 1979-05-27\n", ["SOP.toml:1:7: [sop] must be a table, got a date (1979-05-27)"]],
    ["no [sop] at all", '[vars]\na = "b"\n', ["SOP.toml:1:1: missing required table [sop]"]],
    ["a missing key of an inline [sop]", 'sop = { name = "x" }\n', ['SOP.toml:1:7: [sop] is missing required key "description"']],
    [
      "vars that are not strings, numbers or booleans",
      `${HEAD}[vars]\nhosts = ["a"]\nwhen = 1979-05-27\nnested = { a = 1 }\n`,
      [
        "SOP.toml:5:9: [vars].hosts must be a string, a number or a boolean, got an array",
        "SOP.toml:6:8: [vars].when must be a string, a number or a boolean, got a date (1979-05-27)",
        "SOP.toml:7:10: [vars].nested must be a string, a number or a boolean, got a table",
      ],
    ],
    [
      "a var no condition could name",
      `${HEAD}[vars]\n"my var" = 1\n`,
      ['SOP.toml:5:1: [vars]."my var" is not a usable variable name: use letters, digits, _, - and ., starting with a letter or _'],
    ],
    [
      "a secret that is not an environment variable name",
      `${HEAD}[secrets]\nnames = ["OK", "1BAD"]\n`,
      ['SOP.toml:5:16: [secrets].names #2 must be an environment variable name (letters, digits, _; not starting with a digit), got "1BAD"'],
    ],
    [
      "approvers without a known prefix",
      `${HEAD}[approval]\napprovers = ["slack:U1", "bob"]\n`,
      [
        'SOP.toml:5:26: [approval].approvers #2 must be an identity starting with slack:, slack-group:, discord:, discord-role:, api:, local:, got "bob"',
      ],
    ],
    [
      "the other [approval] keys",
      `${HEAD}[approval]\nmin_approvals = 0\nallow_self_approval = "yes"\ntimeout_secs = -1\non_timeout = "allow"\n`,
      [
        "SOP.toml:5:17: [approval].min_approvals must be at least 1, got 0",
        'SOP.toml:6:23: [approval].allow_self_approval must be true or false, got "yes"',
        "SOP.toml:7:16: [approval].timeout_secs must be at least 0, got -1",
        'SOP.toml:8:14: [approval].on_timeout must be one of deny, approve, got "allow"',
      ],
    ],
    ["an empty notify channel", `${HEAD}[notify]\nslack = [""]\n`, ["SOP.toml:5:10: [notify].slack #1 must not be empty"]],
  ])("reports %s", (_name, toml, expected) => {
    const result = parseManifest(toml, "SOP.toml");
    expect(located(result.diagnostics)).toEqual(expected);
    expect(result.manifest).toBeUndefined();
  });
});

describe("triggers", () => {
  it.each<[string, string, string[]]>([
    [
      "a pattern RegExp refuses, with its reason",
      `${HEAD}[[triggers]]\ntype = "command"\npattern = "(unclosed"\n`,
      ['SOP.toml:6:11: [[triggers]] #1 pattern "(unclosed" is not a valid regular expression: Unterminated group'],
    ],
    [
      "a cron cron-parser refuses, with its reason",
      `${HEAD}[[triggers]]\ntype = "manual"\n[[triggers]]\ntype = "schedule"\ncron = "61 * * * *"\n`,
      ['SOP.toml:8:8: [[triggers]] #2 cron "61 * * * *" is invalid: Constraint error, got value 61 expected range 0-59'],
    ],
    [
      "a cron with the wrong number of fields",
      `${HEAD}[[triggers]]\ntype = "schedule"\ncron = "@daily"\n`,
      [
        'SOP.toml:6:8: [[triggers]] #1 cron "@daily" is invalid: it has 1 field; write 5 (minute hour day-of-month month day-of-week) or 6 (seconds first)',
      ],
    ],
    [
      "an unknown time zone",
      `${HEAD}[[triggers]]\ntype = "schedule"\ncron = "0 2 * * *"\ntimezone = "Mars/Olympus"\n`,
      ['SOP.toml:7:12: [[triggers]] #1 timezone "Mars/Olympus" is not a known IANA time zone (e.g. "UTC", "Europe/Paris")'],
    ],
    [
      "an unbalanced glob and an unknown event",
      `${HEAD}[[triggers]]\ntype = "file_watch"\npath = "releases/[abc"\nevent = "modify"\n`,
      [
        'SOP.toml:6:8: [[triggers]] #1 path "releases/[abc" is not a valid glob: Missing closing: "]" - use "\\\\]" to match literal characters',
        'SOP.toml:7:9: [[triggers]] #1 event must be one of create, change, delete, got "modify"',
      ],
    ],
    ["an empty glob", `${HEAD}[[triggers]]\ntype = "file_watch"\npath = ""\n`, ["SOP.toml:6:8: [[triggers]] #1 path must not be empty"]],
    [
      "an unknown type",
      `${HEAD}[[triggers]]\ntype = "carrier_pigeon"\n`,
      ['SOP.toml:5:8: [[triggers]] #1 type must be one of command, file_watch, schedule, manual, got "carrier_pigeon"'],
    ],
    ["a missing type, at the table's header", `${HEAD}[[triggers]]\npattern = "x"\n`, ['SOP.toml:4:1: [[triggers]] #1 is missing required key "type"']],
    ["a missing pattern", `${HEAD}[[triggers]]\ntype = "command"\n`, ['SOP.toml:4:1: [[triggers]] #1 is missing required key "pattern"']],
    [
      "a single [triggers] table with keys",
      `${HEAD}[triggers]\ntype = "command"\npattern = "x"\n`,
      ["SOP.toml:4:1: [triggers] must be written as [[triggers]] tables, one per trigger (a single [triggers] table may only be empty)"],
    ],
    ["triggers that are not tables", `triggers = [1]\n${HEAD}`, ["SOP.toml:1:13: [[triggers]] #1 must be a table, got 1"]],
    ["triggers that are a number", `triggers = 3\n${HEAD}`, ["SOP.toml:1:12: [triggers] must be written as [[triggers]] tables, one per trigger, got 3"]],
  ])("reports %s", (_name, toml, expected) => {
    expect(problems(toml)).toEqual(expected);
  });

  it("reads an empty [triggers] table and an empty array as no triggers", () => {
    expect(valid(`${HEAD}[triggers]\n`).triggers).toEqual([]);
    expect(valid(`triggers = []\n${HEAD}`).triggers).toEqual([]);
  });

  it("fills a trigger's defaults", () => {
    const toml = `${HEAD}[[triggers]]\ntype = "command"\npattern = "^x"\n[[triggers]]\ntype = "file_watch"\npath = "*.txt"\n`;
    expect(valid(toml).triggers).toEqual([
      { type: "command", pattern: "^x", captureGroups: false },
      { type: "file_watch", path: "*.txt", event: "create" },
    ]);
  });
});

describe("gates", () => {
  it.each<[string, string, string[]]>([
    [
      "a name that is neither pre_ nor post_, at the key",
      `${HEAD}[gates]\ndeploy = { type = "approval" }\n`,
      ["SOP.toml:5:1: [gates].deploy is not a valid gate name: use pre_<step slug>, post_<step slug>, pre_run or post_run"],
    ],
    [
      "a name that no slug could be",
      `${HEAD}[gates]\npre_Apply_Patch = { type = "approval" }\n`,
      ["SOP.toml:5:1: [gates].pre_Apply_Patch is not a valid gate name: use pre_<step slug>, post_<step slug>, pre_run or post_run"],
    ],
    [
      "an unknown type",
      `${HEAD}[gates]\npre_x = { type = "magic" }\n`,
      ['SOP.toml:5:18: [gates].pre_x.type must be one of approval, verification, got "magic"'],
    ],
    ["a missing type, at the inline table", `${HEAD}[gates]\npre_x = { required = true }\n`, ['SOP.toml:5:9: [gates].pre_x is missing required key "type"']],
    [
      "a verification without a command",
      `${HEAD}[gates]\npost_x = { type = "verification" }\n`,
      ['SOP.toml:5:10: [gates].post_x is missing required key "command"'],
    ],
    [
      "a bad override of the approval policy",
      `${HEAD}[gates]\npre_x = { type = "approval", min_approvals = 0, approvers = ["me"] }\n`,
      [
        "SOP.toml:5:46: [gates].pre_x.min_approvals must be at least 1, got 0",
        'SOP.toml:5:62: [gates].pre_x.approvers #1 must be an identity starting with slack:, slack-group:, discord:, discord-role:, api:, local:, got "me"',
      ],
    ],
    ["a gate that is not a table", `${HEAD}[gates]\npre_run = "yes"\n`, ['SOP.toml:5:11: [gates].pre_run must be a table, got "yes"']],
  ])("reports %s", (_name, toml, expected) => {
    expect(problems(toml)).toEqual(expected);
  });
});

describe("unknown keys", () => {
  it("warns at the key, suggests a near miss, and still returns the manifest", () => {
    const toml =
      `${HEAD}priorty = "high"\n[[triggers]]\ntype = "command"\npattern = "x"\ncapture_group = true\n` +
      `[gates]\npre_a = { type = "approval", aprovers = [] }\n[approvals]\nx = 1\n[[trigger]]\ntype = "manual"\n` +
      `[sop.extra]\nwhatever = 1\n`;
    const { manifest, diagnostics } = parseManifest(toml, "SOP.toml");
    expect(diagnostics.every((d) => d.severity === "warning" && d.code === "unknown-key")).toBe(true);
    expect(located(diagnostics)).toEqual([
      'SOP.toml:4:1: unknown key "priorty" in [sop]; did you mean "priority"?',
      'SOP.toml:8:1: unknown key "capture_group" in [[triggers]] #1; did you mean "capture_groups"?',
      'SOP.toml:10:30: unknown key "aprovers" in [gates].pre_a; did you mean "approvers"?',
      "SOP.toml:11:1: unknown table [approvals]; did you mean [approval]?",
      "SOP.toml:13:1: unknown table [trigger]; did you mean [triggers]?",
      'SOP.toml:15:1: unknown key "extra" in [sop]',
    ]);
    expect(manifest?.priority).toBe("medium");
    expect(manifest?.triggers).toEqual([{ type: "command", pattern: "x", captureGroups: false }]);
  });

  it("reports unknown keys next to errors, sorted by position", () => {
    expect(problems(`${HEAD}priority = "urgent"\ncolour = "red"\n`)).toEqual([
      'SOP.toml:4:12: [sop].priority must be one of low, medium, high, critical (or "normal"), got "urgent"',
      'SOP.toml:5:1: unknown key "colour" in [sop]',
    ]);
  });

  it("cuts a huge unknown key short in the message", () => {
    const [message] = problems(`${HEAD}${"k".repeat(100_000)} = 1\n`);
    expect(message).toBe(`SOP.toml:4:1: unknown key "${"k".repeat(60)}…" in [sop]`);
  });
});

describe("hostile input", () => {
  const cases: [string, string][] = [
    ["binary junk", String.fromCharCode(...Array.from({ length: 4096 }, (_, i) => (i * 7919) % 256))],
    ["a NUL byte", `${HEAD}version = "1\u0000"\n`],
    ["10,000 nested arrays", `${HEAD}[vars]\nx = ${"[".repeat(10_000)}${"]".repeat(10_000)}\n`],
    ["10,000 nested inline tables", `${HEAD}[vars]\nx = ${"{a=".repeat(10_000)}1${"}".repeat(10_000)}\n`],
    ["5,000 dotted key parts", `${HEAD}[vars]\n${"a.".repeat(5_000)}b = 1\n`],
    ["a 5 MB description", `${HEAD.replace('"d"', `"${"d".repeat(5_000_000)}"`)}priority = "urgent"\n`],
    ["a 100,000-group pattern", `${HEAD}[[triggers]]\ntype = "command"\npattern = "${"(".repeat(100_000)}"\n`],
    ["a 100,000-field cron", `${HEAD}[[triggers]]\ntype = "schedule"\ncron = "${"* ".repeat(100_000)}"\n`],
  ];

  it.each(cases)("answers %s with located errors", (_name, toml) => {
    const { manifest, diagnostics } = parseManifest(toml, "SOP.toml");
    expect(manifest).toBeUndefined();
    expect(diagnostics.some((d) => d.severity === "error")).toBe(true);
    for (const d of diagnostics) {
      expect(d.line).toBeGreaterThanOrEqual(1);
      expect(d.column).toBeGreaterThanOrEqual(1);
      expect(d.message).not.toBe("");
    }
  });

  it("reports nesting beyond smol-toml's limit where it stopped", () => {
    expect(problems(`${HEAD}[vars]\nx = ${"[".repeat(10_000)}${"]".repeat(10_000)}\n`)).toEqual([
      "SOP.toml:5:1005: TOML syntax error: document contains excessively nested structures. aborting.",
    ]);
  });
});

describe("failures inside the libraries", () => {
  afterEach(() => {
    vi.doUnmock("smol-toml");
    vi.doUnmock("toml-eslint-parser");
    vi.resetModules();
  });

  it("turns a parser's stack overflow into an error at 1:1", async () => {
    vi.resetModules();
    vi.doMock("smol-toml", async (original) => ({
      ...(await original<typeof import("smol-toml")>()),
      parse: () => {
        throw new RangeError("Maximum call stack size exceeded");
      },
    }));
    const { parseManifest: parse } = await import("../../src/core/sop/parse-manifest.ts");
    expect(located(parse(HEAD, "SOP.toml").diagnostics)).toEqual([
      "SOP.toml:1:1: TOML syntax error: the document is nested too deeply to read",
    ]);
  });

  it("parses for positions only when something needs one", async () => {
    vi.resetModules();
    const parseTOML = vi.fn();
    vi.doMock("toml-eslint-parser", async (original) => {
      const actual = await original<typeof import("toml-eslint-parser")>();
      parseTOML.mockImplementation(actual.parseTOML);
      return { ...actual, parseTOML };
    });
    const { parseManifest: parse } = await import("../../src/core/sop/parse-manifest.ts");
    const manifest = parse(fixture("seed-security-patch.toml"), "SOP.toml").manifest;
    expect(parseTOML).not.toHaveBeenCalled();
    expect(manifest?.namePosition.line).toBe(3);
    expect(manifest?.gates[0]?.line).toBe(11);
    expect(parseTOML).toHaveBeenCalledTimes(1);
    parse(`${HEAD}priority = "urgent"\n`, "SOP.toml");
    expect(parseTOML).toHaveBeenCalledTimes(2);
  });
});

describe("createTomlLocator", () => {
  const source = [
    "[sop]", // 1
    'name = "x"', // 2
    "[[triggers]]", // 3
    'type = "command"', // 4
    "[[triggers]]", // 5
    'cron = "61 * * * *"', // 6
    "[gates]", // 7
    'pre_patch = { type = "approval", min_approvals = 0 }', // 8
    'list = [1, [2, 3]]', // 9
  ].join("\n");
  const locator = createTomlLocator(source);

  it.each<[string, (string | number)[], { line: number; column: number }]>([
    ["a value in a table", ["sop", "name"], { line: 2, column: 8 }],
    ["a value in the second [[triggers]]", ["triggers", 1, "cron"], { line: 6, column: 8 }],
    ["a value in an inline table", ["gates", "pre_patch", "min_approvals"], { line: 8, column: 50 }],
    ["an element of a nested array", ["gates", "list", 1, 0], { line: 9, column: 13 }],
    ["a missing key, at its table's header", ["sop", "priority"], { line: 1, column: 1 }],
    ["a missing key of an inline table, at its brace", ["gates", "pre_patch", "required"], { line: 8, column: 13 }],
    ["a missing table, at 1:1", ["approval", "approvers"], { line: 1, column: 1 }],
  ])("finds %s", (_name, path, position) => {
    expect(locator.valueAt(path)).toEqual(position);
  });

  it("finds keys, for unknown-key warnings", () => {
    expect(locator.keyAt(["gates", "pre_patch", "min_approvals"])).toEqual({ line: 8, column: 34 });
    expect(locator.keyAt(["triggers", 0])).toEqual({ line: 3, column: 1 });
  });

  it("answers 1:1 for a document it cannot read", () => {
    expect(createTomlLocator("a = [").valueAt(["a"])).toEqual({ line: 1, column: 1 });
  });
});
