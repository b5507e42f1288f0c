/**
 * The path a request's route is chosen by, as express chose it: without the query string or one trailing slash,
 * in lower case (express's routes are case-insensitive).
 */
export function routePath(url: string | undefined): string {
  const raw = url ?? "/";
  const query = raw.indexOf("?");
  let path = query < 0 ? raw : raw.slice(0, query);
  if (path.length > 1 && path.endsWith("/")) path = path.slice(0, -1);
  return path.toLowerCase();
}
