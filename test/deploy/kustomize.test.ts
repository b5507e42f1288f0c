import { describe, expect, it } from "vitest";
import {
  HELM_EXAMPLE,
  envValue,
  hasKubectl,
  podTemplate,
  renderExamples,
  resolvePort,
  type Container,
  type K8sObject,
} from "./manifests.js";

const SIDECAR = "rolemapper";
// Variables that carry credentials: they must come from a Secret, never as a literal value.
const SECRET_VARIABLES = /SECRET|TOKEN|PASSWORD|DATABASE_URL|PRIVATE|_KEY$/;

interface NetworkPolicySpec {
  podSelector: { matchLabels?: Record<string, string> };
  policyTypes?: string[];
  ingress?: { from?: Record<string, unknown>[]; ports?: { port?: number | string; protocol?: string }[] }[];
}

interface ServiceSpec {
  selector?: Record<string, string>;
  ports: { name?: string; port: number; targetPort?: number | string }[];
}

function sidecarOf(deployment: K8sObject): Container | undefined {
  return podTemplate(deployment).spec.initContainers?.find((c) => c.name === SIDECAR);
}

function selects(selector: Record<string, string> | undefined, labels: Record<string, string>): boolean {
  return Object.entries(selector ?? {}).every(([key, value]) => labels[key] === value);
}

/** The Secret volume mounted read-only in `container` whose mount holds the file `path`, if any. */
function secretVolumeHolding(pod: ReturnType<typeof podTemplate>, container: Container, path: string) {
  const mount = container.volumeMounts?.find((m) => path.startsWith(`${m.mountPath}/`));
  const volume = pod.spec.volumes?.find((v) => v.name === mount?.name);
  return mount?.readOnly === true && volume?.secret ? volume.secret : undefined;
}

// Collection runs even when the block is skipped: renderExamples renders only where kubectl exists.
const examples = await renderExamples();

/** The Deployment of an example as rendered above (undefined without kubectl). */
function renderedDeployment(name: string): K8sObject | undefined {
  return examples.find((e) => e.name === name)?.objects.find((o) => o.kind === "Deployment");
}

