// The provider's half of a logout: its refresh token revoked (RFC 7009), best
// effort, since a provider that is down must not keep the session alive here;
// and the RP-initiated logout URL, which the page may navigate to so that the
// provider's own session ends too.
import { randomUUID } from 'node:crypto';
import * as oidc from 'openid-client';
import { revokeAtProvider } from './provider-revocation';
import { leaseForLogout, type UpstreamRecords } from './upstream-lease';
import type { UpstreamSeal } from './upstream-seal';

interface LogoutOptions {
  clientId: string;
  postLogoutRedirectUri?: string;
}

const nothing = { finish: async () => undefined };

export async function providerLogout(
  familyId: string,
  records: UpstreamRecords,
  seal: UpstreamSeal,
  config: () => Promise<oidc.Configuration>,
  options: LogoutOptions,
  clock: () => number,
): Promise<{ logoutUrl?: string; finish(): Promise<void> }> {
  // Read before the local revocation, which clears the record (and this lease), and after any refresh
  // in flight has stored the successor it got: that one is the token left live at the provider.
  await leaseForLogout(records, familyId, randomUUID(), clock);
  const record = await seal.open(await records.read(familyId)).catch(() => null);
  if (!record) return nothing;
  let discovered: oidc.Configuration;
  try {
    discovered = await config();
  } catch {
    return nothing;
  }
  const finish = () => revokeAtProvider(discovered, record.refreshToken);
  if (!discovered.serverMetadata().end_session_endpoint) return { finish };
  // No id_token_hint: the URL goes to the page, and the ID token is one of the provider's tokens that never
  // does (any cookie of the family, even a rotated one, gets this answer). client_id identifies the RP instead;
  // the provider may then ask the user to confirm the logout.
  const parameters: Record<string, string> = { client_id: options.clientId };
  if (options.postLogoutRedirectUri) parameters.post_logout_redirect_uri = options.postLogoutRedirectUri;
  try {
    return { logoutUrl: oidc.buildEndSessionUrl(discovered, parameters).href, finish };
  } catch {
    // A metadata the library will not build a URL from (a relative or plain-http endpoint): the revocation still happens.
    return { finish };
  }
}
