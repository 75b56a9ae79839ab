// The worker's DPoP signer: the current key (loaded once per worker start),
// the server's latest nonce and the ath cache, and the sending of a request
// with a proof (nonce challenge included), so the bearer-only worker carries
// none of it. Glue between the pure dpop-* modules, IndexedDB and fetch.

import { del, get, set, type UseStore } from 'idb-keyval';
import { DEV } from '../dev';
import { DpopKeyStore, generateDpopKey } from './key-store';
import { freshProofMayHelp, NonceBook } from './nonce';
import { postToEndpoint, type EndpointResult } from '../endpoint-client';
import { signProof, type DpopKey } from './proof';
import type { BrokerReply } from '../protocol';

/**
 * What the broker asks of a DPoP signer. An interface, not the class: the
 * worker module and `token-broker/sw/dpop` are typed apart, and a class with
 * private members would make their two copies of the type incompatible.
 */
export interface DpopSigner {
  current(): Promise<DpopKey | null>;
  reload(): Promise<DpopKey | null>;
  ensure(): Promise<DpopKey>;
  create(): Promise<DpopKey>;
  adopt(key: DpopKey): Promise<void>;
  drop(): Promise<void>;
  post(url: string, body: unknown, key: DpopKey): Promise<EndpointResult>;
  fetchBound(method: string, url: string, accessToken: string, send: (proof: string | null) => Promise<Response>): Promise<Response>;
  signIn(url: string, returnTo: string): Promise<BrokerReply>;
}

/**
 * Makes the DPoP signer of a worker; passed to `installTokenBroker` to turn DPoP support on.
 * `onKeyRefused`: the stored key was not one the worker made; it is dropped and never signs.
 */
export type DpopSupport = (db: UseStore, onKeyRefused: () => void) => DpopSigner;

/**
 * DPoP support for `installTokenBroker(self, config, { dpop: dpopSupport })`.
 * It lives apart from the worker module so that a bearer-only worker does not
 * carry the signing.
 */
export const dpopSupport: DpopSupport = (db, onKeyRefused) => new IndexedDbDpopSigner(db, onKeyRefused);

/** Where the latest server nonces are kept, so a restarted worker does not begin with a nonce challenge. */
const NONCE_KEY = 'dpop-nonce';

class IndexedDbDpopSigner implements DpopSigner {
  readonly #nonces = new NonceBook();
  readonly #keys: DpopKeyStore;
  readonly #db: UseStore;
  #key: Promise<DpopKey | null> | null = null;
  /** The stored key was planted: the session is over, and no key made for it is kept. */
  #refused = false;
  #reading: Promise<DpopKey | null> = Promise.resolve(null);
  readonly #noncesRead: Promise<void>;
  readonly #onKeyRefused: () => void;

