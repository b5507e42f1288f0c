import { execFileSync, spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { readFile, writeFile } from "node:fs/promises";
import { join, relative } from "node:path";
import { parseAllDocuments } from "yaml";
import { madeOncePerRun } from "../support/run-scratch.js";

/** The repository root (tests run from it). */
export const ROOT = process.cwd();

/** Where the kustomizations live. */
export const K8S_DIR = join(ROOT, "deploy", "k8s");

/** The subset of a Kubernetes object these tests read. */
export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Record<string, string> };
  data?: Record<string, string>;
  stringData?: Record<string, string>;
  spec?: Record<string, unknown>;
}

/** An environment variable of a container. */
export interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: {
    secretKeyRef?: { name: string; key: string; optional?: boolean };
    configMapKeyRef?: { name: string; key: string; optional?: boolean };
  };
}

/** An HTTP probe. */
export interface Probe {
  httpGet?: { path: string; port: number | string };
  periodSeconds?: number;
  failureThreshold?: number;
}

/** A container lifecycle handler (only the kinds these manifests use). */
export interface LifecycleHandler {
  sleep?: { seconds: number };
  exec?: { command: string[] };
}

/** The subset of a container these tests read. */
export interface Container {
  name: string;
  image: string;
  restartPolicy?: string;
  ports?: { name?: string; containerPort: number }[];
  env?: EnvVar[];
  envFrom?: { configMapRef?: { name: string }; secretRef?: { name: string } }[];
  startupProbe?: Probe;
  readinessProbe?: Probe;
  livenessProbe?: Probe;
  lifecycle?: { preStop?: LifecycleHandler; postStart?: LifecycleHandler };
  volumeMounts?: { name: string; mountPath: string; readOnly?: boolean }[];
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  securityContext?: {
    runAsNonRoot?: boolean;
    runAsUser?: number;
    readOnlyRootFilesystem?: boolean;
    allowPrivilegeEscalation?: boolean;
    privileged?: boolean;
    capabilities?: { drop?: string[]; add?: string[] };
  };
}

/** The pod template of a Deployment. */
export interface PodTemplate {
  metadata: { labels: Record<string, string>; annotations?: Record<string, string> };
  spec: {
    containers: Container[];
    initContainers?: Container[];
    terminationGracePeriodSeconds?: number;
    topologySpreadConstraints?: {
      maxSkew: number;
      topologyKey: string;
      whenUnsatisfiable: string;
      nodeTaintsPolicy?: string;
      labelSelector?: { matchLabels?: Record<string, string> };
      matchLabelKeys?: string[];
    }[];
    volumes?: {
      name: string;
      secret?: { secretName: string; optional?: boolean; items?: { key: string; path: string }[] };
    }[];
  };
}

/** True when kubectl (with its built-in kustomize) is on the PATH. */
export const hasKubectl = spawnSync("kubectl", ["version", "--client"], { stdio: "ignore" }).status === 0;

/** Every directory under deploy/k8s holding a kustomization.yaml of kind Kustomization (not Component). */
export function kustomizationDirs(dir = K8S_DIR): string[] {
  const found: string[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) {
      found.push(...kustomizationDirs(path));
    } else if (
      name === "kustomization.yaml" &&
      /^kind:\s*Kustomization\s*$/m.test(readFileSync(path, "utf8"))
    ) {
      found.push(dir);
    }
  }
  return found.sort();
}

/** The directory relative to the repository root, for test names. */
export function shortName(dir: string): string {
  return relative(ROOT, dir);
}

/** The objects `kubectl kustomize` renders from a directory (throws with kubectl's message on failure). */
export function render(dir: string): K8sObject[] {
  const out = execFileSync("kubectl", ["kustomize", dir], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
  });
  return parseObjects(out, shortName(dir));
}

/** The Helm post-renderer of the deploy README, and a manifest shaped like the Hasura chart's output. */
export const POST_RENDERER = join(ROOT, "deploy", "helm", "post-renderer.sh");
export const CHART_OUTPUT = join(ROOT, "test", "deploy", "fixtures", "graphql-engine-chart.yaml");

