// Verification of DPoP proofs (RFC 9449): the proof is a JWT signed by the
// key in its own header; it names the request (htm, htu), when it was made
// (iat), a one-time id (jti), and on API requests the access token (ath).
// Nothing here knows Fastify: the routes pass in what the request was.
import { createHash } from 'node:crypto';
import { errors, jwtVerify } from 'jose';
import type { DpopNonces } from './nonces';
import { ProofKeyCache, type ProofKey } from './key-cache';
import type { JtiStore } from '../store/jti';

/** ES256 only: what the worker signs with, and no algorithm confusion to worry about. */
export const DPOP_ALGORITHMS = ['ES256'];

export type ProofError = 'invalid_dpop_proof' | 'use_dpop_nonce';
/** What a valid proof binds a token to. */
export interface ProofBinding {
  /** The thumbprint of the proof's key. */
  jkt: string;
  /**
   * On token requests: how many seconds the client's clock runs ahead of the
   * server's (negative: behind), as the proof's iat shows; 0 within the iat window.
   */
  clockSkew: number;
}

export type ProofResult = ({ ok: true } & ProofBinding) | { ok: false; error: ProofError; message: string };

export interface ProofExpectation {
  method: string;
  /** The absolute URL the request was made to, as this server sees it. */
  url: string;
  /** On API requests: the access token the proof must name in `ath`. */
  accessToken?: string;
  /**
   * On API requests: the client's clock skew that the token was issued with (its
   * `dpop_skew` claim); a promise when the token is being verified at the same time.
   */
  clockSkew?: number | PromiseLike<number>;
}

/** The most a client's clock may be off and still sign in: a day either way. */
export const MAX_CLOCK_SKEW_SECONDS = 86_400;

export interface DpopVerifierOptions {
  nonces: DpopNonces;
  /** Demand a server nonce in every proof; otherwise one is demanded only when the proof's iat is out of the window. */
  requireNonce: boolean;
  /** The broker's clock (ms since the epoch), so the window is judged by the clock the server stamps tokens with. */
  now?: () => number;
  iatWindowSeconds?: number;
}

const MAX_PROOF_LENGTH = 4096;
const MAX_JTI_LENGTH = 256;

/** The htu form: no query, no fragment, and the URL parser's normalisation of scheme, host, port and path. */
export function normalizeHtu(value: unknown): string | null {
  if (typeof value !== 'string') return null;
  try {
    const url = new URL(value);
    if (url.protocol !== 'https:' && url.protocol !== 'http:') return null;
    url.search = '';
    url.hash = '';
    return url.href;
  } catch {
    return null;
  }
}

/** base64url(SHA-256(token)): the `ath` claim. */
export function accessTokenHash(token: string): string {
  return createHash('sha256').update(token).digest('base64url');
}

function invalid(message: string): ProofResult {
  return { ok: false, error: 'invalid_dpop_proof', message };
}

export class DpopVerifier {
  private readonly windowMs: number;
  /** How long a proof id is kept: see the constructor. */
  readonly jtiRetentionMs: number;
  private readonly keys = new ProofKeyCache();

  constructor(
    private readonly jti: JtiStore,
    private readonly options: DpopVerifierOptions,
  ) {
    this.windowMs = (options.iatWindowSeconds ?? 60) * 1000;
    // At least as long as the proof could pass again: without a nonce, its iat is within the window
    // on either side of the server's clock (2 x window); with one, whatever its iat (a token request
    // may show a clock a day off), only while the nonce lives, which is up to two slots. The
    // 120 s floor is the retention of before, for short windows.
    this.jtiRetentionMs = 2 * Math.max(this.windowMs, options.nonces.slotMs, 120_000);
  }

  /** The nonce to send in DPoP-Nonce headers now. */
  currentNonce(): string {
    return this.options.nonces.current(this.now());
  }

  private now(): number {
    return (this.options.now ?? Date.now)();
  }

  async verify(proof: string | string[] | undefined, expected: ProofExpectation): Promise<ProofResult> {
    if (typeof proof !== 'string' || proof === '') return invalid('A DPoP proof is required');
    if (proof.length > MAX_PROOF_LENGTH) return invalid('The DPoP proof is too large');
    let payload: Record<string, unknown>;
    let jkt: string;
    try {
      let resolved: Promise<ProofKey> | undefined;
      const verified = await jwtVerify(
        proof,
        (header, token) => {
          resolved = this.keys.resolve(header, token);
          return resolved.then((k) => k.key);
        },
        { typ: 'dpop+jwt', algorithms: DPOP_ALGORITHMS },
      );
      payload = verified.payload;
      jkt = (await resolved!).jkt;
    } catch (err) {
      if (err instanceof errors.JOSEError || err instanceof TypeError) return invalid(`The DPoP proof is invalid: ${err.message}`);
      throw err;
    }
    const { htm, htu, iat, jti, ath, nonce } = payload;
    if (typeof jti !== 'string' || jti === '' || jti.length > MAX_JTI_LENGTH) return invalid('The DPoP proof needs a jti');
    if (htm !== expected.method) return invalid('The DPoP proof was made for another method (htm)');
    const expectedHtu = normalizeHtu(expected.url);
    if (expectedHtu === null || normalizeHtu(htu) !== expectedHtu) return invalid('The DPoP proof was made for another URL (htu)');
    if (expected.accessToken !== undefined) {
      if (ath !== accessTokenHash(expected.accessToken)) return invalid('The DPoP proof does not name this access token (ath)');
    } else if (ath !== undefined) {
      return invalid('A DPoP proof for a token request must not carry ath');
    }
    if (typeof iat !== 'number' || !Number.isFinite(iat)) return invalid('The DPoP proof needs a numeric iat');

    const now = this.now();
    if (nonce !== undefined) {
      // A valid nonce proves the proof is at most two nonce slots old.
      if (!this.options.nonces.isValid(nonce, now)) return { ok: false, error: 'use_dpop_nonce', message: 'The DPoP nonce is stale' };
    } else if (this.options.requireNonce) {
      return { ok: false, error: 'use_dpop_nonce', message: 'The DPoP proof must carry the server nonce' };
    }
    // Seconds the client's clock runs ahead of this server's, by this proof.
    const ahead = iat - now / 1000;
    let clockSkew = 0;
    if (expected.accessToken === undefined) {
      // A token request: the client's clock may be hours off. With a fresh nonce the proof is
      // known to be recent whatever its iat says, so the offset it shows is the client's clock;
      // the token records it, and the API judges every later proof by it (below).
      if (Math.abs(ahead) * 1000 > this.windowMs) {
        if (nonce === undefined || Math.abs(ahead) > MAX_CLOCK_SKEW_SECONDS) {
          return { ok: false, error: 'use_dpop_nonce', message: 'The DPoP proof iat is outside the accepted window: send it again with the server nonce' };
        }
        clockSkew = Math.round(ahead);
      }
    } else if (Math.abs(ahead - ((await expected.clockSkew) ?? 0)) * 1000 > this.windowMs) {
      // Checked with a nonce too: script that can sign with the key must not stamp proofs for
      // later. The window is the client's clock as the token recorded it at issue.
      return { ok: false, error: 'use_dpop_nonce', message: "The DPoP proof iat is outside the accepted window of the client's clock" };
    }

    // Last, so a proof refused for another reason does not use up its jti.
    if (!(await this.jti.claim(`${jkt}.${jti}`, now + this.jtiRetentionMs, now))) {
      return invalid('The DPoP proof was already used (jti)');
    }
    return { ok: true, jkt, clockSkew };
  }
}
