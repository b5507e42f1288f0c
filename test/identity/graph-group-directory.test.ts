import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { UnavailableError } from "../../src/core/errors.js";
import { createAzureGraph } from "../../src/identity/graph-groups.js";
import { groupFilterUrl } from "../../src/identity/graph-group-directory.js";
import { GraphStandIn } from "../support/graph-stand-in.js";

let graph: GraphStandIn;
beforeEach(async () => {
  graph = await GraphStandIn.start();
});
afterEach(() => graph.close());

function directory() {
  return createAzureGraph({
    ...graph.connection,
    retry: { maxAttempts: 2, baseDelayMs: 1 },
  }).directory;
}

describe("group names looked up in Microsoft Graph", () => {
  it("quotes the name as an OData string literal and percent-encodes the filter", () => {
    const base = new URL("https://graph.microsoft.com/v1.0/");
    expect(groupFilterUrl(base, "O'Brien & co")).toBe(
      "https://graph.microsoft.com/v1.0/groups?$filter=displayName%20eq%20%27O%27%27Brien%20%26%20co%27" +
        "&$select=id,displayName",
    );
    expect(groupFilterUrl(base, "a#b?c=d+e")).toBe(
      "https://graph.microsoft.com/v1.0/groups?$filter=displayName%20eq%20%27a%23b%3Fc%3Dd%2Be%27" +
        "&$select=id,displayName",
    );
  });

  it("answers the id of the one group holding a name, quotes and all", async () => {
    const team = graph.createGroup("O'Brien's team");
    graph.createGroup("other");
    expect(await directory().holdersOf("O'Brien's team")).toEqual([team.id]);
    expect(graph.groupLookups).toBe(1);
  });

  it("answers every group holding a name, across pages, and none for an unknown name", async () => {
    graph.pageSize = 1;
    const first = graph.createGroup("admins");
    const twin = graph.createGroup("admins");
    graph.createGroup("readers");
    expect([...(await directory().holdersOf("admins"))].sort()).toEqual([first.id, twin.id].sort());
    expect(graph.groupLookups).toBe(2);
    expect(await directory().holdersOf("nobody")).toEqual([]);
  });

  it("counts only exact matches when Graph answers names that differ in case", async () => {
    const exact = graph.createGroup("Admins");
    graph.createGroup("ADMINS");
    expect(await directory().holdersOf("Admins")).toEqual([exact.id]);
  });

  it("finds groups known only through memberships, and forgets deleted ones", async () => {
    const member = graph.createGroup("sales");
    graph.addMember("8f3d2b1a-4c5e-4f6a-9b8c-7d6e5f4a3b2c", member);
    graph.deleteGroup(member.id);
    expect(await directory().holdersOf("sales")).toEqual([]);
  });

  it("fails closed when Graph fails", async () => {
    graph.createGroup("admins");
    graph.storm = 500;
    await expect(directory().holdersOf("admins")).rejects.toBeInstanceOf(UnavailableError);
  });
});
