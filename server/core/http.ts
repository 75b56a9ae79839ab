// What the framework-neutral core sees of a request and hands back as a
// response. Each adapter (Fastify, Express) maps its own objects to these and
// back; nothing in the core knows a framework.
import type { ServerErrorCode } from './errors';

export type HeaderValue = string | string[] | undefined;

export interface BrokerHttpRequest {
  method: string;
  /** The request target as the client sent it: path and query, not decoded. */
  url: string;
  /** scheme://host[:port] the client addressed: what a DPoP proof's htu and the Origin header are checked against. */
  origin: string;
  /** Lower-case header names. */
  headers: Readonly<Record<string, HeaderValue>>;
  /** The parsed JSON body, when there is one. */
  body?: unknown;
  /** The client's address, for the per-IP limits. */
  ip: string;
}

export interface BrokerHttpResponse {
  status: number;
  headers: Record<string, string>;
  /** Set-Cookie values, one per cookie. */
  cookies: string[];
  /** Sent as JSON. */
  body: unknown;
}

/** POST endpoints one handler answers, which the adapters mount as they are (the passkey endpoints, `createPasskeys`). */
export interface PostEndpoints {
  readonly paths: readonly string[];
  handle(request: BrokerHttpRequest): Promise<BrokerHttpResponse>;
}

export function header(request: Pick<BrokerHttpRequest, 'headers'>, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** The path of the request target, as sent (not decoded). */
export function rawPath(request: BrokerHttpRequest): string {
  return request.url.split('?', 1)[0]!;
}

export function jsonResponse(status: number, body: unknown, headers: Record<string, string> = {}, cookies: string[] = []): BrokerHttpResponse {
  return { status, headers: { 'cache-control': 'no-store', ...headers }, cookies, body };
}

export function errorResponse(status: number, error: ServerErrorCode, message: string, headers: Record<string, string> = {}): BrokerHttpResponse {
  return jsonResponse(status, { error, message }, headers);
}
