// The provider's tokens of one family, sealed for the store: compact JWE
// (`dir`, A256GCM) with a key from the options, so a copy of the database
// (a backup, a dump, a replica) holds nothing usable without it. The `kid`
// names which key sealed a record: the first key of the option seals, every
// listed key opens, so a key can be rotated (a record is sealed again with
// the new key at its next upstream refresh; drop the old key after the
// longest session).
import { createHash } from 'node:crypto';
import { CompactEncrypt, compactDecrypt, decodeProtectedHeader } from 'jose';
import { OptionError } from '../core/errors';

/** What the store keeps of the provider's answer; never logged, never in an event. */
export interface UpstreamRecord {
  accessToken: string;
  tokenType: string;
  /** When the provider's access token expires, ms on the broker's clock (from its expires_in at receipt). */
  expiresAt: number;
  refreshToken?: string;
  /** For the RP-initiated logout's id_token_hint. */
  idToken?: string;
}

export interface UpstreamSeal {
  seal(record: UpstreamRecord): Promise<string>;
  /** Null for a record no listed key opens, or that is not one. */
  open(sealed: string | null): Promise<UpstreamRecord | null>;
}

const kidOf = (key: Uint8Array) => createHash('sha256').update(key).digest('base64url').slice(0, 11);

export function upstreamSeal(option: string | string[]): UpstreamSeal {
  const listed = typeof option === 'string' ? [option] : option;
  if (!Array.isArray(listed) || listed.length === 0) throw new OptionError('oidc.upstreamKey', 'expected a key, or a list of keys (the first seals)');
  const keys = listed.map((k) => {
    const bytes = Buffer.from(typeof k === 'string' ? k : '', 'base64url');
    if (typeof k !== 'string' || !/^[A-Za-z0-9_-]+$/.test(k) || bytes.length !== 32) throw new OptionError('oidc.upstreamKey', 'expected 32 bytes, base64url (43 characters)');
    return new Uint8Array(bytes);
  });
  const byKid = new Map(keys.map((k) => [kidOf(k), k]));
  const current = keys[0]!;
  const encoder = new TextEncoder();
  return {
    seal: (record) => new CompactEncrypt(encoder.encode(JSON.stringify(record))).setProtectedHeader({ alg: 'dir', enc: 'A256GCM', kid: kidOf(current) }).encrypt(current),
    async open(sealed) {
      if (!sealed) return null;
      try {
        const key = byKid.get(String(decodeProtectedHeader(sealed).kid));
        if (!key) return null;
        const record = JSON.parse(new TextDecoder().decode((await compactDecrypt(sealed, key)).plaintext)) as UpstreamRecord;
        return typeof record.accessToken === 'string' && typeof record.expiresAt === 'number' ? record : null;
      } catch {
        return null;
      }
    },
  };
}
