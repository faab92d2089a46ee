/** Row types of the metadata database, as Kysely sees them. */
import type { Generated } from 'kysely';

export interface FunctionsTable {
  name: string;
  created_ms: number;
  tags_json: string;
  reserved_concurrency: number | null;
  last_version: Generated<number>;
}

export interface AliasesTable {
  function_name: string;
  name: string;
  record_json: string;
}

export interface FunctionVersionsTable {
  function_name: string;
  version: string;
  record_json: string;
  code_sha256: string;
  ready_code_sha256: string | null;
  code_size: number;
  awaiting_preparation: number;
}

export interface ProvisionedConcurrencyTable {
  function_name: string;
  qualifier: string;
  requested: number;
  last_modified_ms: number;
}

export interface MigrationRow {
  name: string;
  timestamp: Generated<string>;
}

export interface Database {
  functions: FunctionsTable;
  function_versions: FunctionVersionsTable;
  aliases: AliasesTable;
  provisioned_concurrency: ProvisionedConcurrencyTable;
}
