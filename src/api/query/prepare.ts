import type { Database, Statement } from 'better-sqlite3';

const byDb = new WeakMap<Database, Map<string, Statement>>();

/**
 * A prepared statement of the catalogue, prepared once per database and SQL text. Statements are only
 * ever run to completion (`all`, `get`), never left iterating, so one statement serves every request.
 * `raw`: rows as arrays and integers as numbers, for statements that select no integer above 2^53.
 */
export function prepared(db: Database, sql: string, options: { raw?: boolean } = {}): Statement {
  let cache = byDb.get(db);
  if (!cache) {
    cache = new Map();
    byDb.set(db, cache);
  }
  const key = options.raw ? `raw:${sql}` : sql;
  let stmt = cache.get(key);
  if (!stmt) {
    stmt = db.prepare(sql);
    // Raw statements select no 64-bit value as an integer (see ROW_COLUMNS_FAST): plain numbers are safe.
    if (options.raw) stmt.raw(true).safeIntegers(false);
    cache.set(key, stmt);
  }
  return stmt;
}
