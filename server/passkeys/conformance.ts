// What every passkey store must do, run against each backend (memory, SQLite, Redis);
// runner-neutral (node:assert), shipped in token-broker/server/testing for a store of your own.
import { deepStrictEqual, strictEqual } from 'node:assert/strict';
import type { PasskeyStore, StoredPasskey } from './store';

export interface PasskeyStoreCase {
  name: string;
  run(): Promise<void>;
}

const key = (id: string, userId = 'alice', createdAt = 1): StoredPasskey => ({ id, userId, publicKey: `pk-${id}`, counter: 0, transports: ['internal'], createdAt });

/** `open` gives a fresh, empty store; two opens of one `setup` share their data (two instances). */
export function passkeyStoreConformance(setup: () => Promise<{ open(): Promise<PasskeyStore>; dispose(): Promise<void> }>): PasskeyStoreCase[] {
  const withStores = (fn: (a: PasskeyStore, b: PasskeyStore) => Promise<void>) => async () => {
    const s = await setup();
    const a = await s.open();
    const b = await s.open();
    try {
      await fn(a, b);
    } finally {
      await a.close();
      await b.close();
      await s.dispose();
    }
  };
  return [
    {
      name: 'a passkey is kept with its user, counter and transports; an id is registered once',
      run: withStores(async (a, b) => {
        strictEqual(await a.addCredential(key('k1')), true);
        strictEqual(await a.addCredential(key('k2', 'alice', 2)), true);
        strictEqual(await b.addCredential({ ...key('k1', 'mallory'), publicKey: 'other' }), false);
        strictEqual(await b.addCredential(key('k3', 'bob')), true);
        deepStrictEqual((await b.credentialsOf('alice')).map((c) => c.id), ['k1', 'k2']);
        deepStrictEqual(await b.credential('k1'), key('k1'));
        strictEqual(await a.credential('nope'), null);
        deepStrictEqual(await a.credentialsOf('carol'), []);
        strictEqual(await a.setCounter('k1', 0, 7), true);
        strictEqual((await b.credential('k1'))?.counter, 7);
        deepStrictEqual({ ...(await b.credential('k1')), counter: 0 }, key('k1'));
      }),
    },
    {
      name: 'a counter is set compare-and-set: of two updates from the same counter at once, one wins; a stale one is refused',
      run: withStores(async (a, b) => {
        await a.addCredential(key('k1'));
        await a.setCounter('k1', 0, 4);
        // Two assertions of one passkey verified against counter 4 (a cloned authenticator's replay at the same time).
        for (let round = 0; round < 5; round++) {
          const from = (await a.credential('k1'))!.counter;
          const won = await Promise.all([a.setCounter('k1', from, from + 1), b.setCounter('k1', from, from + 1), b.setCounter('k1', from, from + 2)]);
          strictEqual(won.filter(Boolean).length, 1, `round ${round}: ${JSON.stringify(won)}`);
        }
        const now = (await b.credential('k1'))!.counter;
        strictEqual(await a.setCounter('k1', 4, now + 1), false);
        strictEqual((await a.credential('k1'))!.counter, now);
        strictEqual(await a.setCounter('nope', 0, 1), false);
      }),
    },
    {
      name: "a passkey is removed by its own user only; its id may then be registered again",
      run: withStores(async (a, b) => {
        await a.addCredential(key('k1'));
        await a.addCredential(key('k2', 'alice', 2));
        strictEqual(await b.removeCredential('k1', 'mallory'), false);
        strictEqual(await b.removeCredential('nope', 'alice'), false);
        deepStrictEqual((await a.credentialsOf('alice')).map((c) => c.id), ['k1', 'k2']);
        strictEqual(await b.removeCredential('k1', 'alice'), true);
        strictEqual(await a.removeCredential('k1', 'alice'), false);
        deepStrictEqual((await a.credentialsOf('alice')).map((c) => c.id), ['k2']);
        strictEqual(await a.credential('k1'), null);
        strictEqual(await a.setCounter('k1', 0, 1), false);
        strictEqual(await b.addCredential(key('k1')), true);
      }),
    },
    {
      name: 'a challenge is taken once, across instances; a new one replaces the old; keys do not mix',
      run: withStores(async (a, b) => {
        await a.putChallenge('step-up:s1', 'c1', 10_000);
        await a.putChallenge('register:s1', 'r1', 10_000);
        await a.putChallenge('step-up:s2', 'c2', 10_000);
        await a.putChallenge('step-up:s1', 'c1b', 10_000);
        const [x, y] = await Promise.all([a.takeChallenge('step-up:s1', 5_000), b.takeChallenge('step-up:s1', 5_000)]);
        deepStrictEqual([x, y].sort(), ['c1b', null].sort());
        strictEqual(await b.takeChallenge('step-up:s1', 5_000), null);
        strictEqual(await b.takeChallenge('register:s1', 5_000), 'r1');
        strictEqual(await a.takeChallenge('step-up:s2', 5_000), 'c2');
      }),
    },
    {
      name: 'an expired challenge is not given, and is gone',
      run: withStores(async (a, b) => {
        await a.putChallenge('step-up:s1', 'c1', 10_000);
        strictEqual(await b.takeChallenge('step-up:s1', 10_000), null);
        await a.putChallenge('step-up:s1', 'c1', 10_000);
        strictEqual(await b.takeChallenge('step-up:s1', 20_000), null);
        strictEqual(await b.takeChallenge('step-up:s1', 1), null);
      }),
    },
  ];
}
