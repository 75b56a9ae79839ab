// A refresh token revoked at the provider (RFC 7009), best effort: a provider
// that is down or has no revocation endpoint must not hold up what asked for
// it (a logout, or an upstream refresh whose session ended meanwhile).
import * as oidc from 'openid-client';

export async function revokeAtProvider(config: oidc.Configuration, refreshToken: string | undefined): Promise<void> {
  if (!refreshToken || !config.serverMetadata().revocation_endpoint) return;
  await oidc.tokenRevocation(config, refreshToken, { token_type_hint: 'refresh_token' }).catch(() => undefined);
}
