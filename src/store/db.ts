/**
 * The one database seam. SQLite (node:sqlite, embedded default) and PostgreSQL (pg) both implement it.
 * SQL is written once with `?` placeholders; the PostgreSQL adapter rewrites them to $1, $2, ...
 * Keep SQL portable: TEXT, INTEGER/BIGINT, REAL/DOUBLE PRECISION via the dialect helpers in migrations.
 */
export type SqlValue = string | number | bigint | null | Uint8Array | boolean;
export type Row = Record<string, unknown>;

export interface Queryable {
  /** All rows. */
  all<T = Row>(sql: string, params?: SqlValue[]): Promise<T[]>;
  /** First row or undefined. */
  get<T = Row>(sql: string, params?: SqlValue[]): Promise<T | undefined>;
  /** Statement without result rows; returns the number of changed rows. */
  run(sql: string, params?: SqlValue[]): Promise<{ changes: number }>;
}

export interface Db extends Queryable {
  readonly dialect: 'sqlite' | 'postgres';
  /** Runs fn in one transaction (serialised: BEGIN IMMEDIATE on SQLite, SERIALIZABLE-safe locking on PostgreSQL). */
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
  /** Health probe for /readyz. */
  ping(): Promise<void>;
  /** Pool state for /metrics. */
  poolStats(): { total: number; idle: number; waiting: number };
  close(): Promise<void>;
}
