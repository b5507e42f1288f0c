/** A row as the driver returns it: column name → value. */
export type SqlRow = Record<string, unknown>;

/** What the SQL store needs of a database: parameterised queries and transactions. PGlite and pg both fit. */
export interface SqlClient {
  /** Runs one statement with `$1`-style parameters. */
  query(text: string, params?: readonly unknown[]): Promise<SqlRow[]>;
  /** Runs `work` in one transaction: committed when it resolves, rolled back when it rejects. */
  transaction<T>(work: (tx: SqlQueryable) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/** The part of a client usable inside a transaction. */
export interface SqlQueryable {
  query(text: string, params?: readonly unknown[]): Promise<SqlRow[]>;
}
