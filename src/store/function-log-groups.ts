/**
 * The log groups a function writes to, read from the metadata database (read-only, so it works
 * while the server runs): the `LoggingConfig.LogGroup` of `$LATEST` and of every published
 * version, `/aws/lambda/<name>` first when the function is unknown or uses the default.
 */
import { existsSync } from 'node:fs';
import SqliteDatabase from 'better-sqlite3';

export function functionLogGroups(databaseFile: string, functionName: string): string[] {
  const groups = new Set<string>([`/aws/lambda/${functionName}`]);
  if (!existsSync(databaseFile)) return [...groups];
  const db = new SqliteDatabase(databaseFile, { readonly: true, fileMustExist: true });
  try {
    const rows = db
      .prepare(
        `SELECT DISTINCT json_extract(record_json, '$.settings.logging.logGroup') AS grp
         FROM function_versions WHERE function_name = ?`,
      )
      .all(functionName) as Array<{ grp: unknown }>;
    for (const row of rows) if (typeof row.grp === 'string') groups.add(row.grp);
  } finally {
    db.close();
  }
  return [...groups];
}
