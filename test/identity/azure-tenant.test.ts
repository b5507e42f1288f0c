import { describe, expect, it } from "vitest";
import { ENTRA_AUTHORITY_HOSTS, isEntraKeySetUrl } from "../../src/identity/azure-tenant.js";

const TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47";

describe("Entra key set detection", () => {
  it.each([
    ["https://login.microsoftonline.com/common/discovery/v2.0/keys", true],
    ["https://login.microsoftonline.com/organizations/discovery/v2.0/keys", true],
    // A tenant's own key URL serves the same keys as every other tenant's.
    [`https://login.microsoftonline.com/${TENANT}/discovery/v2.0/keys`, true],
    [`https://login.windows.net/${TENANT}/discovery/keys`, true],
    [`https://LOGIN.MicrosoftOnline.com./${TENANT}/discovery/keys`, true],
    [`https://login.microsoftonline.us/${TENANT}/discovery/v2.0/keys`, true],
    [`https://login.partner.microsoftonline.cn/${TENANT}/discovery/v2.0/keys`, true],
    [`https://login.chinacloudapi.cn/${TENANT}/discovery/v2.0/keys`, true],
    [`https://login.microsoftonline.de/${TENANT}/discovery/keys`, true],
    [`https://login.microsoftonline.com:443/${TENANT}/discovery/keys`, true],
    ["https://example.okta.com/oauth2/default/v1/keys", false],
    ["https://idp.example.com/realms/common/protocol/openid-connect/certs", false],
    ["https://login.microsoftonline.com.evil.example/common/discovery/keys", false],
    ["https://evil.example/login.microsoftonline.com/keys", false],
    ["not a url", false],
  ])("%s → %s", (url, expected) => {
    expect(isEntraKeySetUrl(url)).toBe(expected);
  });

  it("counts the host of AZURE_AUTHORITY_HOST as an Entra authority, whatever its port", () => {
    const authority = "https://login.sovereign.example:8443";
    expect(isEntraKeySetUrl("https://login.sovereign.example/tenant/discovery/keys", authority)).toBe(true);
    expect(isEntraKeySetUrl("https://keys.sovereign.example/tenant/discovery/keys", authority)).toBe(false);
  });

  it("lists host names only, in lower case", () => {
    for (const host of ENTRA_AUTHORITY_HOSTS) expect(host).toMatch(/^[a-z0-9.-]+$/);
  });
});
