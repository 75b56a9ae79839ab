// The HTTP side of DPoP for the routes: which URL a request was made to, the
// proof a token endpoint may demand, and RFC 9449's error responses.
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { DpopVerifier, ProofError } from './dpop';
import { sendError } from './errors';
import type { Settings } from './settings';

export interface DpopContext {
  mode: Settings['dpop'];
  verifier: DpopVerifier;
  /** Send the current nonce on every response, not only in challenges. */
  announceNonce: boolean;
}

function dpopChallenge(error?: ProofError | 'invalid_token'): string {
  return error ? `DPoP error="${error}", algs="ES256"` : 'DPoP algs="ES256"';
}

/** API routes, a request without a usable token: every scheme the server takes, the error on the one it names first. */
export function missingTokenChallenge(mode: Settings['dpop']): string {
  if (mode === 'off') return 'Bearer error="invalid_token"';
  if (mode === 'required') return dpopChallenge('invalid_token');
  return `Bearer error="invalid_token", ${dpopChallenge()}`;
}

/** The URL as this server was asked for it; trustProxy is off, so Host and the socket's protocol are what the client used. */
export function requestUrl(request: FastifyRequest): string {
  return `${request.protocol}://${request.host}${request.url}`;
}

function withNonce(reply: FastifyReply, dpop: DpopContext, error: ProofError): FastifyReply {
  return error === 'use_dpop_nonce' ? reply.header('dpop-nonce', dpop.verifier.currentNonce()) : reply;
}

/** API routes: 401 with a DPoP challenge naming the error. */
export function sendDpopUnauthorized(reply: FastifyReply, dpop: DpopContext, error: ProofError | 'invalid_token', message: string) {
  if (error !== 'invalid_token') withNonce(reply, dpop, error);
  reply.header('www-authenticate', dpopChallenge(error));
  return sendError(reply, 401, error, message);
}

/**
 * Token endpoints: the thumbprint of the proof's key, null when there is no
 * proof and none is required, or undefined after answering the request with
 * RFC 9449's 400 (invalid_dpop_proof, or use_dpop_nonce with a nonce).
 */
export async function tokenRequestKey(request: FastifyRequest, reply: FastifyReply, dpop: DpopContext): Promise<string | null | undefined> {
  if (dpop.mode === 'off') return null;
  const proof = request.headers.dpop;
  if (proof === undefined && dpop.mode === 'optional') return null;
  const result = await dpop.verifier.verify(proof, { method: request.method, url: requestUrl(request) });
  if (result.ok) return result.jkt;
  withNonce(reply, dpop, result.error);
  void sendError(reply, 400, result.error, result.message);
  return undefined;
}

/** Hands out the current nonce with every response, so a client never needs a challenge round trip but the first. */
export function announceNonce(reply: FastifyReply, dpop: DpopContext): void {
  if (dpop.announceNonce) reply.header('dpop-nonce', dpop.verifier.currentNonce());
}
