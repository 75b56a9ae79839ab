// token-broker/server/sqlite: refresh families and the DPoP replay cache in one SQLite file (better-sqlite3).
export { openSqliteJtiStore, openSqliteStore } from '../store/sqlite';
export { sqlitePasskeyStore } from '../passkeys/sqlite-store';
