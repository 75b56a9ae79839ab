// A minimal in-memory IndexedDB: just what idb-keyval uses (open with an
// upgrade, one object store, get/put/delete, a transaction's complete), so
// the worker's store and broker run in Node's unit tests. Installs itself as
// the global `indexedDB` once.
type Req = { result?: unknown; error?: unknown; onsuccess?: () => void; oncomplete?: () => void; onupgradeneeded?: () => void };

export function fakeIndexedDb() {
  const dbs = new Map<string, Map<string, Map<unknown, unknown>>>();
  const later = (fn: () => void) => setTimeout(fn, 0);
  return {
    open(name: string) {
      const req: Req = {};
      later(() => {
        const fresh = !dbs.has(name);
        const stores = dbs.get(name) ?? new Map<string, Map<unknown, unknown>>();
        dbs.set(name, stores);
        req.result = {
          createObjectStore: (s: string) => stores.set(s, new Map()),
          transaction(storeName: string) {
            const tx: Req = {};
            const data = stores.get(storeName)!;
            const op = (fn: () => unknown) => {
              const r: Req = {};
              later(() => {
                r.result = fn();
                r.onsuccess?.();
                later(() => tx.oncomplete?.());
              });
              return r;
            };
            return {
              objectStore: () => ({
                transaction: tx,
                get: (k: unknown) => op(() => structuredClone(data.get(k))),
                put: (v: unknown, k: unknown) => op(() => void data.set(k, structuredClone(v))),
                delete: (k: unknown) => op(() => void data.delete(k)),
              }),
            };
          },
        };
        if (fresh) req.onupgradeneeded?.();
        req.onsuccess?.();
      });
      return req;
    },
  };
}

export function installFakeIndexedDb(): void {
  const g = globalThis as unknown as { indexedDB?: unknown };
  g.indexedDB ??= fakeIndexedDb();
}
