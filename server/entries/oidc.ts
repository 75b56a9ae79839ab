// token-broker/server/oidc: token-handler mode, the backend as an OpenID Connect
// client of an upstream provider. Needs the optional peer dependency openid-client.
export { createOidcTokenHandler, type OidcOptions, type OidcTokenHandler } from '../oidc/token-handler';
export { SIGN_IN_ERROR_PARAM, SIGN_IN_PARAM, type SignInErrorCode } from '../oidc/errors';
export type { RedirectSignIn } from '../core/redirect-sign-in';
