import type { MappingData } from "./mapping.js";

/**
 * The mapping checksum the store computes in SQL and the snapshot keeps up to date: the sum, modulo 2^48, of one
 * 32-bit hash per stored row. Each row hashes as `<kind> US <role_id> US <value>` (US: the unit separator, 0x1f)
 * with PostgreSQL's own `hashtext`, so both sides agree without shipping rows: kind `r` is a role and its
 * component, `f` one of its root fields, `s` one subject holding it (user or group).
 */
export const CHECKSUM_MODULUS = 2 ** 48;

/** The kind of row a hash stands for: a role (`r`), one of its root fields (`f`), a subject holding it (`s`). */
export type RowKind = "r" | "f" | "s";

const SEPARATOR = 0x1f;
const encoder = new TextEncoder();
let scratch = new Uint8Array(1024);

/** The row's hash as PostgreSQL's `hashtext(kind || chr(31) || role_id || chr(31) || value)`, unsigned. */
export function rowHash(kind: RowKind, roleId: string, value: string): number {
  const most = 3 * (roleId.length + value.length) + 3;
  if (most > scratch.length) scratch = new Uint8Array(most * 2);
  scratch[0] = kind.charCodeAt(0);
  scratch[1] = SEPARATOR;
  let length = encode(roleId, 2);
  scratch[length++] = SEPARATOR;
  length = encode(value, length);
  return hashBytes(scratch, length);
}

// UTF-8 into the scratch buffer at `at`, returning the end: ASCII by hand (nearly every id), the rest natively.
function encode(text: string, at: number): number {
  let end = at;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code >= 0x80) return at + encoder.encodeInto(text, scratch.subarray(at)).written;
    scratch[end++] = code;
  }
  return end;
}

/** `a + b` modulo CHECKSUM_MODULUS (both already reduced). */
export function addSum(a: number, b: number): number {
  const sum = a + b;
  return sum >= CHECKSUM_MODULUS ? sum - CHECKSUM_MODULUS : sum;
}

/** `a - b` modulo CHECKSUM_MODULUS (both already reduced). */
export function subtractSum(a: number, b: number): number {
  const difference = a - b;
  return difference < 0 ? difference + CHECKSUM_MODULUS : difference;
}

// PostgreSQL's hash_bytes (src/common/hashfn.c, Bob Jenkins' lookup3) on a little-endian server, as unsigned.
function hashBytes(k: Uint8Array, keyLength: number): number {
  let a = (0x9e3779b9 + keyLength + 3923095) | 0;
  let b = a;
  let c = a;
  let i = 0;
  let len = keyLength;
  while (len >= 12) {
    a = (a + word(k, i)) | 0;
    b = (b + word(k, i + 4)) | 0;
    c = (c + word(k, i + 8)) | 0;
    a = (a - c) ^ rot(c, 4);
    c = (c + b) | 0;
    b = (b - a) ^ rot(a, 6);
    a = (a + c) | 0;
    c = (c - b) ^ rot(b, 8);
    b = (b + a) | 0;
    a = (a - c) ^ rot(c, 16);
    c = (c + b) | 0;
    b = (b - a) ^ rot(a, 19);
    a = (a + c) | 0;
    c = (c - b) ^ rot(b, 4);
    b = (b + a) | 0;
    i += 12;
    len -= 12;
  }
  // The tail, as the C switch falls through; the lowest byte of c stays free (hashfn.c reserves it).
  if (len >= 11) c = (c + (k[i + 10]! << 24)) | 0;
  if (len >= 10) c = (c + (k[i + 9]! << 16)) | 0;
  if (len >= 9) c = (c + (k[i + 8]! << 8)) | 0;
  if (len >= 8) b = (b + (k[i + 7]! << 24)) | 0;
  if (len >= 7) b = (b + (k[i + 6]! << 16)) | 0;
  if (len >= 6) b = (b + (k[i + 5]! << 8)) | 0;
  if (len >= 5) b = (b + k[i + 4]!) | 0;
  if (len >= 4) a = (a + (k[i + 3]! << 24)) | 0;
  if (len >= 3) a = (a + (k[i + 2]! << 16)) | 0;
  if (len >= 2) a = (a + (k[i + 1]! << 8)) | 0;
  if (len >= 1) a = (a + k[i]!) | 0;
  c = (c ^ b) - rot(b, 14);
  a = (a ^ c) - rot(c, 11);
  b = (b ^ a) - rot(a, 25);
  c = (c ^ b) - rot(b, 16);
  a = (a ^ c) - rot(c, 4);
  b = (b ^ a) - rot(a, 14);
  c = (c ^ b) - rot(b, 24);
  return c >>> 0;
}

function word(k: Uint8Array, i: number): number {
  return k[i]! | (k[i + 1]! << 8) | (k[i + 2]! << 16) | (k[i + 3]! << 24);
}

function rot(x: number, n: number): number {
  return (x << n) | (x >>> (32 - n));
}

/** The checksum of a whole mapping as a store holds it, leaving out the roles in `except`. */
export function mappingChecksum(data: MappingData, except: ReadonlySet<string> = new Set()): string {
  let sum = 0;
  for (const role of data.roles) {
    if (except.has(role.roleId)) continue;
    sum = addSum(sum, rowHash("r", role.roleId, role.componentId));
    for (const field of role.rootFields) sum = addSum(sum, rowHash("f", role.roleId, field));
  }
  for (const grant of [...data.userGrants, ...data.groupGrants]) {
    if (!except.has(grant.roleId)) sum = addSum(sum, rowHash("s", grant.roleId, grant.subject));
  }
  return String(sum);
}
