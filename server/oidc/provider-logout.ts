// The provider's half of a logout: its refresh token revoked (RFC 7009), best
// effort, since a provider that is down must not keep the session alive here;
// and the RP-initiated logout URL, which the page may navigate to so that the
// provider's own session ends too.
import * as oidc from 'openid-client';
import type { TokenBrokerServer } from '../core/token-broker';
import { revokeAtProvider } from './provider-revocation';
import type { UpstreamSeal } from './upstream-seal';

type UpstreamRecords = NonNullable<TokenBrokerServer['upstreamRecords']>;

interface LogoutOptions {
  clientId: string;
  postLogoutRedirectUri?: string;
}

export async function providerLogout(
  familyId: string,
  records: UpstreamRecords,
  seal: UpstreamSeal,
  config: () => Promise<oidc.Configuration>,
  options: LogoutOptions,
): Promise<{ logoutUrl?: string; finish(): Promise<void> }> {
  const nothing = { finish: async () => undefined };
  // Read before the local revocation, which clears the record.
  const record = await seal.open(await records.read(familyId)).catch(() => null);
  if (!record) return nothing;
  let discovered: oidc.Configuration;
  try {
    discovered = await config();
  } catch {
    return nothing;
  }
  let logoutUrl: string | undefined;
  if (discovered.serverMetadata().end_session_endpoint) {
    // No id_token_hint: the URL goes to the page, and the ID token is one of the provider's tokens that never
    // does (any cookie of the family, even a rotated one, gets this answer). client_id identifies the RP instead;
    // the provider may then ask the user to confirm the logout.
    const parameters: Record<string, string> = { client_id: options.clientId };
    if (options.postLogoutRedirectUri) parameters.post_logout_redirect_uri = options.postLogoutRedirectUri;
    logoutUrl = oidc.buildEndSessionUrl(discovered, parameters).href;
  }
  return { ...(logoutUrl ? { logoutUrl } : {}), finish: () => revokeAtProvider(discovered, record.refreshToken) };
}
