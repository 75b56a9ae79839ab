// The cross-engine scenarios by name: the titles of the tests in scenarios.ts,
// and the rows of the README's browser table (checked by browser-table.test.ts
// for names, and by each engine's own run for what it proved).
export const SCENARIO = {
  firstLoad: 'the first load is controlled by the broker',
  dpopLogin: 'login, then API calls carry the token with a DPoP proof; the key is non-extractable in IndexedDB',
  dpopBound: "a DPoP proof is bound to its URL and method: the worker's proofs name the request (also to an apiOrigins API on another origin), and a captured one is refused for another URL or method",
  expiry: 'an expired token is refreshed with the default cookie, once for 50 concurrent requests',
  signOutReachesTab: 'a sign-out in one tab reaches the other',
  nothingReadable: 'nothing page script can read holds a token: not the session, its events, responses, cookies or storage (persist memory)',
  endpointsRefused: "a page's own call to a token endpoint is refused by the worker, and an API redirect is not followed with the token",
  replay401: 'a 401 on a token the worker trusts: one refresh, the request replayed with its body, the page sees 200',
  refresh503: 'the refresh endpoint answers 503 when a 401 needs a refresh: the page gets 503 unavailable, the session is kept, then recovers',
  refresh429: 'the refresh endpoint answers 429 with Retry-After when a 401 needs a refresh: the page gets 503 unavailable, the session is kept, then recovers',
  refreshDropped: 'the refresh endpoint drops the connection when a 401 needs a refresh: the page gets a network error, the session is kept, then recovers',
  offline: 'offline, then online: API calls fail as network errors, no sign-out, and they work again once the server is back',
  restartIndexeddb: 'a worker the browser stopped while no page used it starts again (persist indexeddb): no refresh',
  restartMemory: 'a worker the browser stopped while no page used it starts again (persist memory): one refresh',
  reuse: 'a reused refresh token (a stolen copy of a rotated cookie, replayed from elsewhere) ends the session in every tab, with its reason',
  ownWorker: 'page script registering its own worker, with settings in its query: the next load is the broker\'s, and the login is DPoP-bound',
  lockHolder: "page script holding the broker's Web Lock for ever wedges nothing: refresh, API calls after expiry, logout and login finish",
  clockAhead: "DPoP with the server's nonces and clocks 3 hours apart (server ahead): tokens work, one refresh when they expire",
  clockBehind: "DPoP with the server's nonces and clocks 3 hours apart (server behind): tokens work, one refresh when they expire",
  noWebLocks: 'without Web Locks in the worker, refreshes are serialised within it: one refresh for 50 concurrent requests from two tabs',
  update: 'a new worker version deployed while two tabs are busy waits for them: no call fails, the session is kept',
  takeover: 'a new worker version waiting behind busy tabs takes over once they are closed: the next load is controlled by it, the session kept (no sign-in, no 401)',
  postInFlight: 'a POST in flight when the worker is stopped reaches the API once; the page gets 502 outcome_unknown or a network error',
  features: "the features this engine has (Static Routing, Web Locks in page and worker) are the README's",
} as const;

export type ScenarioKey = keyof typeof SCENARIO;
