import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse, parseAllDocuments, stringify } from "yaml";
import { CHART_OUTPUT, hasKubectl, podTemplate, postRender, ROOT, type K8sObject } from "./manifests.js";

// The kustomize half of the Helm recipe (deploy/helm/post-renderer.sh) on a manifest shaped like the output of
// Hasura's chart with deploy/helm/values.yaml. Every per-example check of kustomize.test.ts and
// availability.test.ts runs on its result too.
const chartText = readFileSync(CHART_OUTPUT, "utf8");
const chart = parseAllDocuments(chartText).map((doc) => doc.toJS() as K8sObject);
const values = parse(readFileSync(join(ROOT, "deploy", "helm", "values.yaml"), "utf8")) as {
  replicas: number;
  labels: Record<string, string>;
  strategy: unknown;
  topologySpreadConstraints: unknown;
};

const deploymentOf = (objects: K8sObject[]) => objects.find((o) => o.kind === "Deployment")!;

describe("the chart's output in the fixture", () => {
  it("is rendered with deploy/helm/values.yaml", () => {
    const deployment = deploymentOf(chart);
    const spec = deployment.spec as { replicas: number; strategy: unknown };
    expect(spec.replicas).toBe(values.replicas);
    expect(spec.strategy).toEqual(values.strategy);
    const pod = podTemplate(deployment);
    expect(pod.spec.topologySpreadConstraints).toEqual(values.topologySpreadConstraints);
    expect(pod.metadata.labels).toMatchObject(values.labels);
    expect(pod.spec.containers.map((c) => c.name)).toEqual(["graphql-engine"]);
  });
});

describe.skipIf(!hasKubectl)(
  hasKubectl
    ? "deploy/helm/post-renderer.sh"
    : "deploy/helm/post-renderer.sh (skipped: kubectl is not on the PATH)",
  () => {
    const rendered = hasKubectl ? postRender(chartText) : [];

    it("injects the sidecar into the chart's Deployment, keeping its name, namespace and selector", () => {
      const before = deploymentOf(chart);
      const after = deploymentOf(rendered);
      expect(after.metadata.name).toBe(before.metadata.name);
      expect((after.metadata as { namespace?: string }).namespace).toBe("data-products");
      expect((after.spec as { selector: unknown }).selector).toEqual(
        (before.spec as { selector: unknown }).selector,
      );
      const pod = podTemplate(after);
      expect(pod.spec.initContainers?.map((c) => c.name)).toEqual(["rolemapper"]);
      // The chart's container, renamed for the component's patches; still the only one.
      expect(pod.spec.containers.map((c) => [c.name, c.image])).toEqual([
        ["hasura", "hasura/graphql-engine:v2.48.16"],
      ]);
      expect(after.metadata.labels?.["hasura-rolemapper/inject"]).toBe("true");
    });

    it("leaves the chart's other objects as they were", () => {
      for (const object of chart.filter((o) => o.kind !== "Deployment")) {
        const same = rendered.find((o) => o.kind === object.kind && o.metadata.name === object.metadata.name);
        expect(same, `${object.kind} ${object.metadata.name}`).toBeDefined();
        expect(same?.spec ?? same?.data).toEqual(object.spec ?? object.data);
      }
    });

    it("puts what it adds in the release's namespace, where the Deployment finds its ConfigMaps", () => {
      const namespaces = new Set(rendered.map((o) => (o.metadata as { namespace?: string }).namespace));
      expect([...namespaces]).toEqual(["data-products"]);
      const pod = podTemplate(deploymentOf(rendered));
      const sidecar = pod.spec.initContainers![0]!;
      const referenced = [
        ...(sidecar.envFrom ?? []).map((e) => e.configMapRef?.name),
        ...(sidecar.env ?? []).map((e) => e.valueFrom?.configMapKeyRef?.name),
      ].filter((name): name is string => name !== undefined);
      expect(referenced.length).toBeGreaterThan(0);
      const configMaps = rendered.filter((o) => o.kind === "ConfigMap").map((o) => o.metadata.name);
      for (const name of referenced) expect(configMaps).toContain(name);
    });

    it("takes the overlay's directory as its argument", () => {
      const overlay = join(ROOT, "deploy", "k8s", "examples", "helm");
      expect(postRender(chartText, [overlay])).toEqual(rendered);
    });

    it("stops, rather than rename another container, when the chart's Hasura container is not first", () => {
      const objects = chart.map((o) => structuredClone(o));
      const pod = podTemplate(deploymentOf(objects));
      pod.spec.containers.unshift({ name: "log-shipper", image: "fluent/fluent-bit:3.2.0" });
      const text = objects.map((o) => stringify(o)).join("---\n");
      expect(() => postRender(text)).toThrow(/test operation failed|testing value/);
    });
  },
);
