// Where the app asked to land after a sign-in. Only a path of the app's own
// origin: anything else would make the start route an open redirect that
// carries the user off with a fresh session behind them.

/** The same-origin path `returnTo` names (path, query, fragment), or null when it names anything else. */
export function sameOriginPath(returnTo: string, origin: string): string | null {
  // `//host` and `/\host` are other hosts to a browser; control characters are stripped by URL parsers.
  if (!returnTo.startsWith('/') || returnTo.startsWith('//') || returnTo.startsWith('/\\') || [...returnTo].some((c) => c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f)) return null;
  let url: URL;
  try {
    url = new URL(returnTo, origin);
  } catch {
    return null;
  }
  if (url.origin !== origin) return null;
  // Dot segments collapse (`/.//evil.test` is `//evil.test`): a path that now starts like another host is refused too.
  if (url.pathname.startsWith('//') || url.pathname.startsWith('/\\')) return null;
  return url.pathname + url.search + url.hash;
}

/** `path` with one query parameter added (before any fragment), as the callback's redirect back carries it. */
export function withParam(path: string, name: string, value: string): string {
  const url = new URL(path, 'http://x');
  url.searchParams.set(name, value);
  return url.pathname + url.search + url.hash;
}
