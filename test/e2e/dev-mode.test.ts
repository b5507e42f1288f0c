import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SAMPLE_ROLE } from "../../src/wiring/sample-mapping.js";
import { startTestSidecar, type RunningSidecar } from "../support/sidecar-harness.js";

// The README's quick start: embedded defaults, the local development issuer, the sample mapping.
let running: RunningSidecar;
let base: string;

beforeAll(async () => {
  running = await startTestSidecar();
  base = running.webhookUrl;
});

afterAll(async () => {
  await running?.stop();
});

describe("development mode", () => {
  it("answers the README's curl with the sample role", async () => {
    const issuer = running.issuer!;
    const token = await issuer.mint({ user: "alice@example.com", groups: ["analysts"] });
    const answer = await running.ask(token, "{ sales_orders { id total } }");
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({
      "X-Hasura-User-Id": "user:alice_example.com",
      "X-Hasura-Role": SAMPLE_ROLE.roleId,
    });
  });

  it("refuses a development token whose user is not an address, as it would any token (USER_CLAIM_FORMAT=email)", async () => {
    const issuer = running.issuer!;
    const token = await issuer.mint({ user: "alice_example.com", groups: ["analysts"] });
    const answer = await running.post({
      headers: { Authorization: `Bearer ${token}`, "x-request-id": "dev-not-an-address" },
      request: { query: "{ sales_orders { id total } }" },
    });
    expect(answer.status).toBe(401);
    const decision = running.log.lines().find((line) => line.request_id === "dev-not-an-address");
    expect(decision).toMatchObject({ outcome: "deny", reason: "user_claim_not_email" });
  });

  it("serves the local issuer's public keys and says loudly that it is development mode", async () => {
    const jwks = (await (await fetch(`${base}/dev/jwks.json`)).json()) as { keys: Record<string, unknown>[] };
    expect(jwks.keys).toHaveLength(1);
    expect(jwks.keys[0]).not.toHaveProperty("d");
    const warning = running.log.lines().find((line) => line.event === "development_mode");
    expect(warning?.msg).toMatch(/DEVELOPMENT MODE/);
  });

  it("answers an unknown path with a JSON 404 on both listeners", async () => {
    const admin = running.adminUrl;
    // (`/v1/roles/` is ListRoles' route since every RPC has one: an unknown path below it instead.)
    for (const url of [`${base}/nope`, `${admin}/v1/roles/a/b`, `${admin}/nope`]) {
      const response = await fetch(url);
      expect(response.status).toBe(404);
      expect(await response.json()).toBe("Not found");
    }
  });

  it("is ready once the mappings are loaded", async () => {
    expect((await fetch(`${base}/readyz`)).status).toBe(200);
    expect(await (await fetch(`${base}/v1/health`)).json()).toBe("Alive");
  });
});
