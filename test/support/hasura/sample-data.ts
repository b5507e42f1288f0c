import type { SqlClient } from "../../../src/store/sql-client.js";
import { quoteIdent } from "./catalog.js";

/** Where the stand-in keeps the data an output port serves; its root field follows Hasura's prefix rule. */
export interface SampleTable {
  readonly schema: string;
  readonly table: string;
}

/** The default sample: `public.output_port_sales`, served as root field `output_port_sales`. */
export const DEFAULT_SAMPLE_TABLE: SampleTable = { schema: "public", table: "output_port_sales" };

/** The rows every sample table holds, so tests know what an allowed query returns. */
export const SAMPLE_ROWS = [
  { id: 1, region: "north", amount: 120.5 },
  { id: 2, region: "south", amount: 80 },
] as const;

/** Creates the sample table with its two rows, unless it is there already. */
export async function createSampleTable(client: SqlClient, sample: SampleTable): Promise<void> {
  const name = `${quoteIdent(sample.schema)}.${quoteIdent(sample.table)}`;
  await client.query(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(sample.schema)}`);
  await client.query(
    `CREATE TABLE IF NOT EXISTS ${name} (id integer PRIMARY KEY, region varchar(64) NOT NULL, amount numeric NOT NULL)`,
  );
  for (const row of SAMPLE_ROWS) {
    await client.query(
      `INSERT INTO ${name} (id, region, amount) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`,
      [row.id, row.region, row.amount],
    );
  }
}
