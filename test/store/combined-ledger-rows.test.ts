import { describe, expect, it } from "vitest";
import { ledgerEntry, parentRolesText } from "../../src/store/combined-ledger-rows.js";

// The one reader of the ledger's rows for both stores (SQL and Hasura).
describe("ledger rows", () => {
  it("read back the parents as written", () => {
    expect(ledgerEntry("rm_a", parentRolesText(["orders", "sales"]))).toEqual({
      name: "rm_a",
      parents: ["orders", "sales"],
    });
  });

  it.each([["not json"], ['{"orders":true}'], [null], ['["orders", 7]']])(
    "read parents edited by hand (%j) as none, or only their strings",
    (text) => {
      const { parents } = ledgerEntry("rm_a", text);
      expect(parents).toEqual(text === '["orders", 7]' ? ["orders"] : []);
    },
  );
});
