import { describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/index.js";
import {
  envValue,
  hasKubectl,
  podTemplate,
  renderExamples,
  type Container,
  type K8sObject,
} from "./manifests.js";

// §1 of the deploy: drains and rollouts drop nothing. Checked on every example as rendered.
const SIDECAR = "rolemapper";
// Closing the store and flushing spans after the sidecar's grace, and the kubelet's own steps.
const MARGIN_S = 5;

interface DeploymentSpec {
  replicas?: number;
  strategy?: {
    type?: string;
    rollingUpdate?: { maxUnavailable?: number | string; maxSurge?: number | string };
  };
}

interface PdbSpec {
  maxUnavailable?: number | string;
  minAvailable?: number | string;
  unhealthyPodEvictionPolicy?: string;
  selector?: { matchLabels?: Record<string, string> };
}

function selects(selector: Record<string, string> | undefined, labels: Record<string, string>): boolean {
  const entries = Object.entries(selector ?? {});
  return entries.length > 0 && entries.every(([key, value]) => labels[key] === value);
}

/** The sidecar's shutdown settings as the sidecar itself reads them from its literal variables. */
function sidecarShutdown(sidecar: Container): { drainS: number; graceS: number } {
  const literal = Object.fromEntries(
    (sidecar.env ?? []).filter((e) => e.value !== undefined).map((e) => [e.name, e.value!]),
  );
  expect(literal.SHUTDOWN_DRAIN_S, "SHUTDOWN_DRAIN_S set explicitly").toBeDefined();
  expect(literal.SHUTDOWN_GRACE_S, "SHUTDOWN_GRACE_S set explicitly").toBeDefined();
  // What the manifest cannot hold literally (Secrets, the JWKS URL from the ConfigMap) is filled in.
  const config = loadConfig({
    ...literal,
    JWKS_URL: "https://idp.example.com/keys",
    GRAPHQL_ADMIN_SECRET: "from-a-secret",
    ROLEMAPPER_API_TOKENS_FILE: "/etc/rolemapper/api-tokens/tokens",
  });
  return { drainS: config.shutdown.drainMs / 1000, graceS: config.shutdown.graceMs / 1000 };
}

const examples = await renderExamples();

describe.skipIf(!hasKubectl)(
  hasKubectl ? "availability" : "availability (skipped: kubectl is not on the PATH)",
  () => {
    it("covers every example", () => {
      expect(examples.length).toBeGreaterThanOrEqual(4);
    });

    describe.each(examples.map((example) => [example.name, example.objects] as const))(
      "%s",
      (_name, objects) => {
        const deployment = objects.find(
          (o) =>
            o.kind === "Deployment" && podTemplate(o).spec.initContainers?.some((c) => c.name === SIDECAR),
        ) as K8sObject;
        const spec = (deployment?.spec ?? {}) as DeploymentSpec;
        const pod = deployment ? podTemplate(deployment) : undefined;
        const hasura = pod?.spec.containers.find((c) => c.image.startsWith("hasura/graphql-engine:"));
        const sidecar = pod?.spec.initContainers?.find((c) => c.name === SIDECAR);

        it("runs two replicas at least, spread over nodes, each revision apart", () => {
          expect(spec.replicas).toBeGreaterThanOrEqual(2);
          const byNode = pod!.spec.topologySpreadConstraints?.find(
            (c) => c.topologyKey === "kubernetes.io/hostname",
          );
          expect(byNode).toMatchObject({ maxSkew: 1, whenUnsatisfiable: "DoNotSchedule" });
          // A cordoned node (tainted unschedulable) must not count, or its evicted replica could not be placed.
          expect(byNode?.nodeTaintsPolicy).toBe("Honor");
          expect(selects(byNode?.labelSelector?.matchLabels, pod!.metadata.labels)).toBe(true);
          expect(byNode?.matchLabelKeys).toContain("pod-template-hash");
        });

        it("has one PodDisruptionBudget over its pods that lets a drain take one, never all", () => {
          const budgets = objects
            .filter((o) => o.kind === "PodDisruptionBudget")
            .map((o) => o.spec as PdbSpec)
            .filter((b) => selects(b.selector?.matchLabels, pod!.metadata.labels));
          // Two budgets over one pod make the eviction API refuse to evict it at all.
          expect(budgets).toHaveLength(1);
          const budget = budgets[0]!;
          const replicas = spec.replicas!;
          const unavailable =
            budget.maxUnavailable !== undefined
              ? Number(budget.maxUnavailable)
              : replicas - Number(budget.minAvailable);
          expect(Number.isInteger(unavailable)).toBe(true);
          expect(unavailable).toBeGreaterThanOrEqual(1);
          expect(unavailable).toBeLessThan(replicas);
          // An unready pod (1/2) serves nothing: it must not block a drain.
          expect(budget.unhealthyPodEvictionPolicy).toBe("AlwaysAllow");
        });

        it("rolls out with a surge and nothing unavailable, a new pod counting once its sidecar is ready", () => {
          expect(spec.strategy?.type ?? "RollingUpdate").toBe("RollingUpdate");
          expect(spec.strategy?.rollingUpdate?.maxUnavailable).toBe(0);
          expect(Number(spec.strategy?.rollingUpdate?.maxSurge)).toBeGreaterThanOrEqual(1);
          // A native sidecar's readiness probe is part of the pod's Ready condition.
          expect(sidecar?.restartPolicy).toBe("Always");
          expect(sidecar?.readinessProbe?.httpGet?.path).toBe("/readyz");
        });

        it("stops Hasura first, after a pause, and the sidecar last, all within the grace period", () => {
          const pause = hasura?.lifecycle?.preStop?.sleep?.seconds ?? 0;
          // Long enough for endpoints to stop sending, short beside Hasura's own shutdown; a sleep action, since
          // Hasura's image need not have a shell.
          expect(hasura?.lifecycle?.preStop?.exec).toBeUndefined();
          expect(pause).toBeGreaterThanOrEqual(5);
          const hasuraShutdown = Number(envValue(hasura!, "HASURA_GRAPHQL_GRACEFUL_SHUTDOWN_TIMEOUT"));
          expect(Number.isInteger(hasuraShutdown) && hasuraShutdown > 0).toBe(true);
          expect(pause).toBeLessThan(hasuraShutdown);
          // The sidecar is stopped by Kubernetes only once Hasura has exited, then drains and finishes.
          expect(sidecar?.restartPolicy).toBe("Always");
          const { drainS, graceS } = sidecarShutdown(sidecar!);
          expect(drainS).toBeGreaterThan(0);
          const budget = pause + hasuraShutdown + drainS + graceS + MARGIN_S;
          expect(pod!.spec.terminationGracePeriodSeconds).toBeGreaterThanOrEqual(budget);
        });
      },
    );
  },
);
