// Counters the tests and benchmarks read to see what reached the server.
export interface Stats {
  login: number;
  refresh: number;
  refreshRejected: number;
  /** Refreshes with no cookie at all (first visits): not failures, so not in refreshRejected. */
  noSession: number;
  /** Logouts that presented a known refresh token: its family is revoked now. */
  logoutRevoked: number;
  /** Sessions the worker ended because a refresh answered for another account (a planted cookie). */
  accountChanged: number;
  /** Sessions the worker ended because its DPoP key had been replaced. */
  keyReplaced: number;
  /** Password checks made (each one a memory-hard hash): what a login limit must bound. */
  passwordChecks: number;
  apiOk: number;
  apiUnauthorized: number;
  /** Requests answered 503 because the store, the replay cache or the rate limits failed. */
  backingUnavailable: number;
}

export function newStats(): Stats {
  return { login: 0, refresh: 0, refreshRejected: 0, noSession: 0, logoutRevoked: 0, accountChanged: 0, keyReplaced: 0, passwordChecks: 0, apiOk: 0, apiUnauthorized: 0, backingUnavailable: 0 };
}
