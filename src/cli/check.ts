import { readFileSync } from "node:fs";
import { SQL } from "bun";
import { ConfigError, maskSecrets, maskUrlCredentials } from "../config/load";
import { foreignTables, foreignTablesProblem, postgresSchemaVersion } from "../store/postgres/migrate";
import { PG_LATEST_VERSION } from "../store/postgres/migrations";
import { loadConfig, refusePublicDevSecrets, type SecretAccess } from "../config/source";
import { credentialSources, parseUnitCredentials } from "../config/unit-credentials";
import { printWarnings } from "./warnings";
import { segmentsDirProblem, storageDirProblem } from "../store/storage-dir";
import { segmentsDir } from "../store/segment-log";
import { serverVersion } from "../store/postgres/connect";

/**
 * `wa-webhookd check`: validates the config and prints it, secrets masked, with the
 * database's path (or, on PostgreSQL, the server and schema versions it answered with); warnings go to stderr and do not fail the check. With
 * `--unit`, secrets under the unit's credentials directory are read from the files its
 * LoadCredential= lines name, so the check passes before the service has ever run.
 */
export async function runCheck(configPath: string | null, unitPath: string | null): Promise<number> {
  const { config, origin, warnings } = loadConfig(configPath, "serve", unitPath === null ? {} : unitAccess(unitPath));
  // What the daemon would refuse to start with, check refuses too.
  refusePublicDevSecrets(config);
  // As this user: a service running as another (systemd's DynamicUser) may see it otherwise.
  const storageProblem = config.storage.engine === "sqlite" ? (storageDirProblem(config.storage.path) ?? segmentsDirProblem(segmentsDir(config.storage.path))) : null;
  if (storageProblem) warnings.push({ key: "storage.path", reason: `${storageProblem}: a daemon run as this user cannot start` });
  printWarnings(warnings);
  const via = unitPath === null ? "" : `, credentials as ${unitPath} provides them`;
  const database = config.storage.engine === "postgres" ? await describePostgres(config.storage.url!) : config.storage.path;
  process.stdout.write(`# ${origin}: ok (database: ${database}${via})\n${JSON.stringify(maskSecrets(config), null, 2)}\n`);
  return 0;
}

/**
 * The PostgreSQL engine's database, reached: its server version and schema version (or
 * that it is empty and will be migrated at start). Unreachable, or of a newer schema
 * than this binary: a problem naming storage.url.
 */
async function describePostgres(url: string): Promise<string> {
  const where = maskUrlCredentials(url);
  const sql = new SQL(url, { max: 1, connectionTimeout: 5 });
  try {
    const server_version = await serverVersion(sql);
    const schema = await postgresSchemaVersion(sql);
    if (schema > PG_LATEST_VERSION) {
      throw new ConfigError([{ key: "storage.url", reason: `${where}: schema version ${schema} is newer than this binary supports (${PG_LATEST_VERSION})` }]);
    }
    const foreign = schema === 0 ? await foreignTables(sql) : [];
    if (foreign.length > 0) throw new ConfigError([{ key: "storage.url", reason: `${where}: ${foreignTablesProblem(foreign)}` }]);
    const state = schema === 0 ? "empty, migrated at start" : schema < PG_LATEST_VERSION ? `schema ${schema}, migrated to ${PG_LATEST_VERSION} at start` : `schema ${schema}`;
    return `${where}, PostgreSQL ${server_version}, ${state}`;
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    // The server answered (a permission, a missing database): reached, and refused.
    const answered = (err as { code?: unknown }).code === "ERR_POSTGRES_SERVER_ERROR";
    throw new ConfigError([{ key: "storage.url", reason: `${answered ? `${where} refused` : `cannot reach ${where}`}: ${(err as Error).message}` }]);
  } finally {
    await sql.close().catch(() => {});
  }
}

function unitAccess(unitPath: string): SecretAccess {
  let text: string;
  try {
    text = readFileSync(unitPath, "utf8");
  } catch (err) {
    throw new ConfigError([{ key: "--unit", reason: `cannot read ${unitPath}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}` }]);
  }
  const unit = parseUnitCredentials(unitPath, text);
  return {
    env: { ...process.env, CREDENTIALS_DIRECTORY: unit.directory },
    readFile: (path) => {
      const sources = credentialSources(unit, path);
      if (sources === null) return readFileSync(path, "utf8");
      for (const source of sources) {
        try {
          return readFileSync(source, "utf8");
        } catch (err) {
          const code = (err as NodeJS.ErrnoException).code;
          if (code !== "ENOENT" || sources.length === 1) throw new Error(`its LoadCredential= source ${source}: ${code ?? (err as Error).message}`);
        }
      }
      throw new Error(`not found in ${sources.join(", ")} (where LoadCredential= with no path looks)`);
    },
  };
}