describe.skipIf(!hasKubectl)(
  hasKubectl ? "kustomizations" : "kustomizations (skipped: kubectl is not on the PATH)",
  () => {
    it("finds the base and the examples, and the Helm recipe", () => {
      expect(examples.map((e) => e.name)).toEqual(
        expect.arrayContaining(["deploy/k8s/base", "deploy/k8s/examples/existing-hasura", HELM_EXAMPLE]),
      );
    });

    describe.each(examples.map((example) => [example.name, example.objects] as const))(
      "%s",
      (_name, objects) => {
        const deployments = objects.filter((o) => o.kind === "Deployment" && sidecarOf(o));
        const configMaps = new Map(
          objects.filter((o) => o.kind === "ConfigMap").map((o) => [o.metadata.name, o]),
        );

        it("has one Deployment carrying the sidecar", () => {
          expect(deployments).toHaveLength(1);
        });

        for (const deployment of deployments) {
          const pod = podTemplate(deployment);
          const sidecar = sidecarOf(deployment)!;
          const hasuras = pod.spec.containers.filter((c) => c.image.startsWith("hasura/graphql-engine:"));
          const hasura = hasuras[0]!;
          const adminPort = Number(envValue(sidecar, "ADMIN_HTTP_PORT"));
          const grpcPort = Number(envValue(sidecar, "GRPC_PORT"));
          const metricsPort = Number(envValue(sidecar, "METRICS_PORT"));
          const hasuraPort = hasura.ports?.[0]?.containerPort;

          it("runs the sidecar as a native sidecar, so it is up before Hasura", () => {
            expect(sidecar.restartPolicy).toBe("Always");
            expect(pod.spec.containers.map((c) => c.name)).not.toContain(SIDECAR);
          });

          it("has exactly one Hasura container, whose webhook is the sidecar's loopback listener", () => {
            expect(hasuras).toHaveLength(1);
            const hooks = hasura.env?.filter((e) => e.name === "HASURA_GRAPHQL_AUTH_HOOK") ?? [];
            expect(hooks).toHaveLength(1);
            const url = new URL(hooks[0]!.value!);
            expect(url.protocol).toBe("http:");
            expect(url.hostname).toBe(envValue(sidecar, "WEBHOOK_HOST"));
            expect(url.hostname).toBe("127.0.0.1");
            expect(Number(url.port)).toBe(Number(envValue(sidecar, "WEBHOOK_PORT")));
            expect(url.pathname).toBe("/v1/authenticate");
            expect(envValue(hasura, "HASURA_GRAPHQL_AUTH_HOOK_MODE")).toBe("POST");
          });

          it("has Hasura send the request to the webhook, which refuses to decide without it", () => {
            const sends = hasura.env?.filter((e) => e.name === "HASURA_GRAPHQL_AUTH_HOOK_SEND_REQUEST_BODY");
            expect(sends).toEqual([{ name: "HASURA_GRAPHQL_AUTH_HOOK_SEND_REQUEST_BODY", value: "true" }]);
          });

          it("sets every Hasura variable the sidecar relies on, once each, and no unauthorized role", () => {
            const names = hasura.env?.map((e) => e.name) ?? [];
            const contract = {
              HASURA_GRAPHQL_AUTH_HOOK: `http://127.0.0.1:${envValue(sidecar, "WEBHOOK_PORT")}/v1/authenticate`,
              HASURA_GRAPHQL_AUTH_HOOK_MODE: "POST",
              HASURA_GRAPHQL_AUTH_HOOK_SEND_REQUEST_BODY: "true",
            };
            for (const [name, value] of Object.entries(contract)) {
              expect(
                names.filter((n) => n === name),
                name,
              ).toHaveLength(1);
              expect(envValue(hasura, name), name).toBe(value);
            }
            expect(names).not.toContain("HASURA_GRAPHQL_UNAUTHORIZED_ROLE");
            // A ConfigMap or Secret read whole could set one unseen.
            expect(hasura.envFrom ?? []).toEqual([]);
          });

          it("reads the mappings through the Hasura of the same pod", () => {
            expect(envValue(sidecar, "ROLEMAPPING_STORE")).toBe("hasura");
            const url = new URL(envValue(sidecar, "GRAPHQL_URL")!);
            expect([url.hostname, Number(url.port), url.pathname]).toEqual([
              "127.0.0.1",
              hasuraPort,
              "/v1/graphql",
            ]);
          });

          it("probes real routes on the metrics port, which listens beyond loopback apart from the API", () => {
            expect(envValue(sidecar, "METRICS_HOST")).toBe("0.0.0.0");
            expect(metricsPort).not.toBe(adminPort);
            const probes = {
              startup: sidecar.startupProbe?.httpGet,
              readiness: sidecar.readinessProbe?.httpGet,
              liveness: sidecar.livenessProbe?.httpGet,
            };
            // Startup waits for the process only: /readyz needs the store, i.e. Hasura, which starts after it.
            expect(probes.startup?.path).toBe("/healthz");
            expect(probes.readiness?.path).toBe("/readyz");
            expect(probes.liveness?.path).toBe("/healthz");
            for (const probe of Object.values(probes)) {
              expect(resolvePort(sidecar, probe!.port)).toBe(metricsPort);
            }
          });

          it("hardens the sidecar's security context", () => {
            const sc = sidecar.securityContext;
            expect(sc?.runAsNonRoot).toBe(true);
            expect(sc?.runAsUser).toBeGreaterThan(0);
            expect(sc?.readOnlyRootFilesystem).toBe(true);
            expect(sc?.allowPrivilegeEscalation).toBe(false);
            expect(sc?.privileged).not.toBe(true);
            expect(sc?.capabilities?.drop).toContain("ALL");
            expect(sc?.capabilities?.add ?? []).toEqual([]);
          });

          it("bounds the sidecar's resources", () => {
            expect(sidecar.resources?.requests).toMatchObject({
              cpu: expect.any(String),
              memory: expect.any(String),
            });
            expect(sidecar.resources?.limits?.memory).toEqual(expect.any(String));
          });

          it("takes every credential from a Secret by reference", () => {
            for (const container of [...pod.spec.containers, ...(pod.spec.initContainers ?? [])]) {
              for (const variable of container.env ?? []) {
                // A *_FILE variable holds a path; the file's Secret volume is checked below.
                if (!SECRET_VARIABLES.test(variable.name) || variable.name.endsWith("_FILE")) continue;
                // So does GRPC_TLS_KEY, a file of a Secret volume.
                if (variable.value !== undefined && secretVolumeHolding(pod, container, variable.value))
                  continue;
                expect(variable.value, `${container.name} ${variable.name}`).toBeUndefined();
                expect(variable.valueFrom?.secretKeyRef, `${container.name} ${variable.name}`).toBeDefined();
              }
            }
            const names = (c: Container) => c.env?.map((e) => e.name) ?? [];
            expect(names(sidecar)).toEqual(
              expect.arrayContaining(["GRAPHQL_ADMIN_SECRET", "AZURE_CLIENT_SECRET"]),
            );
            expect(names(hasura)).toContain("HASURA_GRAPHQL_ADMIN_SECRET");
          });

          it("reads the API tokens from a file of a required, read-only Secret volume", () => {
            const file = envValue(sidecar, "ROLEMAPPER_API_TOKENS_FILE");
            const mount = sidecar.volumeMounts?.find((m) => file?.startsWith(`${m.mountPath}/`));
            expect(mount, `a mount holding ${file}`).toBeDefined();
            expect(mount?.readOnly).toBe(true);
            const volume = pod.spec.volumes?.find((v) => v.name === mount?.name);
            expect(volume?.secret?.secretName).toEqual(expect.any(String));
            expect(volume?.secret?.optional).not.toBe(true);
          });

          it("refuses to start without a JWKS URL: the reference is required and the ConfigMap holds no secret", () => {
            const jwks = sidecar.env?.find((e) => e.name === "JWKS_URL")?.valueFrom?.configMapKeyRef;
            expect(jwks).toBeDefined();
            expect(jwks?.optional).not.toBe(true);
            const settings = configMaps.get(jwks!.name);
            expect(settings, `ConfigMap ${jwks!.name}`).toBeDefined();
            for (const key of Object.keys(settings!.data ?? {})) expect(key).not.toMatch(SECRET_VARIABLES);
            if (settings!.data?.JWKS_URL !== undefined)
              expect(new URL(settings!.data.JWKS_URL).protocol).toBe("https:");
          });

          it("pins every image by tag", () => {
            for (const container of [...pod.spec.containers, ...(pod.spec.initContainers ?? [])]) {
              const tag = /:([^/:@]+)$/.exec(container.image)?.[1];
              expect(tag, container.image).toBeDefined();
              expect(tag).not.toBe("latest");
            }
            expect(hasura.image).toMatch(/^hasura\/graphql-engine:v2\.\d+\.\d+$/);
          });

          it("exposes gRPC, the admin API and the metrics port (named metrics) through a Service selecting this pod", () => {
            const services = objects.filter(
              (o) =>
                o.kind === "Service" &&
                selects((o.spec as unknown as ServiceSpec).selector, pod.metadata.labels),
            );
            const targets = services.flatMap((s) =>
              (s.spec as unknown as ServiceSpec).ports.map((p) =>
                resolvePort(sidecar, p.targetPort ?? p.port),
              ),
            );
            expect(targets).toEqual(expect.arrayContaining([grpcPort, adminPort, metricsPort]));
            const named = services.flatMap((s) => (s.spec as unknown as ServiceSpec).ports);
            const metricsEntry = named.find(
              (p) => resolvePort(sidecar, p.targetPort ?? p.port) === metricsPort,
            );
            expect(metricsEntry?.name).toBe("metrics");
            expect(sidecar.ports?.find((p) => p.containerPort === metricsPort)?.name).toBe("metrics");
          });

          it("admits only the provisioner to the gRPC and admin ports", () => {
            const policies = objects
              .filter((o) => o.kind === "NetworkPolicy")
              .map((o) => o.spec as unknown as NetworkPolicySpec)
              .filter((spec) => selects(spec.podSelector.matchLabels, pod.metadata.labels));
            expect(policies.length).toBeGreaterThan(0);
            const apiPorts = new Set([grpcPort, adminPort]);
            const admitting = policies.flatMap((spec) =>
              (spec.ingress ?? []).filter((rule) =>
                (rule.ports ?? []).some((p) => apiPorts.has(resolvePort(sidecar, p.port ?? 0) ?? -1)),
              ),
            );
            expect(admitting).toHaveLength(1);
            const rule = admitting[0]!;
            expect(rule.ports?.map((p) => resolvePort(sidecar, p.port!)).sort()).toEqual(
              [...apiPorts].sort(),
            );
            expect(rule.from).toEqual([
              { podSelector: { matchLabels: { "hasura-rolemapper/client": "provisioner" } } },
            ]);
            // The metrics port is open to the monitoring namespace alone, chosen by a label.
            const scraping = policies.flatMap((spec) =>
              (spec.ingress ?? []).filter((r) =>
                (r.ports ?? []).some((p) => resolvePort(sidecar, p.port ?? 0) === metricsPort),
              ),
            );
            expect(scraping).toHaveLength(1);
            expect(scraping[0]!.ports?.map((p) => resolvePort(sidecar, p.port!))).toEqual([metricsPort]);
            expect(scraping[0]!.from).toEqual([
              { namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": expect.any(String) } } },
            ]);
            // Any other rule opens Hasura's GraphQL port alone (a rule without ports would open every port).
            for (const spec of policies) {
              expect(spec.policyTypes).toContain("Ingress");
              for (const other of (spec.ingress ?? []).filter((r) => r !== rule && r !== scraping[0])) {
                expect(other.ports?.map((p) => resolvePort(hasura, p.port ?? 0))).toEqual([hasuraPort]);
              }
            }
          });
        }

        it("renders no Secret with literal data", () => {
          for (const secret of objects.filter((o) => o.kind === "Secret")) {
            expect(secret.data ?? {}, secret.metadata.name).toEqual({});
            expect(secret.stringData ?? {}, secret.metadata.name).toEqual({});
          }
        });
      },
    );

    describe("the gRPC API over mutual TLS", () => {
      const deployment = renderedDeployment("deploy/k8s/examples/grpc-mtls");

      it("gives the sidecar its certificate, key and client CA from one required Secret, as cert-manager writes it", () => {
        const pod = podTemplate(deployment!);
        const sidecar = sidecarOf(deployment!)!;
        const files = ["GRPC_TLS_CERT", "GRPC_TLS_KEY", "GRPC_TLS_CLIENT_CA"].map((name) => {
          const path = envValue(sidecar, name);
          expect(path, name).toMatch(/^\//);
          const secret = secretVolumeHolding(pod, sidecar, path!);
          expect(secret, `${name}: a read-only Secret volume holding ${path}`).toBeDefined();
          expect(secret?.optional).not.toBe(true);
          const file = path!.slice(path!.lastIndexOf("/") + 1);
          // Each file is the Secret's key of the same name (all keys when no items are listed).
          const items = secret?.items;
          if (items) expect(items.find((item) => item.path === file)?.key).toBe(file);
          return { secret: secret!.secretName, file };
        });
        expect(new Set(files.map((f) => f.secret))).toEqual(new Set(["rolemapper-grpc-tls"]));
        expect(files.map((f) => f.file)).toEqual(["tls.crt", "tls.key", "ca.crt"]);
        // The REST API authenticates by token only: the tokens stay.
        expect(envValue(sidecar, "ROLEMAPPER_API_TOKENS_FILE")).toEqual(expect.any(String));
      });
    });

    describe("the component on an existing Hasura", () => {
      const deployment = renderedDeployment("deploy/k8s/examples/existing-hasura");

      it("replaces the old webhook and keeps the team's own containers and secrets", () => {
        const [hasura, ...others] = podTemplate(deployment!).spec.containers;
        expect(others).toEqual([]);
        expect(hasura?.env?.filter((e) => e.name.startsWith("HASURA_GRAPHQL_AUTH_HOOK"))).toEqual([
          { name: "HASURA_GRAPHQL_AUTH_HOOK", value: "http://127.0.0.1:8092/v1/authenticate" },
          { name: "HASURA_GRAPHQL_AUTH_HOOK_MODE", value: "POST" },
          { name: "HASURA_GRAPHQL_AUTH_HOOK_SEND_REQUEST_BODY", value: "true" },
        ]);
        // The team's leftover anonymous role is gone.
        expect(hasura?.env?.map((e) => e.name)).not.toContain("HASURA_GRAPHQL_UNAUTHORIZED_ROLE");
        const sidecar = sidecarOf(deployment!)!;
        expect(sidecar.env?.find((e) => e.name === "GRAPHQL_ADMIN_SECRET")?.valueFrom?.secretKeyRef).toEqual({
          name: "team-hasura",
          key: "admin-secret",
        });
      });
    });
  },
);
