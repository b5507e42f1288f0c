import { describe, expect, it } from "vitest";
import { groupSubject, userSubject } from "../../src/core/subjects.js";

describe("subjects", () => {
  it.each([
    ["alice@corp.com", "user:alice_corp.com"],
    ["alice@corp@example.com", "user:alice_corp@example.com"],
    ["service-principal", "user:service-principal"],
    ["@corp.com", "user:_corp.com"],
    ["Alice.Smith@Corp.COM", "user:Alice.Smith_Corp.COM"],
  ])("user %s → %s (first @ only, case kept)", (name, subject) => {
    expect(userSubject(name)).toBe(subject);
  });

  it.each([
    ["Data Analysts", "group:Data Analysts"],
    ["0b2f8a9e-1111-2222-3333-444455556666", "group:0b2f8a9e-1111-2222-3333-444455556666"],
    ["team@corp.com", "group:team@corp.com"],
  ])("group %s → %s (name kept as is)", (name, subject) => {
    expect(groupSubject(name)).toBe(subject);
  });
});
