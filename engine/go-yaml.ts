// OPA's `yaml.unmarshal` and `yaml.is_valid` as OPA reads YAML (internal/yaml: go-yaml v3, the first
// document, a repeated key's last value, plain timestamps as text, then JSON). The opa-wasm SDK's
// own are the `yaml` 1.x package's YAML 1.2 core schema: `010` was 10 there and is 8 in OPA,
// `1_000` a string and 1000, `.inf` null and an error, `!!binary` the base64 text and its bytes, a
// repeated key or a second document an error and a value. The `yaml` package parses here too; only
// how a plain scalar resolves is go-yaml's (its resolve.go).
import type { ScalarTag } from 'yaml';
import { lazyPackage } from '../lib/lazy-package.ts';
import { goUtf8 } from './go-utf8.ts';
import { emptyMap } from '../lib/records.ts';

/** The `yaml` package, loaded by the first yaml builtin a policy calls (lib/lazy-package.ts). */
const yaml = lazyPackage<typeof import('yaml')>('yaml');

const yamlStyleFloat = /^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$/;
const INT64_MAX = 2n ** 63n - 1n;
const UINT64_MAX = 2n ** 64n - 1n;

/** go-yaml v3's resolve for a plain scalar that starts like a number. */
function resolveNumber(s: string): number | string {
  // Read, but with no JSON form: an error only if in the document OPA converts (jsonable).
  if (/^[-+]?\.(inf|Inf|INF)$/.test(s)) return s[0] === '-' ? -Infinity : Infinity;
  if (/^\.(nan|NaN|NAN)$/.test(s)) return NaN;
  const plain = s.replaceAll('_', '');
  // strconv.ParseInt(plain, 0, 64), then ParseUint.
  const m = /^([-+]?)(0[xX][0-9a-fA-F]+|0[oO][0-7]+|0[bB][01]+|0[0-7]*|[1-9][0-9]*)$/.exec(plain);
  if (m) {
    const body = m[2]!;
    const digits = /^0[oO]/.test(body) ? `0o${body.slice(2)}` : /^0[0-7]+$/.test(body) ? `0o${body.slice(1)}` : body;
    const v = BigInt(digits) * (m[1] === '-' ? -1n : 1n);
    if ((v >= -INT64_MAX - 1n && v <= INT64_MAX) || (m[1] !== '-' && v <= UINT64_MAX)) return Number(v);
  }
  if (yamlStyleFloat.test(plain)) {
    const f = Number(plain);
    if (Number.isFinite(f)) return f;
  }
  return s;
}

// Replacing the core schema's scalars: go-yaml v3 reads only these spellings as null and booleans.
const goScalars: ScalarTag[] = [
  { tag: 'tag:yaml.org,2002:null', default: true, test: /^(?:~|null|Null|NULL)?$/, resolve: () => null },
  { tag: 'tag:yaml.org,2002:bool', default: true, test: /^(?:true|True|TRUE|false|False|FALSE)$/, resolve: (s: string) => s[0] === 't' || s[0] === 'T' },
  { tag: 'tag:yaml.org,2002:int', default: true, test: /^[-+.0-9]/, resolve: resolveNumber },
];

/** A value as OPA's JSON round trip leaves it (its jsonable, keyString): bytes as Go's string, no NaN or infinity, keys text. */
function jsonable(v: unknown): unknown {
  if (v instanceof Uint8Array) return goUtf8(v);
  if (typeof v === 'number' && !Number.isFinite(v)) throw new Error('yaml: a number with no JSON form');
  if (Array.isArray(v)) return v.map(jsonable);
  if (v instanceof Map) {
    const out: Record<string, unknown> = emptyMap();
    for (const [k, x] of v) out[keyString(k)] = jsonable(x);
    return out;
  }
  return v;
}

function keyString(k: unknown): string {
  if (typeof k === 'string') return k;
  if (typeof k === 'boolean' || (typeof k === 'number' && Number.isInteger(k))) return String(k);
  throw new Error('yaml: unsupported map key');
}

/** OPA's yaml.unmarshal: throws where OPA's errors (the expression is then undefined). */
export function yamlUnmarshal(s: unknown): unknown {
  if (typeof s !== 'string') throw new Error('yaml.unmarshal: operand 1 must be string');
  const docs = yaml().parseAllDocuments(s, { schema: 'failsafe', customTags: [...goScalars, 'binary'], merge: true, uniqueKeys: false });
  const list = Array.isArray(docs) ? docs : [];
  for (const d of list) if (d.errors.length) throw d.errors[0];
  if (list.length === 0) return null;
  return jsonable(list[0]!.toJS({ maxAliasCount: 100, mapAsMap: true }));
}

export function yamlIsValid(s: unknown): boolean {
  try {
    yamlUnmarshal(s);
    return true;
  } catch {
    return false;
  }
}