  constructor(db: UseStore, onKeyRefused: () => void) {
    this.#db = db;
    this.#onKeyRefused = onKeyRefused;
    this.#keys = new DpopKeyStore({ get: (k) => get(k, db), set: (k, v) => set(k, v, db), del: (k) => del(k, db) });
    // Read at worker start, beside the session record: the first request after the browser
    // stopped the worker needs the key, and the nonce saves it a challenge round trip.
    this.#noncesRead = get(NONCE_KEY, db).then(
      (saved) => this.#nonces.restore(saved),
      () => undefined,
    );
    void this.current();
  }

  /** The key in use; read from IndexedDB once per worker start (and on `reload`). */
  current(): Promise<DpopKey | null> {
    this.#key ??= this.#load();
    return this.#key;
  }

  /** One read at a time: a re-read while a refused key is being deleted would refuse it, and end the session, twice. */
  #load(): Promise<DpopKey | null> {
    // #read never rejects, so the chain does not break.
    return (this.#reading = this.#reading.then(() => this.#read()));
  }

  async #read(): Promise<DpopKey | null> {
    const key = await this.#keys.load().catch((err: unknown) => {
      if (DEV) console.warn('[token-broker] could not read the DPoP key', err);
      return null;
    });
    if (key !== false) return key;
    // Planted by page script: the binding is over, and the broker ends the session.
    this.#refused = true;
    await this.drop();
    this.#onKeyRefused();
    return null;
  }

  /** Re-reads the stored key: another worker version may have signed in with a new one. */
  reload(): Promise<DpopKey | null> {
    this.#key = null;
    return this.current();
  }

  /** The key for a refresh: the stored one, or a new one when there is none (a login made before DPoP was on). */
  async ensure(): Promise<DpopKey> {
    const key = await this.current();
    if (key) return key;
    const fresh = await generateDpopKey();
    // A refresh already under way when a planted key was refused: its key is not kept.
    if (!this.#refused) await this.adopt(fresh);
    return fresh;
  }

  /** A new key for a login; it replaces the stored one only once the login succeeded (`adopt`). */
  create(): Promise<DpopKey> {
    return generateDpopKey();
  }

  async adopt(key: DpopKey): Promise<void> {
    this.#refused = false;
    this.#key = Promise.resolve(key);
    await this.#keys.save(key);
  }

  /** Logout or a refused session: the key is bound to a login that is over. */
  async drop(): Promise<void> {
    this.#key = Promise.resolve(null);
    try {
      await this.#keys.delete();
    } catch (err) {
      if (DEV) console.warn('[token-broker] could not delete the DPoP key', err);
    }
  }

  /** A token endpoint call (`url` absolute) with a proof of `key`. */
  post(url: string, body: unknown, key: DpopKey): Promise<EndpointResult> {
    return this.#withProof(
      key,
      'POST',
      url,
      undefined,
      (proof) => postToEndpoint(url, body, { dpop: proof }),
      (r) => (r.kind === 'response' ? { status: r.response.status, headers: r.response.headers, body: r.body } : null),
    );
  }

  /**
   * A redirect sign-in bound to this key (the one a refresh signs with): the start route (`url`)
   * seals the proof's thumbprint for the callback, which binds the new family to it. Started or
   * refused, the route names where the page goes: the provider, or back with `broker_error`.
   */
  async signIn(url: string, returnTo: string): Promise<BrokerReply> {
    const result = await this.post(url, { returnTo }, await this.ensure());
    const location = result.kind === 'response' && (result.body as { location?: unknown } | null)?.location;
    return typeof location === 'string' ? { ok: true, location } : { ok: false, error: { code: result.kind === 'network' ? 'network' : 'server', message: 'sign-in not started' } };
  }

  /**
   * An API request with a DPoP-bound token, with a proof that names the token.
   * Without the key (deleted from IndexedDB) the token goes without a proof; the 401 leads to a refresh.
   */
  async fetchBound(method: string, url: string, accessToken: string, send: (proof: string | null) => Promise<Response>): Promise<Response> {
    const key = await this.current();
    if (!key) return send(null);
    // An API 401 challenge is in the header; a body is only read for the token endpoints' 400.
    return this.#withProof(key, method, url, accessToken, send, (r) => ({ status: r.status, headers: r.headers }));
  }

  /**
   * Sends with a fresh proof and takes the server's nonce from the answer; a
   * nonce challenge, or a token endpoint's refusal of the proof, is answered
   * once more with a new proof (and the nonce the answer carried).
   */
  async #withProof<T>(
    key: DpopKey,
    method: string,
    url: string,
    accessToken: string | undefined,
    send: (proof: string) => Promise<T>,
    answer: (result: T) => { status: number; headers: Headers; body?: unknown } | null,
  ): Promise<T> {
    await this.#noncesRead;
    const once = async () => {
      const result = await send(await signProof(key, { method, url, accessToken, nonce: this.#nonces.get(url) }));
      const a = answer(result);
      // A nonce is no secret (every response carries it); a wrong one costs a challenge.
      if (a && this.#nonces.observe(url, a.headers)) void set(NONCE_KEY, this.#nonces.saved(), this.#db).catch(() => undefined);
      return result;
    };
    const first = await once();
    const a = answer(first);
    return a && freshProofMayHelp(a.status, a.headers, a.body) ? once() : first;
  }
}
