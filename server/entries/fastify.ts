// token-broker/server/fastify: the Fastify 5 plugin over the core.
export { limitJsonDepth, requireAccessToken, sendBrokerResponse, toBrokerRequest, tokenBroker, type TokenBrokerPluginOptions } from '../fastify/plugin';
