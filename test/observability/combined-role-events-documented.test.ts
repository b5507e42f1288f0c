import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

// An operator who sees a combined-role log line finds in the README's combined-roles section what it means.
const README = readFileSync("README.md", "utf8");
const start = README.indexOf("### Combined roles");
const SECTION = README.slice(start, README.indexOf("\n### ", start + 1));

const eventsOf = (path: string) =>
  [...readFileSync(path, "utf8").matchAll(/event: "([a-z_]+)"/g)].map((match) => match[1]!);

const METADATA = "src/hasura-metadata";
const sources: [string, string[]][] = [
  ...readdirSync(METADATA).map((file): [string, string[]] => [
    join(METADATA, file),
    eventsOf(join(METADATA, file)),
  ]),
  ["src/wiring/combined-roles.ts", eventsOf("src/wiring/combined-roles.ts")],
  // Its one listener of deleted roles is the combined roles' registry (forgetWithParents).
  [
    "src/core/snapshot-sync.ts",
    eventsOf("src/core/snapshot-sync.ts").filter((event) => event === "role_deletion_listener_failed"),
  ],
];
const events = sources.flatMap(([path, logged]) => logged.map((event): [string, string] => [event, path]));

describe("the README's combined-roles section", () => {
  it("is found, and the sources log events", () => {
    expect(start).toBeGreaterThan(0);
    expect(events.map(([event]) => event)).toContain("role_deletion_listener_failed");
  });

  it.each(events)("names `%s` (logged in %s)", (event) => {
    expect(SECTION).toContain(`\`${event}\``);
  });
});
