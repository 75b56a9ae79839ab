// `token-broker/sw/dpop`: DPoP support for installTokenBroker, kept out of the
// main worker module so that bearer-only workers do not bundle jose's signing.
export { dpopSupport, type DpopSupport } from '../dpop/signer';
