// Signing keys for access tokens: ES256 with a kid, a JWKS of every key whose
// tokens may still be alive, and rotation that keeps the previous public key
// published until the last token it signed has expired.
import { calculateJwkThumbprint, createLocalJWKSet, exportJWK, generateKeyPair, type CryptoKey, type JWK } from 'jose';

export const ALGORITHM = 'ES256';

interface SigningKey {
  kid: string;
  privateKey: CryptoKey;
  publicJwk: JWK;
  /** When the key stopped signing (ms); null while current. */
  retiredAt: number | null;
}

async function createKey(): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair(ALGORITHM, { extractable: true });
  const publicJwk = await exportJWK(publicKey);
  const kid = await calculateJwkThumbprint(publicJwk);
  return { kid, privateKey, publicJwk: { ...publicJwk, kid, alg: ALGORITHM, use: 'sig' }, retiredAt: null };
}

export class KeyRing {
  private keys: SigningKey[];
  private keySet: ReturnType<typeof createLocalJWKSet> | null = null;

  private constructor(first: SigningKey, private readonly tokenLifetimeMs: number) {
    this.keys = [first];
  }

  static async create(tokenLifetimeSeconds: number): Promise<KeyRing> {
    return new KeyRing(await createKey(), tokenLifetimeSeconds * 1000);
  }

  get current(): { kid: string; privateKey: CryptoKey } {
    return this.keys[0]!;
  }

  /** Starts signing with a new key; the old one stays in the JWKS until its tokens have expired. */
  async rotate(now = Date.now()): Promise<string> {
    const next = await createKey();
    this.keys[0]!.retiredAt = now;
    this.keys = [next, ...this.keys];
    this.keySet = null;
    this.prune(now);
    return next.kid;
  }

  jwks(now = Date.now()): { keys: JWK[] } {
    this.prune(now);
    return { keys: this.keys.map((k) => k.publicJwk) };
  }

  /** The verification key set, rebuilt only when the published keys change. */
  verificationKeys(now = Date.now()): ReturnType<typeof createLocalJWKSet> {
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
