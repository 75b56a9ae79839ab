// A real OpenID provider for tests: panva's certified oidc-provider on its own
// loopback port, so it is another origin from the app under test. One
// confidential client and one user. There is no login page: the provider's
// interaction API is completed by a tiny route that signs the user in and
// grants consent at once, or refuses, as the test set `nextInteraction` — so
// the same provider serves Node tests (fetch, following redirects by hand) and
// Chromium (a plain top-level navigation).
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair } from 'jose';
import Provider from 'oidc-provider';

export interface TestOidcClient {
  clientId: string;
  clientSecret: string;
  redirectUris: string[];
  postLogoutRedirectUris: string[];
}

export interface TestOidcProviderOptions {
  /** Where the app's callback lives; every URI the tests use must be listed (exact match at the provider). */
  redirectUris: string[];
  postLogoutRedirectUris?: string[];
  /** Access-token lifetime at the provider, in seconds; short to exercise the upstream refresh. */
  accessTokenTtl?: number;
}

/** The resource server (RFC 8707) the provider issues JWT access tokens for: what an API that trusts the provider checks as `aud`. */
export const TEST_API_AUDIENCE = 'https://api.token-broker.test/';

export interface TestOidcProvider {
  /** The issuer, e.g. http://127.0.0.1:41234 (discovery at /.well-known/openid-configuration). */
  issuer: string;
  client: TestOidcClient;
  /** A second confidential client with the same redirect URIs and secret: its ID tokens are another audience's. */
  otherClient: TestOidcClient;
  /** The user's `sub`. */
  subject: string;
  /** What the next sign-in interaction does: sign in and consent, or deny (error=access_denied). */
  nextInteraction: 'approve' | 'deny';
  /** What the provider did, counted from its own events: refresh-token grants, grants revoked, RP-initiated logouts. */
  counts: { refreshGrants: number; revocations: number; endSessions: number };
  /** Its JWKS, for an API that verifies its access tokens. */
  jwksUri: string;
  /** While set, the token endpoint's answers wait for it, after the provider has acted (a refresh token already rotated). */
  holdTokenAnswers: Promise<void> | null;
  /** The parameters of the last authorization request the provider accepted (pushed or not), as it read them. */
  lastAuthorization: Record<string, unknown> | null;
  /** Called with each refresh token the provider stores (its `jti` is the token's value), for a test that checks them all at the provider. */
  onRefreshTokenSaved: ((token: { jti: string }) => void) | null;
  /** Every token posted to the revocation endpoint (RFC 7009), in order: which refresh token a logout revoked, not only that the grant ended. */
  revokedTokens: string[];
  /** Stops answering (connections refused): the provider is down. `start()` brings it back on the same port. */
  stop(): Promise<void>;
  start(): Promise<void>;
}

const SUBJECT = 'alice-at-provider';

