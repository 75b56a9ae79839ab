// token-broker/server/fastify: the Fastify 5 plugin over the core.
export { limitJsonDepth, requireAccessToken, sendBrokerResponse, toBrokerRequest, tokenBroker, tokenClaims, type TokenBrokerPluginOptions } from '../fastify/plugin';
