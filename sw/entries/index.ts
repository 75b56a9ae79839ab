// The worker as a module, for apps that have their own service worker.
export { installTokenBroker, type InstalledBroker, type InstallOptions } from '../install';
export { ConfigError, DEFAULT_CONFIG, type ResolvedConfig, type TokenBrokerConfig } from '../config';
export * from '../protocol';
