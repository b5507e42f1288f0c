import type { GroupProvider } from "../core/identity.js";

/**
 * Remembers the groups read from each claims object. Claims groups depend on the claims alone, and a cached token
 * hands back the same frozen claims object, so a warm caller's groups are read and validated once; the memory is
 * bounded by the token cache (entries go with their claims).
 */
export function memoizeByClaims(provider: GroupProvider): GroupProvider {
  const memo = new WeakMap<object, readonly string[]>();
  return {
    async groupsOf(claims) {
      const known = memo.get(claims);
      if (known) return known;
      const groups = Object.freeze([...(await provider.groupsOf(claims))]);
      memo.set(claims, groups);
      return groups;
    },
  };
}
