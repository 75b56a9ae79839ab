// Passkeys in SQLite (better-sqlite3): one file (or ':memory:'), its own two tables.
// A challenge is taken with DELETE ... RETURNING: one statement, so two takes of
// the same challenge cannot both get it, even from two connections to the file.
import Database from 'better-sqlite3';
import type { PasskeyStore, StoredPasskey } from './store';

const SCHEMA = `
PRAGMA journal_mode = WAL;
CREATE TABLE IF NOT EXISTS passkeys (
  id TEXT PRIMARY KEY,
  user_id TEXT NOT NULL,
  public_key TEXT NOT NULL,
  counter INTEGER NOT NULL,
  transports TEXT NOT NULL,
  created_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS passkeys_user ON passkeys (user_id);
CREATE TABLE IF NOT EXISTS passkey_challenges (key TEXT PRIMARY KEY, challenge TEXT NOT NULL, expires_at INTEGER NOT NULL);
`;

interface Row {
  id: string;
  user_id: string;
  public_key: string;
  counter: number;
  transports: string;
  created_at: number;
}

const fromRow = (r: Row): StoredPasskey => ({
  id: r.id,
  userId: r.user_id,
  publicKey: r.public_key,
  counter: r.counter,
  transports: JSON.parse(r.transports) as string[],
  createdAt: r.created_at,
});

export function sqlitePasskeyStore(path: string): PasskeyStore {
  const db = new Database(path);
  db.pragma('busy_timeout = 5000');
  db.exec(SCHEMA);
  const insert = db.prepare('INSERT OR IGNORE INTO passkeys (id, user_id, public_key, counter, transports, created_at) VALUES (?, ?, ?, ?, ?, ?)');
  const byUser = db.prepare<[string], Row>('SELECT * FROM passkeys WHERE user_id = ? ORDER BY created_at, id');
  const byId = db.prepare<[string], Row>('SELECT * FROM passkeys WHERE id = ?');
  // One statement: of two updates from the same counter, the second finds it changed.
  const counter = db.prepare('UPDATE passkeys SET counter = ? WHERE id = ? AND counter = ?');
  const remove = db.prepare('DELETE FROM passkeys WHERE id = ? AND user_id = ?');
  const put = db.prepare('INSERT INTO passkey_challenges (key, challenge, expires_at) VALUES (?, ?, ?) ON CONFLICT (key) DO UPDATE SET challenge = excluded.challenge, expires_at = excluded.expires_at');
  const take = db.prepare<[string], { challenge: string; expires_at: number }>('DELETE FROM passkey_challenges WHERE key = ? RETURNING challenge, expires_at');
  const sweep = db.prepare('DELETE FROM passkey_challenges WHERE expires_at <= ?');
  return {
    async addCredential(c) {
      return insert.run(c.id, c.userId, c.publicKey, c.counter, JSON.stringify(c.transports), c.createdAt).changes === 1;
    },
    async credentialsOf(userId) {
      return byUser.all(userId).map(fromRow);
    },
    async credential(id) {
      const row = byId.get(id);
      return row ? fromRow(row) : null;
    },
    async setCounter(id, expected, value) {
      return counter.run(value, id, expected).changes === 1;
    },
    async removeCredential(id, userId) {
      return remove.run(id, userId).changes === 1;
    },
    async putChallenge(key, challenge, expiresAt) {
      put.run(key, challenge, expiresAt);
    },
    async takeChallenge(key, now) {
      const row = take.get(key);
      // Abandoned ceremonies leave their challenges: they go with any take.
      sweep.run(now);
      return row && row.expires_at > now ? row.challenge : null;
    },
    async close() {
      db.close();
    },
  };
}
