#!/usr/bin/env node
// Writes rego/public_suffixes/data.json from the Public Suffix List (https://publicsuffix.org/): the
// policy reads it as `data.public_suffixes.by_tld` (one line-separated string of rules per top-level
// domain: as an object of ~9,800 keys it cost each evaluation thread megabytes) to tell a `*.` pattern that names one owner's
// hosts (`*.acme.workers.dev`) from one that names everyone's (`*.workers.dev`, `*.github.io`,
// `*.co.uk`). Both sections, ICANN and private (shared hosting). Refresh it from a newer list:
//   node scripts/public-suffixes.js [path-to-public_suffix_list.dat]
// (default: /usr/share/publicsuffix/public_suffix_list.dat, Debian's and Ubuntu's `publicsuffix` package).
import fs from 'node:fs';
import path from 'node:path';
import { domainToASCII } from 'node:url';

const source = process.argv[2] ?? '/usr/share/publicsuffix/public_suffix_list.dat';
const out = path.join(import.meta.dirname, '..', 'rego', 'public_suffixes', 'data.json');
const rules = new Set();
for (const raw of fs.readFileSync(source, 'utf8').split('\n')) {
  const line = raw.trim().split(/\s/)[0];
  if (!line || line.startsWith('//')) continue;
  // Requests carry punycode: a rule in Unicode is kept in its ASCII form (`*`, `!` kept as written).
  const [, mark, name] = /^([*!]\.?|)(.*)$/.exec(line);
  const ascii = domainToASCII(name.toLowerCase());
  if (ascii) rules.add(`${mark}${ascii}`);
}
const sorted = [...rules].sort();
const byTld = new Map();
for (const r of sorted) {
  const labels = r.replace(/^!/, '').split('.');
  const tld = labels[labels.length - 1];
  if (!byTld.has(tld)) byTld.set(tld, []);
  byTld.get(tld).push(r);
}
const body = [...byTld].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([tld, rs]) => `    ${JSON.stringify(tld)}: ${JSON.stringify(`\n${rs.join('\n')}\n`)}`).join(',\n');
fs.writeFileSync(out, `{\n  "source": ${JSON.stringify(`${path.basename(source)}, ${sorted.length} rules`)},\n  "by_tld": {\n${body}\n  }\n}\n`);
console.log(`${out}: ${sorted.length} rules`);
