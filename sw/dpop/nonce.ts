// Server nonces (RFC 9449 section 8): remember the latest one a server handed
// out, and recognise a challenge that asks for a retry with it. Pure.

export const NONCE_HEADER = 'dpop-nonce';

/** The latest nonce per origin: an origin may host more than one server, but the worker talks to one origin. */
export class NonceBook {
  readonly #nonces = new Map<string, string>();

  get(url: string): string | null {
    return this.#nonces.get(new URL(url).origin) ?? null;
  }

  /** The nonces as IndexedDB keeps them between worker starts. */
  saved(): [origin: string, nonce: string][] {
    return [...this.#nonces];
  }

  /** Takes back what `saved` returned; anything else (page script can write there) is ignored. */
  restore(saved: unknown): void {
    if (!Array.isArray(saved)) return;
    for (const entry of saved) {
      if (Array.isArray(entry) && typeof entry[0] === 'string' && typeof entry[1] === 'string' && !this.#nonces.has(entry[0])) this.#nonces.set(entry[0], entry[1]);
    }
  }

  /** Takes DPoP-Nonce from any response, success or not; resolves whether it changed. */
  observe(url: string, headers: Headers): boolean {
    const nonce = headers.get(NONCE_HEADER);
    if (!nonce) return false;
    const origin = new URL(url).origin;
    if (this.#nonces.get(origin) === nonce) return false;
    this.#nonces.set(origin, nonce);
    return true;
  }
}

/**
 * Whether a response asks for the request again with a nonce: a 401 from a
 * resource with `WWW-Authenticate: DPoP error="use_dpop_nonce"`, or a 400 from
 * a token endpoint with the JSON error `use_dpop_nonce`; either must carry the
 * nonce, or a retry could not do better.
 */
export function isNonceChallenge(status: number, headers: Headers, body?: unknown): boolean {
  if (!headers.get(NONCE_HEADER)) return false;
  if (status === 401) return /\bDPoP\b[^]*error="use_dpop_nonce"/i.test(headers.get('www-authenticate') ?? '');
  if (status === 400) return typeof body === 'object' && body !== null && (body as { error?: unknown }).error === 'use_dpop_nonce';
  return false;
}

/**
 * Whether a new proof may get another answer: a nonce challenge, or a token
 * endpoint's refusal of the proof itself. The second is what a browser's own
 * resend of a request (the same bytes, proof included, after a connection
 * reset) gets once the first copy reached the server: its jti is spent.
 */
export function freshProofMayHelp(status: number, headers: Headers, body?: unknown): boolean {
  return isNonceChallenge(status, headers, body) || (status === 400 && typeof body === 'object' && body !== null && (body as { error?: unknown }).error === 'invalid_dpop_proof');
}
