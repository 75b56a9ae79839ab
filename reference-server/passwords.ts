// Password hashing with scrypt (memory-hard, in node:crypto) and the demo users.
import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';

const PARAMS: ScryptOptions = { N: 2 ** 15, r: 8, p: 1, maxmem: 64 * 1024 * 1024 };
const KEY_LENGTH = 32;

function derive(password: string, salt: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scrypt(password.normalize('NFKC'), salt, KEY_LENGTH, PARAMS, (err, key) => (err ? reject(err) : resolve(key))),
  );
}

export interface PasswordHash {
  salt: Buffer;
  key: Buffer;
}

export async function hashPassword(password: string): Promise<PasswordHash> {
  const salt = randomBytes(16);
  return { salt, key: await derive(password, salt) };
}

export async function verifyPassword(password: string, hash: PasswordHash): Promise<boolean> {
  return timingSafeEqual(await derive(password, hash.salt), hash.key);
}

export interface User {
  id: string;
  name: string;
  role: string;
}

/** Shown on the demo page and in the README: these are demo accounts, not secrets. */
export const DEMO_USERS: ReadonlyArray<User & { password: string }> = [
  { id: 'alice', password: 'wonderland', name: 'Alice Liddell', role: 'reader' },
  { id: 'bob', password: 'builder', name: 'Bob the Builder', role: 'admin' },
];

export interface UserDirectory {
  /** Resolves the user for valid credentials, null otherwise; costs one hash either way. */
  authenticate(username: string, password: string): Promise<User | null>;
  find(id: string): User | undefined;
}

export async function demoUserDirectory(): Promise<UserDirectory> {
  const users = new Map<string, User & { hash: PasswordHash }>();
  for (const { password, ...user } of DEMO_USERS) users.set(user.id, { ...user, hash: await hashPassword(password) });
  // Unknown usernames are checked against a dummy hash so timing does not reveal which accounts exist.
  const dummy = await hashPassword(randomBytes(16).toString('hex'));
  return {
    async authenticate(username, password) {
      const user = users.get(username);
      const ok = await verifyPassword(password, user?.hash ?? dummy);
      if (!ok || !user) return null;
      const { hash: _hash, ...publicUser } = user;
      return publicUser;
    },
    find(id) {
      const user = users.get(id);
      if (!user) return undefined;
      const { hash: _hash, ...publicUser } = user;
      return publicUser;
    },
  };
}
