// An HTTP answer as the checks see it: headers lower-cased, Set-Cookie kept
// apart (it cannot be joined into one value).
export interface Answer {
  url: string;
  status: number;
  headers: Record<string, string>;
  setCookies: string[];
  body: string;
}

/** The JSON `error` code of an answer (`{"error": "csrf"}`), if it has one. */
export function errorCode(answer: Pick<Answer, 'body'>): string | undefined {
  try {
    const parsed = JSON.parse(answer.body) as { error?: unknown };
    if (typeof parsed.error === 'string') return parsed.error;
    // The worker's own error shape, for a backend that answers like it.
    const nested = parsed.error as { code?: unknown } | undefined;
    return typeof nested?.code === 'string' ? nested.code : undefined;
  } catch {
    return undefined;
  }
}

const LOOPBACK = /^(localhost|[^/]*\.localhost|127(\.\d{1,3}){3}|\[::1\])$/i;

/** Plain http to this machine: local development, where browsers allow workers without https. */
export function isLoopbackHttp(url: URL): boolean {
  return url.protocol === 'http:' && LOOPBACK.test(url.hostname);
}
