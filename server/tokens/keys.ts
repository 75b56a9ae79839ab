// Signing keys for access tokens: ES256 with a kid, a JWKS of every key whose
// tokens may still be alive, and rotation that keeps the previous public key
// published until the last token it signed has expired.
import { calculateJwkThumbprint, createLocalJWKSet, exportJWK, generateKeyPair, importJWK, type CryptoKey, type JWK } from 'jose';
import { OptionError } from '../core/errors';

export const ALGORITHM = 'ES256';

interface SigningKey {
  kid: string;
  privateKey: CryptoKey;
  publicJwk: JWK;
  /** When the key stopped signing (ms); null while current. */
  retiredAt: number | null;
}

async function signingKey(privateKey: CryptoKey, publicJwk: JWK): Promise<SigningKey> {
  // The thumbprint as kid: instances loading the same key agree on it without coordination.
  const kid = await calculateJwkThumbprint(publicJwk);
  return { kid, privateKey, publicJwk: { ...publicJwk, kid, alg: ALGORITHM, use: 'sig' }, retiredAt: null };
}

async function createKey(): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair(ALGORITHM, { extractable: true });
  return signingKey(privateKey, await exportJWK(publicKey));
}

/** A private P-256 JWK given as JSON (the `signingKey` option). */
async function importKey(json: string): Promise<SigningKey> {
  let jwk: JWK;
  try {
    jwk = JSON.parse(json) as JWK;
  } catch {
    throw new OptionError('signingKey', 'expected a private JWK as JSON');
  }
  if (jwk === null || typeof jwk !== 'object' || jwk.kty !== 'EC' || jwk.crv !== 'P-256' || typeof jwk.d !== 'string') {
    throw new OptionError('signingKey', 'expected a private EC P-256 JWK (kty EC, crv P-256, with d)');
  }
  const { kty, crv, x, y } = jwk;
  const privateKey = await importJWK(jwk, ALGORITHM).catch((err: Error) => {
    throw new OptionError('signingKey', err.message);
  });
  return signingKey(privateKey as CryptoKey, { kty, crv, x, y });
}

export class KeyRing {
  private keys: SigningKey[];
  private keySet: ReturnType<typeof createLocalJWKSet> | null = null;

  private constructor(
    first: SigningKey,
    private readonly tokenLifetimeMs: number,
    private readonly clock: () => number,
  ) {
    this.keys = [first];
  }

  /** A ring that starts with `privateJwk` (JSON) when given, so that several instances sign alike; else with a fresh key. */
  static async create(tokenLifetimeSeconds: number, privateJwk = '', clock: () => number = Date.now): Promise<KeyRing> {
    return new KeyRing(privateJwk ? await importKey(privateJwk) : await createKey(), tokenLifetimeSeconds * 1000, clock);
  }

  get current(): { kid: string; privateKey: CryptoKey } {
    return this.keys[0]!;
  }

  /**
   * Starts signing with a new key; the old one stays in the JWKS until its tokens
   * have expired. In-process only: instances sharing SIGNING_KEY rotate by
   * being redeployed with a new one (tokens of the old key then get a 401,
   * which the worker answers with one refresh).
   */
  async rotate(now = this.clock()): Promise<string> {
    const next = await createKey();
    this.keys[0]!.retiredAt = now;
    this.keys = [next, ...this.keys];
    this.keySet = null;
    this.prune(now);
    return next.kid;
  }

  jwks(now = this.clock()): { keys: JWK[] } {
    this.prune(now);
    return { keys: this.keys.map((k) => k.publicJwk) };
  }

  /** The verification key set, rebuilt only when the published keys change. */
  verificationKeys(now = this.clock()): ReturnType<typeof createLocalJWKSet> {
    this.prune(now);
    this.keySet ??= createLocalJWKSet({ keys: this.keys.map((k) => k.publicJwk) });
    return this.keySet;
  }

  private prune(now: number): void {
    // A grace of one minute covers clock offsets between instances.
    const kept = this.keys.filter((k) => k.retiredAt === null || now - k.retiredAt < this.tokenLifetimeMs + 60_000);
    if (kept.length !== this.keys.length) this.keySet = null;
    this.keys = kept;
  }
}