export async function startTestOidcProvider(options: TestOidcProviderOptions): Promise<TestOidcProvider> {
  const client: TestOidcClient = {
    clientId: 'token-broker-test',
    clientSecret: 'a-test-secret-that-is-long-enough-for-hs256-0123456789',
    redirectUris: options.redirectUris,
    postLogoutRedirectUris: options.postLogoutRedirectUris ?? [],
  };
  const otherClient: TestOidcClient = { ...client, clientId: 'another-client-of-the-provider' };
  // The port is chosen first because the issuer, part of every token, names it.
  let server: Server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  const issuer = `http://127.0.0.1:${port}`;

  const provider = new Provider(issuer, {
    clients: [client, otherClient].map((c) => ({
      client_id: c.clientId,
      client_secret: c.clientSecret,
      redirect_uris: c.redirectUris,
      post_logout_redirect_uris: c.postLogoutRedirectUris,
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
    })),
    async findAccount(_ctx, sub) {
      if (sub !== SUBJECT) return undefined;
      return { accountId: sub, async claims() { return { sub, email: 'alice@example.test', name: 'Alice' }; } };
    },
    claims: { openid: ['sub'], email: ['email'], profile: ['name'] },
    scopes: ['openid', 'email', 'profile', 'offline_access'],
    interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
    features: {
      devInteractions: { enabled: false },
      revocation: { enabled: true },
      rpInitiatedLogout: { enabled: true },
      // Access tokens as JWTs for one API, which verifies them against the provider's JWKS.
      resourceIndicators: {
        enabled: true,
        defaultResource: () => TEST_API_AUDIENCE,
        useGrantedResource: () => true,
        getResourceServerInfo: () => ({ scope: 'api', audience: TEST_API_AUDIENCE, accessTokenFormat: 'jwt', accessTokenTTL: options.accessTokenTtl ?? 3600 }),
      },
    },
    // Each refresh token is good once, and reusing a spent one ends the grant (as many providers do).
    rotateRefreshToken: true,
    // A refresh token on every code grant, offline_access or not: the broker keeps it server-side.
    issueRefreshToken: async (_ctx, c) => c.grantTypeAllowed('refresh_token'),
    // Every lifetime set, and signing keys of its own, so the provider's start-up notices stay quiet.
    ttl: {
      AccessToken: options.accessTokenTtl ?? 3600, IdToken: 3600, RefreshToken: 86_400,
      Interaction: 600, Session: 86_400, Grant: 86_400,
    },
    jwks: { keys: [{ ...(await exportJWK((await generateKeyPair('RS256', { extractable: true })).privateKey)), use: 'sig', alg: 'RS256', kid: 'test' }] },
    cookies: { keys: ['test-provider-cookie-key-not-secret'] },
    // A provider's own authorization parameter (Google's), so that a test sees it arrive.
    extraParams: ['access_type'],
  });

  const counts = { refreshGrants: 0, revocations: 0, endSessions: 0 };
  provider.on('grant.success', (ctx: { oidc: { params?: { grant_type?: unknown } } }) => {
    if (ctx.oidc.params?.grant_type === 'refresh_token') counts.refreshGrants++;
  });
  // A revoked refresh token ends its grant (RFC 7009 at the revocation endpoint, or the reuse of a spent one).
  provider.on('grant.revoked', () => counts.revocations++);
  provider.on('end_session.success', () => counts.endSessions++);
  provider.on('authorization.accepted', (ctx: { oidc: { params: Record<string, unknown> } }) => (handle.lastAuthorization = { ...ctx.oidc.params }));
  provider.on('refresh_token.saved', (token: { jti: string }) => handle.onRefreshTokenSaved?.(token));

  const handle: TestOidcProvider = {
    issuer,
    client,
    otherClient,
    counts,
    jwksUri: `${issuer}/jwks`,
    subject: SUBJECT,
    nextInteraction: 'approve',
    holdTokenAnswers: null,
    onRefreshTokenSaved: null,
    lastAuthorization: null,
    revokedTokens: [],
    async stop() {
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
    async start() {
      server = createServer(listener);
      server.listen(port, '127.0.0.1');
      await once(server, 'listening');
    },
  };

  async function completeInteraction(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const details = await provider.interactionDetails(req, res);
    if (handle.nextInteraction === 'deny') {
      await provider.interactionFinished(req, res, { error: 'access_denied', error_description: 'the user refused' }, { mergeWithLastSubmission: false });
      return;
    }
    if (details.prompt.name === 'login') {
      await provider.interactionFinished(req, res, { login: { accountId: SUBJECT } }, { mergeWithLastSubmission: false });
      return;
    }
    const grant = details.grantId ? await provider.Grant.find(details.grantId) : undefined;
    const g = grant ?? new provider.Grant({ accountId: SUBJECT, clientId: String(details.params.client_id) });
    const missing = details.prompt.details as { missingOIDCScope?: string[]; missingOIDCClaims?: string[] };
    if (missing.missingOIDCScope) g.addOIDCScope(missing.missingOIDCScope.join(' '));
    if (missing.missingOIDCClaims) g.addOIDCClaims(missing.missingOIDCClaims);
    const grantId = await g.save();
    await provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
  }

  provider.use(async (ctx, next) => {
    await next();
    const posted = (ctx as { oidc?: { params?: { token?: unknown } } }).oidc?.params?.token;
    if (ctx.path === '/token/revocation' && typeof posted === 'string') handle.revokedTokens.push(posted);
    if (ctx.path === '/token' && handle.holdTokenAnswers) await handle.holdTokenAnswers;
  });
  const callback = provider.callback();
  function listener(req: IncomingMessage, res: ServerResponse): void {
    if (req.url?.startsWith('/interaction/')) {
      completeInteraction(req, res).catch((error: unknown) => {
        res.statusCode = 500;
        res.end(String(error));
      });
      return;
    }
    void callback(req, res);
  }
  server.on('request', listener);
  return handle;
}
