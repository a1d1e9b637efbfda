#!/usr/bin/env node
// Writes rego/public_suffixes/data.json from the Public Suffix List (https://publicsuffix.org/): the
// policy reads it as `data.public_suffixes.by_tld` (one line-separated string of rules per top-level
// domain: as an object of ~9,800 keys it cost each evaluation thread megabytes) to tell a `*.` pattern that names one owner's
// hosts (`*.acme.workers.dev`) from one that names everyone's (`*.workers.dev`, `*.github.io`,
// `*.co.uk`). Both sections, ICANN and private (shared hosting). Refresh it from a newer list:
//   node scripts/public-suffixes.js [path-to-public_suffix_list.dat]
// (default: /usr/share/publicsuffix/public_suffix_list.dat, Debian's and Ubuntu's `publicsuffix` package).
// A `.json` path re-buckets the rules of an earlier data.json (same rules, same source line).
// SHARED_HOSTS are added to whichever list is read (nineteenth pass).
//
// A string past BUCKET_BYTES is split by the first character of the next label to the left
// (`com` → `com/a` → `com/a/a` …, named in `split`), a bucket keeping the rules no longer than its
// key: every look-up scans one string of a few KiB instead of `com`'s 30 KB (seventeenth pass: a
// request naming 500 hosts of 44 labels scanned it ~16 times per host), for ~150 more keys.
import fs from 'node:fs';
import path from 'node:path';
import { domainToASCII } from 'node:url';

const BUCKET_BYTES = 4096;
const MAX_DEPTH = 4; // rego/sessions.rego rule_bucket reads this many levels

// Domains where anyone gets a host of their own that the list does not name (nineteenth pass: a
// `*.loca.lt` trusted sink or `labels.hosts` entry, meant for the user's own tunnel, vouched for an
// attacker's tunnel beside it): tunnels to a laptop, request bins and out-of-band interaction
// catchers (every name below them is logged for whoever made it: DNS exfiltration's own tools),
// hosted docs and blogs, and wildcard DNS. Kept out of the refresh so that a newer list does not drop them.
const SHARED_HOSTS = [
  // tunnels (localtunnel, serveo, localhost.run, Pinggy, Tunnelmole, zrok, Microsoft Dev Tunnels, LocalXpose, Loophole)
  'loca.lt', 'localtunnel.me', 'serveo.net', 'serveousercontent.com', 'lhr.life', 'localhost.run',
  'pinggy.link', 'pinggy.online', 'a.pinggy.link', 'a.free.pinggy.link', 'run.pinggy-free.link',
  'tunnelmole.net', 'share.zrok.io', 'devtunnels.ms', '*.devtunnels.ms', 'loclx.io', 'localxpose.io', 'loophole.site',
  'gradio.live', 'up.railway.app', 'railway.app',
  // request bins and out-of-band catchers (Burp Collaborator, interactsh, dnslog, ceye, requestrepo)
  'webhook.site', 'requestcatcher.com', 'beeceptor.com', 'free.beeceptor.com', 'pipedream.net', 'm.pipedream.net',
  'oastify.com', 'burpcollaborator.net', 'oast.fun', 'oast.pro', 'oast.live', 'oast.site', 'oast.online', 'oast.me',
  'interact.sh', 'dnslog.cn', 'ceye.io', 'requestrepo.com',
  // hosted docs, sites and blogs
  'gitbook.io', 'surge.sh', 'neocities.org', 'hashnode.dev', 'substack.com', 'ghost.io', 'mintlify.app',
  // wildcard DNS (twenty-first pass): every name below resolves to the address it spells
  // (`203-0-113-7.nip.io` is 203.0.113.7), so `*.nip.io` names every server on the internet
  'nip.io', 'sslip.io', 'traefik.me', 'nip.direct', 'xip.io',
];

const source = process.argv[2] ?? '/usr/share/publicsuffix/public_suffix_list.dat';
const out = path.join(import.meta.dirname, '..', 'rego', 'public_suffixes', 'data.json');
const rules = new Set();
let sourceName;
if (source.endsWith('.json')) {
  const earlier = JSON.parse(fs.readFileSync(source, 'utf8'));
  for (const s of Object.values(earlier.by_tld)) for (const r of s.split('\n')) if (r) rules.add(r);
  sourceName = earlier.source.replace(/(?: \+ \d+ shared hosts)?, \d+ rules$/, '');
} else {
  for (const raw of fs.readFileSync(source, 'utf8').split('\n')) {
    const line = raw.trim().split(/\s/)[0];
    if (!line || line.startsWith('//')) continue;
    // Requests carry punycode: a rule in Unicode is kept in its ASCII form (`*`, `!` kept as written).
    const [, mark, name] = /^([*!]\.?|)(.*)$/.exec(line);
    const ascii = domainToASCII(name.toLowerCase());
    if (ascii) rules.add(`${mark}${ascii}`);
  }
  sourceName = path.basename(source);
}
for (const r of SHARED_HOSTS) rules.add(r);
sourceName = `${sourceName} + ${SHARED_HOSTS.length} shared hosts`;
const sorted = [...rules].sort();
const labelsOf = (r) => r.replace(/^!/, '').split('.');
const text = (rs) => `\n${rs.join('\n')}\n`;
const buckets = new Map();
const split = [];
const place = (key, depth, rs) => {
  if (text(rs).length <= BUCKET_BYTES) return void buckets.set(key, rs);
  if (depth >= MAX_DEPTH) throw new Error(`${key}: ${text(rs).length} bytes of rules ${MAX_DEPTH} levels down`);
  split.push(key);
  const short = rs.filter((r) => labelsOf(r).length <= depth);
  if (short.length) buckets.set(key, short);
  const below = new Map();
  for (const r of rs) {
    const l = labelsOf(r);
    if (l.length <= depth) continue;
    const c = l[l.length - 1 - depth][0];
    if (!below.has(c)) below.set(c, []);
    below.get(c).push(r);
  }
  for (const [c, sub] of below) place(`${key}/${c}`, depth + 1, sub);
};
const byTld = new Map();
for (const r of sorted) {
  const l = labelsOf(r);
  const tld = l[l.length - 1];
  if (!byTld.has(tld)) byTld.set(tld, []);
  byTld.get(tld).push(r);
}
for (const [tld, rs] of byTld) place(tld, 1, rs);
const body = [...buckets].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([k, rs]) => `    ${JSON.stringify(k)}: ${JSON.stringify(text(rs))}`).join(',\n');
fs.writeFileSync(out, `{\n  "source": ${JSON.stringify(`${sourceName}, ${sorted.length} rules`)},\n  "split": {${split.sort().map((k) => `${JSON.stringify(k)}: true`).join(', ')}},\n  "by_tld": {\n${body}\n  }\n}\n`);
console.log(`${out}: ${sorted.length} rules, ${buckets.size} strings`);
