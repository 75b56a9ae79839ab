import type { TokenBroker } from '../../client/index';

declare global {
  interface Window {
    tokenBroker: TokenBroker;
  }
}
