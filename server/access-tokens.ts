// Access tokens: short-lived JWTs signed with the key ring, verified against
// its JWKS (so tokens of a retired key stay valid until they expire).
import { errors, jwtVerify, SignJWT } from 'jose';
import { ALGORITHM, type KeyRing } from './keys';
import type { User } from './passwords';

export const ISSUER = 'token-broker-reference';
export const AUDIENCE = 'token-broker-api';

export interface AccessClaims {
  sub: string;
  name: string;
  role: string;
  exp: number;
  iat: number;
  /** RFC 9449 binding: the thumbprint of the DPoP key the token may only be used with. */
  cnf?: { jkt?: string };
  /** The refresh family (the sign-in session) the token was issued for: renewal asks whether it is still live. */
  sid?: string;
}

export interface IssueOptions {
  /** Bind the token to this DPoP key (cnf.jkt); null or absent issues a bearer token. */
  jkt?: string | null;
  /** The refresh family the token belongs to. */
  sid: string;
  /** Epoch ms (real time) after which the token must not be valid: its family's absolute end. */
  notAfter?: number;
}

export class AccessTokens {
  constructor(
    private readonly keys: KeyRing,
    private readonly ttlSeconds: number,
    /** Simulated server clock error, seconds (positive: the server clock runs ahead). */
    private readonly clockOffsetSeconds = 0,
  ) {}

  get ttl(): number {
    return this.ttlSeconds;
  }

  private nowSeconds(): number {
    return Math.floor(Date.now() / 1000) + this.clockOffsetSeconds;
  }

  async issue(user: User, { jkt = null, sid, notAfter }: IssueOptions): Promise<string> {
    const now = this.nowSeconds();
    const { kid, privateKey } = this.keys.current;
    const end = notAfter === undefined ? Infinity : Math.floor(notAfter / 1000) + this.clockOffsetSeconds;
    return new SignJWT({ name: user.name, role: user.role, sid, ...(jkt && { cnf: { jkt } }) })
      .setProtectedHeader({ alg: ALGORITHM, kid, typ: 'at+jwt' })
      .setSubject(user.id)
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
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
        issuer: ISSUER,
        audience: AUDIENCE,
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
