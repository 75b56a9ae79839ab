// Access tokens: short-lived JWTs signed with the key ring, verified against
// its JWKS (so tokens of a retired key stay valid until they expire).
import { errors, jwtVerify, SignJWT } from 'jose';
import { ALGORITHM, type KeyRing } from './keys';

export const ISSUER = 'token-broker';
export const AUDIENCE = 'token-broker-api';

export interface AccessClaims {
  sub: string;
  exp: number;
  iat: number;
  /** RFC 9449 binding: the thumbprint of the DPoP key the token may only be used with. */
  cnf?: { jkt?: string };
  /** The refresh family (the sign-in session) the token was issued for: renewal asks whether it is still live. */
  sid?: string;
  /**
   * Of a DPoP-bound token: seconds the client's clock ran ahead of the server's when the
   * token was issued (negative: behind), by the iat of its token request's proof.
   * Absent when the clocks agreed. The API judges the iat of the token's proofs by it.
   */
  dpop_skew?: number;
  /** Epoch seconds of the sign-in the token descends from; a refresh keeps it (RFC 9470 `max_age`). */
  auth_time?: number;
  /** The class of that sign-in: `pwd` for a password (RFC 9470 `acr_values`). */
  acr?: string;
  /** Its methods (RFC 8176): `['pwd']` for a password. */
  amr?: string[];
  /** The account's own claims (`Account.claims`). */
  [claim: string]: unknown;
}

/** Who signed in: the subject, and the claims its access tokens carry besides the registered ones. */
export interface Account {
  sub: string;
  claims?: Record<string, unknown>;
}

/** Claims the token broker sets itself; an account's claims of these names are dropped. */
const REGISTERED = new Set(['iss', 'sub', 'aud', 'exp', 'nbf', 'iat', 'jti', 'cnf', 'sid', 'dpop_skew']);

function ownClaims(account: Account): Record<string, unknown> {
  return Object.fromEntries(Object.entries(account.claims ?? {}).filter(([name]) => !REGISTERED.has(name)));
}

export interface IssueOptions {
  /** Bind the token to this DPoP key (cnf.jkt); null or absent issues a bearer token. */
  jkt?: string | null;
  /** With `jkt`: the client's clock skew, seconds (see `AccessClaims.dpop_skew`). */
  clockSkew?: number;
  /** The refresh family the token belongs to. */
  sid: string;
  /** Epoch ms (by the broker's clock) after which the token must not be valid: its family's absolute end. */
  notAfter?: number;
}

export class AccessTokens {
  constructor(
    private readonly keys: KeyRing,
    private readonly ttlSeconds: number,
    /** The broker's clock, ms since the epoch. */
    private readonly now: () => number = Date.now,
    private readonly issuer = ISSUER,
    private readonly audience = AUDIENCE,
  ) {}

  get ttl(): number {
    return this.ttlSeconds;
  }

  private nowSeconds(): number {
    return Math.floor(this.now() / 1000);
  }

  async issue(account: Account, { jkt = null, clockSkew = 0, sid, notAfter }: IssueOptions): Promise<string> {
    const now = this.nowSeconds();
    const { kid, privateKey } = this.keys.current;
    const end = notAfter === undefined ? Infinity : Math.floor(notAfter / 1000);
    return new SignJWT({ ...ownClaims(account), sid, ...(jkt && { cnf: { jkt } }), ...(jkt && clockSkew && { dpop_skew: clockSkew }) })
      .setProtectedHeader({ alg: ALGORITHM, kid, typ: 'at+jwt' })
      .setSubject(account.sub)
      .setIssuer(this.issuer)
      .setAudience(this.audience)
      .setIssuedAt(now)
      .setExpirationTime(Math.min(now + this.ttlSeconds, end))
      .setJti(crypto.randomUUID())
      .sign(privateKey);
  }

  /** Resolves the claims of a valid token; null for anything else (expired, forged, alg none, wrong key). */
  async verify(token: string): Promise<AccessClaims | null> {
    try {
      const { payload } = await jwtVerify(token, this.keys.verificationKeys(), {
        algorithms: [ALGORITHM],
        issuer: this.issuer,
        audience: this.audience,
        typ: 'at+jwt',
        currentDate: new Date(this.nowSeconds() * 1000),
      });
      return payload as unknown as AccessClaims;
    } catch (err) {
      if (err instanceof errors.JOSEError || err instanceof TypeError) return null;
      throw err;
    }
  }
}
