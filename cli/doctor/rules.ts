// Where each requirement comes from, cited by section. RFC 10017 is OAuth 2.0
// for Browser-Based Applications (BCP 212); its cookie and CSRF rules for a
// token-mediating backend (§6.2.3.2, §6.2.3.3) are those of the BFF
// (§6.1.3.2, §6.1.3.3). The cookie attributes are RFC 6265bis §4.1.2; the
// `__Host-Http-` prefix that RFC 10017 names is defined in
// draft-ietf-httpbis-layered-cookies §4.1.3.4, which carries 6265bis forward.
export const RULE = {
  swMime: 'Service Workers (W3C), Update algorithm: a worker script must have a JavaScript MIME type',
  swRedirect: 'Service Workers (W3C), Update algorithm: the script fetch does not follow redirects',
  swCache: 'Service Workers (W3C), Update algorithm (updateViaCache); RFC 9111 §5.2.2.4 (no-cache)',
  swScope: 'Service Workers (W3C), Update algorithm: the max scope and Service-Worker-Allowed',
  config: 'token-broker README, "Worker configuration": self.tokenBrokerConfig',
  dpopBuild: 'token-broker README, "Worker configuration": dpop needs sw-dpop.js',
  secureContext: 'Service Workers (W3C): registration needs a secure context (https, or http on localhost)',
  cookieSecure: 'RFC 10017 §6.1.3.2 (MUST Secure; §6.2.3.2 for this backend); RFC 6265bis §4.1.2.5',
  cookieHttpOnly: 'RFC 10017 §6.1.3.2 (MUST HttpOnly; §6.2.3.2); RFC 6265bis §4.1.2.6',
  cookieSameSite: 'RFC 10017 §6.1.3.2 (SHOULD SameSite=Strict; §6.2.3.2); RFC 6265bis §4.1.2.7',
  cookiePath: 'RFC 10017 §6.1.3.2 (SHOULD Path=/; §6.2.3.2); RFC 6265bis §4.1.2.4',
  cookieDomain: 'RFC 10017 §6.1.3.2 (SHOULD NOT set Domain; §6.2.3.2); RFC 6265bis §4.1.2.3',
  cookiePrefix: 'RFC 10017 §6.1.3.2 (SHOULD use the __Host-Http- prefix; §6.2.3.2); draft-ietf-httpbis-layered-cookies §4.1.3.4',
  cookiePrefixRules: 'RFC 6265bis §4.1.3 (a browser rejects a prefixed cookie set without the attributes its prefix demands)',
  logout: 'token-broker README, "Backend contract": logout revokes the family and clears the cookie',
  csrf: 'RFC 10017 §6.2.3.3 and §6.1.3.3 (MUST defend the token endpoints against CSRF)',
  csrfHeader: 'RFC 10017 §6.1.3.3.2 (a static custom header forces a preflight; MUST require it on every request)',
  contract: 'token-broker README, "Backend contract"',
  dpopNonce: 'RFC 9449 §8 (server-provided nonce) and §11.2 (proof pre-generation)',
  dpopBinding: 'RFC 9449 §5 and §6 (a token request with a proof gets a DPoP-bound token)',
  csp: 'RFC 10017 §5 (a nonce- or hash-based Content Security Policy against malicious JavaScript); CSP Level 3',
  hsts: 'RFC 6797 §6.1 (Strict-Transport-Security)',
} as const;
