// Signs DPoP proofs (RFC 9449 §4.2) as the worker does, with a key made for
// this run, so the doctor can sign in against a server that requires them.
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { randomUUID } from 'node:crypto';

export type ProofSigner = (method: string, url: string, nonce?: string) => Promise<string>;

export async function proofSigner(): Promise<ProofSigner> {
  const { publicKey, privateKey } = await generateKeyPair('ES256');
  const jwk = await exportJWK(publicKey);
  return (method, url, nonce) => {
    const htu = new URL(url);
    htu.search = '';
    htu.hash = '';
    return new SignJWT({ htm: method, htu: htu.href, jti: randomUUID(), ...(nonce && { nonce }) })
      .setProtectedHeader({ typ: 'dpop+jwt', alg: 'ES256', jwk })
      .setIssuedAt()
      .sign(privateKey);
  };
}
