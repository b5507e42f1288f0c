/** The subject prefixes the grant tables use: a role is held by `user:<name>` or `group:<name>`. */
export const USER_PREFIX = "user:";
export const GROUP_PREFIX = "group:";

/** `alice@corp.com` → `user:alice_corp.com`: only the first `@` is replaced, as the existing tables expect. */
export function userSubject(name: string): string {
  return USER_PREFIX + name.replace("@", "_");
}

/** A group's display name (or id) → `group:<name>`. */
export function groupSubject(name: string): string {
  return GROUP_PREFIX + name;
}
