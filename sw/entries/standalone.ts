// public/sw.js: the broker with bearer tokens only, the smallest script.
import { startStandalone } from '../standalone-start';

declare const self: ServiceWorkerGlobalScope;

startStandalone(self, {});
