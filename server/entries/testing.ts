// token-broker/server/testing: the conformance cases every RefreshStore must pass, for any test runner.
export { POLICY, storeConformance, type ConformanceCase, type StoreBacking } from '../store/conformance';
export { passkeyStoreConformance, type PasskeyStoreCase } from '../passkeys/conformance';
