/**
 * `check --unit FILE`: the credentials a systemd unit hands its service, read before the
 * unit has ever run. systemd copies each `LoadCredential=ID:PATH` source to
 * /run/credentials/<unit>/ID only while the service runs, so a check on a fresh server
 * reads the `*_file` keys that point there from the sources the unit names instead.
 */
import { basename, join } from "node:path";

/** Where systemd looks for `LoadCredential=ID` given without a path (systemd.exec(5)). */
export const CREDSTORE_DIRS = ["/etc/credstore", "/run/credstore", "/usr/lib/credstore"];

export interface UnitCredentials {
  /** `/run/credentials/<unit name>`: $CREDENTIALS_DIRECTORY while the unit runs. */
  directory: string;
  /** Credential id → its source path as the unit gives it; null: the credential store. */
  sources: Map<string, string | null>;
}

/** The [Service] section's LoadCredential= lines; an empty assignment clears the list, as in systemd. */
export function parseUnitCredentials(unitPath: string, text: string): UnitCredentials {
  const sources = new Map<string, string | null>();
  let section = "";
  for (const line of text.replace(/\\\r?\n/g, " ").split(/\r?\n/).map((l) => l.trim())) {
    if (line.startsWith("[")) section = line;
    const match = /^LoadCredential\s*=\s*(.*)$/.exec(line);
    if (section !== "[Service]" || !match) continue;
    const value = match[1]!.trim();
    if (value === "") {
      sources.clear();
      continue;
    }
    const colon = value.indexOf(":");
    sources.set(colon < 0 ? value : value.slice(0, colon), colon < 0 ? null : value.slice(colon + 1));
  }
  return { directory: `/run/credentials/${basename(unitPath)}`, sources };
}

/**
 * The files to try for a path inside the credentials directory, in systemd's order; null
 * when the path is elsewhere (read as it is). A directory source loads each file in it
 * as `ID_FILENAME`. Throws, naming the unit's lines, when no credential of that name is loaded.
 */
export function credentialSources(unit: UnitCredentials, path: string): string[] | null {
  if (!path.startsWith(unit.directory + "/")) return null;
  const name = path.slice(unit.directory.length + 1);
  if (unit.sources.has(name)) {
    const source = unit.sources.get(name)!;
    if (source === null) return CREDSTORE_DIRS.map((dir) => join(dir, name));
    if (source.startsWith("/")) return [source];
    throw new Error(`LoadCredential=${name}:${source} takes it from the service manager's own credentials, which check cannot see`);
  }
  for (const [id, source] of unit.sources) {
    if (source !== null && source.startsWith("/") && name.startsWith(`${id}_`)) return [join(source, name.slice(id.length + 1))];
  }
  const unitName = basename(unit.directory);
  throw new Error(`${unitName} loads no credential "${name}": add LoadCredential=${name}:/etc/wa-webhookd/credentials/${name} to it`);
}
