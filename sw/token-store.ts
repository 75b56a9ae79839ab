// Where the worker keeps the token: in memory for the hot path, with an
// idb-keyval record behind it (own database, own store) so a worker that the
// browser stopped carries on without a refresh. With persist 'memory' only the
// "signed out on purpose" marker is written, never a token.

import { createStore, del, get, set, update, type UseStore } from 'idb-keyval';
import type { Persist } from './config';
import { DEV } from './dev';
import type { TokenRecord } from './token-response';

interface PersistedRecord {
  token: TokenRecord | null;
  /** The user signed out (or the refresh token was rejected): no silent restore. */
  signedOut: boolean;
  /**
   * Whose session it is, in both modes (no secret): a worker restarted in
   * memory mode restores silently with the cookie, and must know whose it had.
   */
  sub?: string;
  /** A logout the server did not take (network error, 5xx, 429), tried again until it does: no secret. */
  logout?: PendingLogout;
}

export interface PendingLogout {
  body: object;
  /** Local epoch ms after which it is no longer tried. */
  until: number;
}

const KEY = 'session';

export class TokenStore {
  #memory: TokenRecord | null = null;
  #signedOutFlag = false;
  /** The worker's own IndexedDB store; the DPoP key lives there too, under its own key. */
  readonly db: UseStore;
  #loading: Promise<void> | null = null;

  readonly #persist: Persist;

  constructor(persist: Persist) {
    this.#persist = persist;
    this.db = createStore('token-broker', 'records');
  }

  /** The token in memory, synchronously: the hot path reads only this. */
  get current(): TokenRecord | null {
    return this.#memory;
  }

  get signedOut(): boolean {
    return this.#signedOutFlag;
  }

  /** Loads the persisted record once per worker start. */
  ready(): Promise<void> {
    this.#loading ??= this.#readPersisted().then((rec) => {
      // A login or refresh in this worker may have finished first; it wins.
      if (!this.#memory && rec) {
        // In memory mode a token in the record is none of this worker's (page script can write
        // there, or an earlier version kept it): not taken, and wiped.
        if (this.#persist === 'indexeddb') this.#memory = rec.token;
        else if (rec.token) void this.#write({ ...rec, token: null });
        this.#signedOutFlag = rec.signedOut;
      }
    });
    return this.#loading;
  }

  /**
   * Takes the record as it is now: another worker of the origin (the other
   * version during an update) may have signed in or out since this one read it.
   */
  async reload(): Promise<void> {
    const rec = await this.#readPersisted();
    this.#signedOutFlag = !!rec?.signedOut;
    if (this.#signedOutFlag) this.#memory = null;
    else if (this.#persist === 'indexeddb' && rec?.token) this.#memory = rec.token;
  }

  /** The token as every worker of the origin sees it now (re-read after taking the lock). */
  async readShared(): Promise<TokenRecord | null> {
    if (this.#persist === 'memory') return this.#memory;
    const rec = await this.#readPersisted();
    if (rec?.token) this.#memory = rec.token;
    return rec?.token ?? null;
  }

  async save(token: TokenRecord): Promise<void> {
    this.#memory = token;
    this.#signedOutFlag = false;
    await this.#write({ token: this.#persist === 'indexeddb' ? token : null, signedOut: false, sub: token.sub });
  }

  /** Whose session the origin holds (the record any worker version wrote last); undefined when no one's or unknown. */
  async heldSub(): Promise<string | undefined> {
    const rec = await this.#readPersisted();
    return rec ? rec.sub : this.#memory?.sub;
  }

  /** The logout still to be sent, as every worker of the origin sees it: a login since cancelled it. */
  async pendingLogout(): Promise<PendingLogout | undefined> {
    return (await this.#readPersisted())?.logout;
  }

  async clear(signedOut: boolean, logout?: PendingLogout): Promise<void> {
    this.#memory = null;
    this.#signedOutFlag = signedOut;
    if (signedOut) await this.#write({ token: null, signedOut: true, logout });
    else await this.#swallow(del(KEY, this.db));
  }

  /**
   * The server took the logout `sent`: it is dropped from the record, in one
   * transaction and only if it is still there. A login saved meanwhile (this
   * worker's or another version's, without Web Locks nothing orders them)
   * replaced it, and is kept.
   */
  settleLogout(sent: PendingLogout): Promise<void> {
    return this.#swallow(update<PersistedRecord>(KEY, (rec) => (rec?.logout?.until === sent.until ? { ...rec, logout: undefined } : rec!), this.db));
  }

  async #readPersisted(): Promise<PersistedRecord | null> {
    try {
      const rec = await get<PersistedRecord>(KEY, this.db);
      return rec && typeof rec === 'object' ? rec : null;
    } catch {
      // A blocked or corrupt IndexedDB must not take the broker down: carry on in memory.
      return null;
    }
  }

  #write(rec: PersistedRecord): Promise<void> {
    return this.#swallow(set(KEY, rec, this.db));
  }

  async #swallow(p: Promise<void>): Promise<void> {
    try {
      await p;
    } catch (err) {
      if (DEV) console.warn('[token-broker] could not persist the session record', err);
    }
  }
}
