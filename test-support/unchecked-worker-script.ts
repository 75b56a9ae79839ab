// For tests that must see the worker itself refuse a configuration: the
// server's `configuredWorkerScript` would refuse it first, so this puts the
// configuration line in without the check (a hand-written wrapper could).
export { withConfigLine as uncheckedWorkerScript } from '../server/core/worker-script';
