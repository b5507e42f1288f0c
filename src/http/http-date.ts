/**
 * `seconds` since the epoch as an HTTP date (IMF-fixdate of RFC 9110, e.g. `Sun, 29 Nov 2026 17:00:00 GMT`): the
 * `%a, %d %b %Y %T GMT` format Hasura parses in a webhook answer's `Expires`.
 */
export function httpDate(seconds: number): string {
  // toUTCString is specified (ECMA-262, Date.prototype.toUTCString) to produce exactly this form.
  return new Date(Math.floor(seconds) * 1000).toUTCString();
}
