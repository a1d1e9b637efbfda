// A body declared as YAML (`application/yaml`, `application/x-yaml`, `text/yaml`, `…+yaml`), as the
// servers that take one bind it (twenty-ninth pass): Spring's and Jackson's YAML converters, Go's
// yaml.v2/v3 and PyYAML behind a handler that reads the type, Elasticsearch and OpenSearch read it as
// they read JSON, so `sql: DROP TABLE users` is the `{"sql": "DROP TABLE users"}` a JSON reader
// reads and `_method: DELETE` the override. Airlock kept it as text only: its SQL, GraphQL query,
// JSON-RPC call or override went unread (a POST of `sql: DROP TABLE users` was a medium write).
// Each document as YAML 1.1 reads it (PyYAML, yaml.v2, SnakeYAML, Jackson's), merge keys and
// aliases resolved; YAML 1.2 reads strings (what is judged: statements, methods, names) alike, so
// it is not parsed a second time.
import YAML from 'yaml';

/** The longest YAML text parsed (~2.5 µs a byte with the `yaml` package: ~40 ms of CPU); a longer one stays text. */
export const MAX_YAML_TEXT = 16 * 1024;
/** Readings kept (documents, equal ones once). */
const MAX_READINGS = 8;

export const yamlType = (type: string): boolean => /^(?:application|text)\/(?:x-)?yaml$/.test(type) || type.endsWith('+yaml');

/** The JSON values a YAML text's documents hold (none when it is no YAML, or too long to parse), and whether a mapping gives a key twice. */
export function yamlReadings(text: string): { readings: Array<{ label: string; json: unknown }>; duplicateKeys: boolean } {
  let duplicateKeys = false;
  const out: Array<{ label: string; json: unknown }> = [];
  if (text.length > MAX_YAML_TEXT || text.trim() === '') return { readings: out, duplicateKeys };
  let docs: ReturnType<typeof YAML.parseAllDocuments>;
  try {
    // A key given twice: PyYAML, SnakeYAML and the `yaml` package take the last, yaml.v3 refuses
    // the body; marked (the caller holds it as JSON's duplicate keys are) and read as the last.
    docs = YAML.parseAllDocuments(text, { version: '1.1', merge: true, uniqueKeys: true });
    if (Array.isArray(docs) && docs.some((d) => d.errors.some((e) => e.code === 'DUPLICATE_KEY'))) {
      duplicateKeys = true;
      docs = YAML.parseAllDocuments(text, { version: '1.1', merge: true, uniqueKeys: false });
    }
  } catch {
    return { readings: out, duplicateKeys };
  }
  if (!Array.isArray(docs)) return { readings: out, duplicateKeys };
  const seen = new Set<string>();
  for (const [i, doc] of docs.entries()) {
    if (doc.errors.length || out.length >= MAX_READINGS) continue;
    let json: unknown;
    try {
      // Through JSON: tags as JSON readers would see them (dates as text, binary as base64 text).
      json = JSON.parse(JSON.stringify(doc.toJS({ maxAliasCount: 100 })) ?? 'null') as unknown;
    } catch {
      continue; // an alias bomb, a cycle
    }
    if (json === null || typeof json !== 'object') continue;
    const key = JSON.stringify(json);
    if (seen.has(key)) continue;
    seen.add(key);
    out.push({ label: docs.length > 1 ? `YAML document ${i + 1}` : 'YAML', json });
  }
  return { readings: out, duplicateKeys };
}
