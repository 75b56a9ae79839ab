// The attack review's attacker: a "passkey" made by script with WebCrypto, no authenticator,
// answering a WebAuthn ceremony by itself (attestation `none`, the user-verified flag its own to
// set). Each function is self-contained (no imports, no outer names) so that an e2e test can run
// it as page script with page.evaluate, and a Node test can call it directly (WebCrypto in both).
// (Only a type is imported: nothing of it is in the functions' code.)

import type { webcrypto } from 'node:crypto';

export interface SoftwarePasskey {
  id: string;
  /** The private key, as a JWK: what a later assertion signs with. */
  privateJwk: webcrypto.JsonWebKey;
  counter: number;
}

/** Answers registration options (`PublicKeyCredentialCreationOptionsJSON`) for `origin`: the response JSON and the key. */
export async function softwareRegistration({ options, origin }: { options: { challenge: string; rp: { id?: string } }; origin: string }): Promise<{ response: Record<string, unknown>; passkey: SoftwarePasskey }> {
  const b64url = (bytes: Uint8Array) => btoa(String.fromCharCode(...bytes)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  const fromB64url = (s: string) => Uint8Array.from(atob(s.replace(/-/g, '+').replace(/_/g, '/')), (c) => c.charCodeAt(0));
  const concat = (...parts: Uint8Array[]) => {
    const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const p of parts) {
      out.set(p, at);
      at += p.length;
    }
    return out;
  };
  // The few CBOR items an attestation object and a COSE key need (RFC 8949): ints, byte and text strings, maps.
  const head = (major: number, n: number) => (n < 24 ? new Uint8Array([(major << 5) | n]) : n < 256 ? new Uint8Array([(major << 5) | 24, n]) : new Uint8Array([(major << 5) | 25, n >> 8, n & 255]));
  type Item = number | string | Uint8Array | Array<[Item, Item]>;
  const cbor = (v: Item): Uint8Array => {
    if (typeof v === 'number') return v >= 0 ? head(0, v) : head(1, -1 - v);
    if (typeof v === 'string') {
      const bytes = new TextEncoder().encode(v);
      return concat(head(3, bytes.length), bytes);
    }
    if (v instanceof Uint8Array) return concat(head(2, v.length), v);
    return concat(head(5, v.length), ...v.flatMap(([k, x]) => [cbor(k), cbor(x)]));
  };
  const keys = await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify']);
  const pub = await crypto.subtle.exportKey('jwk', keys.publicKey);
  const rpId = options.rp.id ?? new URL(origin).hostname;
  const rpIdHash = new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(rpId)));
  const credId = crypto.getRandomValues(new Uint8Array(16));
  const coseKey = cbor([[1, 2], [3, -7], [-1, 1], [-2, fromB64url(pub.x!)], [-3, fromB64url(pub.y!)]]);
  // Flags: user present, user verified (the script says so), attested credential data.
  const authData = concat(rpIdHash, new Uint8Array([0x45, 0, 0, 0, 0]), new Uint8Array(16), new Uint8Array([0, credId.length]), credId, coseKey);
  const clientData = new TextEncoder().encode(JSON.stringify({ type: 'webauthn.create', challenge: options.challenge, origin, crossOrigin: false }));
  const attestationObject = cbor([['fmt', 'none'], ['attStmt', []], ['authData', authData]]);
  const id = b64url(credId);
  return {
    response: {
      id,
      rawId: id,
      type: 'public-key',
      response: { clientDataJSON: b64url(clientData), attestationObject: b64url(attestationObject), transports: ['internal'] },
      clientExtensionResults: {},
      authenticatorAttachment: 'platform',
    },
    passkey: { id, privateJwk: await crypto.subtle.exportKey('jwk', keys.privateKey), counter: 0 },
  };
}

/** Answers step-up options (`PublicKeyCredentialRequestOptionsJSON`) with the software passkey, user verified by its own word. */
export async function softwareAssertion({ options, origin, passkey }: { options: { challenge: string; rpId?: string }; origin: string; passkey: SoftwarePasskey }): Promise<Record<string, unknown>> {
  const b64url = (bytes: Uint8Array) => btoa(String.fromCharCode(...bytes)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  const concat = (...parts: Uint8Array[]) => {
    const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const p of parts) {
      out.set(p, at);
      at += p.length;
    }
    return out;
  };
  // WebCrypto signs r||s; WebAuthn carries an ASN.1 DER signature.
  const derInt = (b: Uint8Array) => {
    let i = 0;
    while (i < b.length - 1 && b[i] === 0) i++;
    const v = b.slice(i);
    const body = v[0]! & 0x80 ? concat(new Uint8Array([0]), v) : v;
    return concat(new Uint8Array([2, body.length]), body);
  };
  const key = await crypto.subtle.importKey('jwk', passkey.privateJwk, { name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign']);
  const rpId = options.rpId ?? new URL(origin).hostname;
  const rpIdHash = new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(rpId)));
  const counter = passkey.counter + 1;
  const authData = concat(rpIdHash, new Uint8Array([0x05, counter >>> 24, (counter >> 16) & 255, (counter >> 8) & 255, counter & 255]));
  const clientData = new TextEncoder().encode(JSON.stringify({ type: 'webauthn.get', challenge: options.challenge, origin, crossOrigin: false }));
  const signed = concat(authData, new Uint8Array(await crypto.subtle.digest('SHA-256', clientData)));
  const raw = new Uint8Array(await crypto.subtle.sign({ name: 'ECDSA', hash: 'SHA-256' }, key, signed));
  const seq = concat(derInt(raw.slice(0, 32)), derInt(raw.slice(32)));
  const signature = concat(new Uint8Array([0x30, seq.length]), seq);
  return {
    id: passkey.id,
    rawId: passkey.id,
    type: 'public-key',
    response: { clientDataJSON: b64url(clientData), authenticatorData: b64url(authData), signature: b64url(signature) },
    clientExtensionResults: {},
  };
}
