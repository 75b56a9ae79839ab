// Counters the tests and benchmarks read to see what reached the server.
export interface Stats {
  login: number;
  refresh: number;
  refreshRejected: number;
  apiOk: number;
  apiUnauthorized: number;
}

export function newStats(): Stats {
  return { login: 0, refresh: 0, refreshRejected: 0, apiOk: 0, apiUnauthorized: 0 };
}
