import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse, stringify } from "yaml";
import { startFixture, type SidecarFixture } from "../observability/sidecar-fixture.js";
import { envValue, hasKubectl, podTemplate, renderExamples, ROOT } from "./manifests.js";
import { tool } from "./tools.js";

// deploy/monitoring: the alert rules (checked and unit-tested by promtool) and the Grafana dashboard, whose every
// metric must exist on a running sidecar's /metrics.
const DIR = join(ROOT, "deploy", "monitoring");
const RULES = "rolemapper.rules.yml";
const RULE_TESTS = "rolemapper.rules.test.yml";
const promtool = tool("promtool", "apt-get install -y --no-install-recommends prometheus");

interface AlertRule {
  alert: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

interface RuleTests {
  tests: { alert_rule_test?: { eval_time: string; alertname: string; exp_alerts: unknown[] }[] }[];
}

interface Dashboard {
  panels: { type: string; title: string; targets?: { expr: string }[] }[];
  templating: { list: { name: string; type: string; query?: string | { query: string } }[] };
}

const alerts = (parse(readFileSync(join(DIR, RULES), "utf8")) as { groups: { rules: AlertRule[] }[] }).groups
  .flatMap((group) => group.rules)
  .filter((rule) => rule.alert !== undefined);
const ruleTests = parse(readFileSync(join(DIR, RULE_TESTS), "utf8")) as RuleTests;
const dashboard = JSON.parse(readFileSync(join(DIR, "rolemapper-dashboard.json"), "utf8")) as Dashboard;
const panelExprs = dashboard.panels.flatMap((panel) => (panel.targets ?? []).map((t) => t.expr));

// PromQL functions, aggregations and keywords are followed by "(" or are in this set; label names sit in
// matchers and by/without lists, both removed first. What is left names series.
const KEYWORDS = new Set(["and", "or", "unless", "bool", "offset", "by", "without", "on", "ignoring"]);

/** The metric names a PromQL expression reads. */
function metricNames(expr: string): string[] {
  const bare = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^}]*\}/g, " ")
    .replace(/\[[^\]]*\]/g, " ")
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, " ");
  const names = [...bare.matchAll(/([a-zA-Z_:][a-zA-Z0-9_:]*)\s*(\()?/g)]
    .filter(([, name, call]) => call === undefined && !KEYWORDS.has(name!))
    .map(([, name]) => name!);
  return [...new Set(names)];
}

