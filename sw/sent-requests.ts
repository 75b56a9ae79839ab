// Requests that must not reach the API twice (POST, PATCH), marked in the
// worker's IndexedDB store while they are out, with this worker instance's id.
// Chromium dispatches a fetch event again to a restarted worker when the one
// handling it was stopped mid-request (a forced stop, a crash): a mark left by
// another instance means the request may already have reached the API, so it
// is answered `outcome_unknown` instead of being sent a second time.

import { del, get, set, type UseStore } from 'idb-keyval';

const INSTANCE = crypto.randomUUID();

/** The same request from the same document: method, URL, client and body, hashed (IndexedDB takes the bytes as a key). */
export async function sentKey(request: Request, clientId: string, body: ArrayBuffer): Promise<ArrayBuffer> {
  return crypto.subtle.digest('SHA-256', await new Blob([`${request.method} ${request.url} ${clientId} `, body]).arrayBuffer());
}

export function isOnceOnly(method: string): boolean {
  return method === 'POST' || method === 'PATCH';
}

/** Marks `key` as sent by this instance; false when another instance sent it and never heard back. */
export async function beginSend(db: UseStore, key: ArrayBuffer): Promise<boolean> {
  try {
    const owner = await get<string>(key, db);
    if (owner && owner !== INSTANCE) {
      await del(key, db);
      return false;
    }
    await set(key, INSTANCE, db);
  } catch {
    // IndexedDB unusable: send as if this were the first time (it almost always is).
  }
  return true;
}

export function endSend(db: UseStore, key: ArrayBuffer): void {
  del(key, db).catch(() => undefined);
}