/** What deploy/helm/post-renderer.sh prints for `input` on its stdin, as Helm would run it. */
export function postRender(input: string, args: string[] = []): K8sObject[] {
  const out = execFileSync(POST_RENDERER, args, { encoding: "utf8", input, stdio: ["pipe", "pipe", "pipe"] });
  return parseObjects(out, "post-renderer");
}

/** One shipped way to deploy, rendered: every kustomization, and the Helm recipe on the chart's output. */
export interface Example {
  readonly name: string;
  readonly objects: K8sObject[];
}

/** The name under which the Helm recipe appears among the examples. */
export const HELM_EXAMPLE = "deploy/helm/post-renderer.sh (deploy/k8s/examples/helm)";

/**
 * Every example rendered (empty without kubectl). The same deploy/ renders the same objects: kubectl runs once
 * per test run for it, shared by the test files that read the examples.
 */
export async function renderExamples(): Promise<Example[]> {
  if (!hasKubectl) return [];
  const cached = await madeOncePerRun(`examples-${deployDigest()}.json`, async (path) =>
    writeFile(path, JSON.stringify(await renderedOutputs())),
  );
  const outputs = cached
    ? (JSON.parse(await readFile(cached, "utf8")) as Rendered[])
    : await renderedOutputs();
  return outputs.map(({ name, source, out }) => ({ name, objects: parseObjects(out, source) }));
}

/** What rendered an example printed, and where it came from (for parse errors). */
interface Rendered {
  readonly name: string;
  readonly source: string;
  readonly out: string;
}

/** kubectl's output for every kustomization, and the post-renderer's for the chart: each a process, all at once. */
function renderedOutputs(): Promise<Rendered[]> {
  const kustomized = kustomizationDirs().map(async (dir) => ({
    name: shortName(dir),
    source: shortName(dir),
    out: await runTool("kubectl", ["kustomize", dir]),
  }));
  const helm = runTool(POST_RENDERER, [], readFileSync(CHART_OUTPUT, "utf8")).then((out) => ({
    name: HELM_EXAMPLE,
    source: "post-renderer",
    out,
  }));
  return Promise.all([...kustomized, helm]);
}

/** A digest of every file the renderings read: deploy/ and the chart's output. */
function deployDigest(): string {
  const hash = createHash("sha256");
  const add = (path: string): void => {
    if (statSync(path).isDirectory()) {
      for (const name of readdirSync(path).sort()) add(join(path, name));
    } else {
      hash
        .update(`${relative(ROOT, path)}\0`)
        .update(readFileSync(path))
        .update("\0");
    }
  };
  add(join(ROOT, "deploy"));
  add(CHART_OUTPUT);
  return hash.digest("hex").slice(0, 16);
}

/** What `command` prints, given `input` on its stdin; rejects with what it printed when it fails. */
function runTool(command: string, args: string[], input = ""): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ["pipe", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.on("data", (chunk: Buffer) => (out += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (err += chunk.toString()));
    child.on("error", reject);
    child.on("close", (status) =>
      status === 0
        ? resolve(out)
        : reject(new Error(`${command} ${args.join(" ")} failed (${status}):\n${err}`)),
    );
    child.stdin.end(input);
  });
}

function parseObjects(out: string, source: string): K8sObject[] {
  return parseAllDocuments(out).map((doc) => {
    if (doc.errors.length > 0) throw new Error(`${source}: ${doc.errors[0]?.message}`);
    return doc.toJS() as K8sObject;
  });
}

/** The pod template of a Deployment object. */
export function podTemplate(deployment: K8sObject): PodTemplate {
  return (deployment.spec as { template: PodTemplate }).template;
}

/** The value of a plain (not referenced) environment variable, or undefined. */
export function envValue(container: Container, name: string): string | undefined {
  return container.env?.find((e) => e.name === name)?.value;
}

/** A probe's or Service's port as a number, resolving a named port against the container's ports. */
export function resolvePort(container: Container, port: number | string): number | undefined {
  if (typeof port === "number") return port;
  return container.ports?.find((p) => p.name === port)?.containerPort;
}
