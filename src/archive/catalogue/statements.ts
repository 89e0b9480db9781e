import type { Database, Statement } from 'better-sqlite3';

/**
 * The prepared statements of one catalogue connection, each prepared once per SQL text and kept: the
 * queries whose SQL depends on their filters (windows, replays) are prepared once per shape.
 */
export class Statements {
  readonly #db: Database;
  readonly #kept = new Map<string, Statement>();

  constructor(db: Database) {
    this.#db = db;
  }

  /**
   * The statement of `sql`, to run to completion (`all`, `get`, `run`). `raw`: rows as arrays and
   * integers as numbers, for statements that select no integer above 2^53.
   */
  get(sql: string, options: { raw?: boolean } = {}): Statement {
    const key = options.raw ? `raw:${sql}` : sql;
    let stmt = this.#kept.get(key);
    if (!stmt) {
      stmt = this.#db.prepare(sql);
      if (options.raw) stmt.raw(true).safeIntegers(false);
      this.#kept.set(key, stmt);
    }
    return stmt;
  }

  /**
   * The statement of `sql`, to `iterate`. A statement runs one query at a time, and an iteration lasts as
   * long as its reader (a replay, a verify): while the kept one is still iterating, a fresh one is used.
   */
  iterable(sql: string): Statement {
    const stmt = this.get(sql);
    return stmt.busy ? this.#db.prepare(sql) : stmt;
  }

  /** Runs SQL that returns nothing (temporary tables, transactions). */
  exec(sql: string): void {
    this.#db.exec(sql);
  }
}
