// token-broker/server/express: the Express 5 router and guard over the core.
export { requireAccessToken, sendBrokerResponse, toBrokerRequest, tokenBrokerRouter, tokenClaims, type TokenBrokerRouterOptions } from '../express/router';