/** The metric of a Grafana `label_values(metric{...}, label)` variable query. */
function variableMetric(query: string): string | undefined {
  return /^label_values\(\s*([a-zA-Z_:][a-zA-Z0-9_:]*)/.exec(query)?.[1];
}

/** Every series name a scrape offers: each `# TYPE`, and a histogram's _bucket, _sum and _count. */
function exposed(text: string): Set<string> {
  const names = new Set<string>();
  for (const [, name, type] of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
    names.add(name!);
    if (type === "histogram")
      for (const suffix of ["_bucket", "_sum", "_count"]) names.add(`${name}${suffix}`);
  }
  return names;
}

function promtoolRun(args: string[]): { status: number | null; output: string } {
  const run = spawnSync("promtool", args, { cwd: DIR, encoding: "utf8" });
  return { status: run.status, output: `${run.stdout}${run.stderr}` };
}

describe("the metric name reader", () => {
  it.each([
    ["rate(a_total[5m])", ["a_total"]],
    ['sum by (pod, le) (rate(b_bucket{x="y", z=~"$z"}[$__rate_interval])) / on (pod) c', ["b_bucket", "c"]],
    ["histogram_quantile(0.99, sum without (instance) (rate(d[5m]))) > bool 0.5", ["d"]],
    ["max(e) == 0 or absent(f)", ["e", "f"]],
  ])("reads %s", (expr, names) => {
    expect(metricNames(expr)).toEqual(names);
  });
});

describe("the alert rules", () => {
  it("cover what an on-call person must know, each with a severity and a one-line runbook", () => {
    expect(alerts.map((a) => a.alert).sort()).toEqual([
      "RoleMapperApiAuthFailures",
      "RoleMapperDecisionsFailing",
      "RoleMapperGraphThrottled",
      "RoleMapperMappingsStale",
      "RoleMapperNotReady",
      "RoleMapperStoreErrors",
    ]);
    for (const alert of alerts) {
      expect(alert.labels?.severity, alert.alert).toMatch(/^(critical|warning)$/);
      expect(alert.annotations?.summary, alert.alert).toEqual(expect.any(String));
      expect(alert.annotations?.runbook, alert.alert).toMatch(/^[^\n]{40,}$/);
      expect(alert.for, `${alert.alert}: a blip must not page`).toMatch(/^\d+m$/);
    }
  });

  it("are each unit-tested firing and then clearing", () => {
    const cases = ruleTests.tests.flatMap((t) => t.alert_rule_test ?? []);
    for (const { alert } of alerts) {
      const own = cases.filter((c) => c.alertname === alert);
      const firing = own.findIndex((c) => c.exp_alerts.length > 0);
      expect(firing, `${alert} fires in a test`).toBeGreaterThan(0);
      expect(own[firing - 1]?.exp_alerts, `${alert} is quiet before it fires`).toEqual([]);
      expect(own[firing + 1]?.exp_alerts, `${alert} clears after it fired`).toEqual([]);
    }
  });

  describe.skipIf(promtool.skip)(promtool.title, () => {
    it("pass promtool check rules", () => {
      expect(promtool.present, "promtool is not installed (.ci/run installs it)").toBe(true);
      const run = promtoolRun(["check", "rules", RULES]);
      expect(run.output).toMatch(/SUCCESS: 6 rules found/);
      expect(run.status, run.output).toBe(0);
    });

    it("pass their unit tests (promtool test rules)", () => {
      expect(promtool.present, "promtool is not installed (.ci/run installs it)").toBe(true);
      const run = promtoolRun(["test", "rules", RULE_TESTS]);
      expect(run.output).toMatch(/SUCCESS/);
      expect(run.status, run.output).toBe(0);
    });

    it("accept every dashboard query as PromQL", () => {
      expect(promtool.present, "promtool is not installed (.ci/run installs it)").toBe(true);
      // Each query as a recording rule, Grafana's variables replaced by values: promtool parses them all.
      const rules = panelExprs.map((expr, i) => ({
        record: `dashboard:query_${i}`,
        expr: expr.replaceAll("$__rate_interval", "5m").replace(/\$\w+/g, ".*"),
      }));
      const dir = mkdtempSync(join(tmpdir(), "rolemapper-dashboard-"));
      try {
        writeFileSync(join(dir, "queries.yml"), stringify({ groups: [{ name: "dashboard", rules }] }));
        const run = spawnSync("promtool", ["check", "rules", join(dir, "queries.yml")], { encoding: "utf8" });
        expect(run.status, `${run.stdout}${run.stderr}`).toBe(0);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });
});

describe("the dashboard", () => {
  it("shows decisions, latency, caches, the snapshot, the store and gRPC calls", () => {
    const titles = dashboard.panels.filter((p) => p.type !== "row").map((p) => p.title);
    expect(titles).toEqual(
      expect.arrayContaining([
        "Webhook decisions by outcome and reason",
        "Decision latency",
        "Cache hit ratio",
        "Snapshot age",
        "Snapshot size",
        "Store call latency",
        "Store errors",
        "gRPC calls by code",
      ]),
    );
    const all = panelExprs.join("\n");
    expect(all).toMatch(/sum by \(outcome, reason\) \(rate\(rolemapper_decisions_total/);
    expect(all).toMatch(/histogram_quantile\(0\.5, .*rolemapper_decision_duration_seconds_bucket/);
    expect(all).toMatch(/histogram_quantile\(0\.99, .*rolemapper_decision_duration_seconds_bucket/);
    expect(all).toMatch(/sum by \(code\) \(rate\(rolemapper_grpc_calls_total/);
  });
});

describe("every metric the rules and the dashboard read", () => {
  let fixture: SidecarFixture;
  let names: Set<string>;

  beforeAll(async () => {
    fixture = await startFixture();
    names = exposed(await fixture.scrape());
  });

  afterAll(async () => {
    await fixture.close();
  });

  it("exists on a running sidecar's /metrics", () => {
    const used = new Map<string, string>();
    for (const alert of alerts)
      for (const name of metricNames(alert.expr)) used.set(name, `rule ${alert.alert}`);
    for (const expr of panelExprs) for (const name of metricNames(expr)) used.set(name, `dashboard: ${expr}`);
    for (const variable of dashboard.templating.list) {
      const query = typeof variable.query === "string" ? variable.query : variable.query?.query;
      const metric = query && variable.type === "query" ? variableMetric(query) : undefined;
      if (variable.type === "query") expect(metric, `variable ${variable.name}`).toBeDefined();
      if (metric) used.set(metric, `variable ${variable.name}`);
    }
    expect(used.size).toBeGreaterThan(10);
    const missing = [...used]
      .filter(([name]) => !names.has(name))
      .map(([name, where]) => `${name} (${where})`);
    expect(missing).toEqual([]);
  });
});

const examples = await renderExamples();

describe.skipIf(!hasKubectl)("scraping, as rendered", () => {
  it("the PodMonitor scrapes the sidecar's port by its name", () => {
    const example = examples.find((e) => e.objects.some((o) => o.kind === "PodMonitor"));
    expect(example, "an example with the rolemapper-podmonitor component").toBeDefined();
    const monitor = example!.objects.find((o) => o.kind === "PodMonitor")!;
    expect(monitor.apiVersion).toBe("monitoring.coreos.com/v1");
    const spec = monitor.spec as {
      selector: { matchLabels: Record<string, string> };
      podMetricsEndpoints: { port: string; path: string }[];
    };
    const pod = podTemplate(example!.objects.find((o) => o.kind === "Deployment")!);
    for (const [key, value] of Object.entries(spec.selector.matchLabels))
      expect(pod.metadata.labels[key]).toBe(value);
    const sidecar = pod.spec.initContainers!.find((c) => c.name === "rolemapper")!;
    const port = sidecar.ports?.find((p) => p.name === spec.podMetricsEndpoints[0]?.port);
    expect(port?.containerPort).toBe(Number(envValue(sidecar, "METRICS_PORT")));
    expect(spec.podMetricsEndpoints[0]?.path).toBe("/metrics");
  });

  it("the scrape annotations point at the sidecar's metrics port", () => {
    const example = examples.find((e) =>
      e.objects.some(
        (o) => o.kind === "Deployment" && podTemplate(o).metadata.annotations?.["prometheus.io/scrape"],
      ),
    );
    expect(example, "an example with the rolemapper-scrape-annotations component").toBeDefined();
    const pod = podTemplate(example!.objects.find((o) => o.kind === "Deployment")!);
    const sidecar = pod.spec.initContainers!.find((c) => c.name === "rolemapper")!;
    expect(pod.metadata.annotations).toMatchObject({
      "prometheus.io/scrape": "true",
      "prometheus.io/port": envValue(sidecar, "METRICS_PORT"),
      "prometheus.io/path": "/metrics",
    });
  });
});
