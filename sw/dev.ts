// Development or production build. The standalone scripts ship twice:
// public/sw.js and sw-dpop.js for production, with the stable error codes and
// the facts that locate a problem (the config key, the path, the worker) but
// without the prose or the console warnings; sw.dev.js and sw-dpop.dev.js with
// full messages. The module entry point (token-broker/sw) keeps full messages:
// the app's own bundler decides its size. build.mjs sets the flag; unbuilt
// (unit tests in Node) is development.

declare const TOKEN_BROKER_DEV: boolean | undefined;

export const DEV: boolean = typeof TOKEN_BROKER_DEV === 'undefined' || TOKEN_BROKER_DEV;
