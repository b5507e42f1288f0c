import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { PGlite } from "@electric-sql/pglite";
import { describe, expect, it } from "vitest";
import { copyPristineCluster } from "../support/pglite-template.js";
import { hasKubectl, K8S_DIR, podTemplate, render, ROOT, type K8sObject } from "./manifests.js";
import { DEPLOY_README, sections } from "./readme.js";

// A fresh install following deploy/README.md's numbered steps in order: each step creates what later steps and
// the applied manifests use.
const all = sections();
const steps = [...all.entries()].filter(([heading]) => /^\d+\. /.test(heading));
const stepIndex = (title: RegExp) => steps.findIndex(([heading]) => title.test(heading));
const stepText = (title: RegExp) => steps[stepIndex(title)]?.[1] ?? "";
const version = (JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { version: string }).version;

describe("deploy/README.md's installation steps", () => {
  it("are numbered 1, 2, 3, … in order", () => {
    expect(steps.map(([heading]) => Number(heading.split(".")[0]))).toEqual(steps.map((_, i) => i + 1));
  });

  it("create the namespace before anything is put in it", () => {
    const namespace = /kubectl create namespace (\S+)/.exec(stepText(/namespace/i))?.[1];
    expect(namespace).toBeDefined();
    expect(stepIndex(/namespace/i)).toBeLessThan(stepIndex(/Secrets/));
    expect(stepIndex(/namespace/i)).toBeLessThan(stepIndex(/apply/));
    const production = readFileSync(join(K8S_DIR, "examples", "production", "kustomization.yaml"), "utf8");
    expect(/^namespace: (\S+)$/m.exec(production)?.[1]).toBe(namespace);
    for (const command of DEPLOY_README.matchAll(/kubectl (?:-n (\S+) )?create secret generic/g)) {
      expect(command[1]).toBe(namespace);
    }
  });

  it("create every table that the tracking request names, running the scripts in the order shown", async () => {
    const scripts = [...stepText(/tables/i).matchAll(/psql .* -f (deploy\/sql\/\S+\.sql)/g)].map(
      (m) => m[1]!,
    );
    expect(scripts.length).toBeGreaterThan(0);
    expect(stepIndex(/Create the tables/)).toBeLessThan(stepIndex(/Track the tables/));
    const tracked = (
      JSON.parse(readFileSync(join(ROOT, "deploy", "hasura", "track-tables.json"), "utf8")) as {
        args: { type: string; args: { table: { schema: string; name: string } } }[];
      }
    ).args
      .filter((a) => a.type === "pg_track_table")
      .map((a) => `${a.args.table.schema}.${a.args.table.name}`);
    // A copy of an initialised cluster: initdb is not what this checks.
    const copy = await copyPristineCluster();
    const db = new PGlite(copy?.dataDir);
    try {
      for (const script of scripts) await db.exec(readFileSync(join(ROOT, script), "utf8"));
      const tables = await db.query<{ name: string }>(
        "SELECT table_schema || '.' || table_name AS name FROM information_schema.tables",
      );
      const created = tables.rows.map((row) => row.name);
      for (const table of tracked) expect(created, table).toContain(table);
    } finally {
      await db.close();
      await copy?.remove();
    }
  });

  it("show a versioned remote base, at this version's tag, for an overlay copied elsewhere", () => {
    const remote = /https:\/\/\S+\/\/(deploy\/k8s\/base)\?ref=(v\S+)/.exec(stepText(/apply/));
    expect(remote, "a remote base with ?ref=v…").not.toBeNull();
    expect(existsSync(join(ROOT, remote![1]!, "kustomization.yaml"))).toBe(true);
    expect(remote![2]).toBe(`v${version}`);
  });

  it("say what the pod looks like before the tables are tracked, and why", () => {
    const apply = stepText(/apply/);
    expect(stepIndex(/apply/)).toBeLessThan(stepIndex(/Track the tables/));
    expect(apply).toMatch(/READY 1\/2/);
    expect(apply).toMatch(/\/readyz/);
    expect(apply).toMatch(/store_unreachable/);
  });

  describe.skipIf(!hasKubectl)("against the production example as rendered", () => {
    const objects: K8sObject[] = hasKubectl ? render(join(K8S_DIR, "examples", "production")) : [];
    const pod = podTemplate(objects.find((o) => o.kind === "Deployment")!);
    const containers = [...pod.spec.containers, ...(pod.spec.initContainers ?? [])];
    const created = [...stepText(/Secrets/).matchAll(/create secret generic (\S+)/g)].map((m) => m[1]);

    it("create, before the apply, every Secret the pod reads", () => {
      const read = new Set([
        ...containers.flatMap((c) => (c.env ?? []).map((e) => e.valueFrom?.secretKeyRef?.name)),
        ...(pod.spec.volumes ?? []).map((v) => v.secret?.secretName),
      ]);
      read.delete(undefined);
      expect(read.size).toBeGreaterThan(0);
      for (const name of read) expect(created, name).toContain(name);
      expect(stepIndex(/Secrets/)).toBeLessThan(stepIndex(/apply/));
    });

    it("mark the Azure Secret required where GROUPS_PROVIDER=azure makes it so", () => {
      const settings = objects.find(
        (o) => o.kind === "ConfigMap" && o.metadata.name.startsWith("rolemapper-settings"),
      );
      expect(settings?.data?.GROUPS_PROVIDER).toBe("azure");
      const sidecar = pod.spec.initContainers!.find((c) => c.name === "rolemapper")!;
      const azure = (sidecar.env ?? []).filter((e) => e.valueFrom?.secretKeyRef?.name === "rolemapper-azure");
      expect(azure.map((e) => e.name).sort()).toEqual([
        "AZURE_CLIENT_ID",
        "AZURE_CLIENT_SECRET",
        "AZURE_TENANT_ID",
      ]);
      for (const variable of azure)
        expect(variable.valueFrom?.secretKeyRef?.optional, variable.name).toBe(false);
      // What the kubelet says then, as the README tells it.
      expect(stepText(/Secrets/)).toContain('secret "rolemapper-azure" not found');
    });
  });
});
