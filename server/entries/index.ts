// token-broker/server: the framework-neutral core of the backend contract.
// Adapters: token-broker/server/fastify, token-broker/server/express.
// Stores: memoryStore here; token-broker/server/sqlite and /redis.
export { createTokenBroker } from '../core/token-broker';
export type { AccessResult, BrokerEvent, SignInFacts, StartedSession, TokenBrokerServer, TokenBrokerServerOptions } from '../core/token-broker';
export type { RedirectSignIn } from '../core/redirect-sign-in';
export type { AccessClaims, Account } from '../tokens/access-tokens';
export type { DeviceChange, DeviceFacts, PolicyAction, SecurityEvent, SecurityEventType, SecurityPolicy } from '../events/types';
export type { SecurityEventOptions } from '../events/broker-events';
export type { LifetimeAnswer, LifetimeLogin, LifetimePolicy } from '../lifetime/lifetime-policy';
export { errorResponse, type BrokerHttpRequest, type BrokerHttpResponse, type PostEndpoints } from '../core/http';
export { codeForStatus, OptionError, type ErrorBody, type ServerErrorCode } from '../core/errors';
export { memoryRateLimits, redisRateLimits, sqliteRateLimits, type LimitSpec, type RateLimitBacking } from '../core/rate-limits';
export { MAX_JSON_DEPTH, jsonDepth } from '../core/json-depth';
export { memoryStore } from '../store/memory';
export { memoryJtiStore, type JtiStore } from '../store/jti';
export type { NewFamily, RefreshStore, RotationPolicy, RotationResult } from '../store/types';
export { checkWorkerConfig, configuredSourceMap, configuredWorkerScript } from '../core/worker-script';
