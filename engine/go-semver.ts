// OPA's `semver.is_valid` and `semver.compare`: SemVer 2.0.0 as semver.org writes it (no leading
// zeros, identifiers of [0-9A-Za-z-]), one optional leading `v`, each number within int64; the
// precedence of semver.org's item 11. Checked against the `opa` binary in builtins-parity.test.ts.
const SEMVER = /^(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)(?:-((?:0|[1-9][0-9]*|[0-9]*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9][0-9]*|[0-9]*[a-zA-Z-][0-9a-zA-Z-]*))*))?(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$/;
const INT64_MAX = 2n ** 63n - 1n;

interface Version {
  numbers: [bigint, bigint, bigint];
  pre: string;
}

function parse(v: unknown): Version | undefined {
  if (typeof v !== 'string') return undefined;
  const m = SEMVER.exec(v.startsWith('v') ? v.slice(1) : v);
  if (!m) return undefined;
  const numbers = [BigInt(m[1]!), BigInt(m[2]!), BigInt(m[3]!)] as [bigint, bigint, bigint];
  if (numbers.some((n) => n > INT64_MAX)) return undefined;
  return { numbers, pre: m[4] ?? '' };
}

export function semverIsValid(v: unknown): boolean {
  return parse(v) !== undefined;
}

const sign = (a: bigint | string, b: bigint | string): number => (a > b ? 1 : a < b ? -1 : 0);

export function semverCompare(a: string, b: string): number {
  const x = parse(a);
  if (!x) throw new Error(`semver.compare: operand 1: string ${String(a)} is not a valid SemVer`);
  const y = parse(b);
  if (!y) throw new Error(`semver.compare: operand 2: string ${String(b)} is not a valid SemVer`);
  for (let i = 0; i < 3; i++) {
    const c = sign(x.numbers[i]!, y.numbers[i]!);
    if (c) return c;
  }
  if (x.pre === y.pre) return 0;
  // A release is above its pre-releases.
  if (!x.pre) return 1;
  if (!y.pre) return -1;
  const xs = x.pre.split('.');
  const ys = y.pre.split('.');
  for (let i = 0; i < Math.max(xs.length, ys.length); i++) {
    if (i >= xs.length) return -1;
    if (i >= ys.length) return 1;
    const [p, q] = [xs[i]!, ys[i]!];
    const [pn, qn] = [/^[0-9]+$/.test(p), /^[0-9]+$/.test(q)];
    // Numeric identifiers are below alphanumeric ones; numbers compare as Go's Atoi reads them (capped at int64).
    if (pn !== qn) return pn ? -1 : 1;
    const c = pn ? sign(min(BigInt(p), INT64_MAX), min(BigInt(q), INT64_MAX)) : sign(p, q);
    if (c) return c;
  }
  return 0;
}

const min = (a: bigint, b: bigint): bigint => (a < b ? a : b);
