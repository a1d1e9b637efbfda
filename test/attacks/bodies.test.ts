// Protocol bodies read one way by Airlock and another by the server (issue 23 class 5) and
// ambiguous bodies (issue 16 item 3). Properties over the whole space, each run through the
// proxy's describe step and the compiled default policy:
//   - every spelling a JSON server accepts (media type family, byte order marks, charsets, RFC 4627
//     detection, content codings, out-of-range numbers) keeps a JSON-RPC tool call visible;
//   - a duplicate key at any depth is ambiguous and decided at least as severely as both the
//     first-wins and the last-wins reading, and never allowed;
//   - a Content-Type that contradicts a JSON body is ambiguous and the JSON is still read;
//   - git's pkt-line in every spelling receive-pack accepts shows a branch deletion;
//   - form-encoded SQL to SQL RPC endpoints is read as SQL;
//   - a body to a protocol endpoint that cannot be read fully is held at critical risk.
// A live section sends some of them through a running Airlock with real clients (Node http,
// curl): held, never forwarded.
import t from 'tap';
import fc from 'fast-check';
import zlib from 'node:zlib';
import { execFile } from 'node:child_process';
import { MAX_CONTENT_CODINGS } from '../../describe/body.ts';
import { bodyPolicy, configuredRego, MCP_HOST, READ_ONLY_TOOLS, severity, SQL_HOST } from './body-policy.ts';
import { startTestAirlock, startUpstream, viaProxy } from './helpers.ts';

const runs = Number(process.env.AIRLOCK_FUZZ_RUNS ?? 120);
const seed = process.env.AIRLOCK_FUZZ_SEED ? { seed: Number(process.env.AIRLOCK_FUZZ_SEED) } : {};
const decide = await bodyPolicy(t);
const MCP = `https://${MCP_HOST}/mcp`;

const dangerousTool = fc.constantFrom('delete_project', 'drop_database', 'send_email', 'merge_pr');
const readTool = fc.constantFrom(...READ_ONLY_TOOLS);
/** Number literals a double cannot hold, written as the agent would write them. */
const bigLiterals = ['1e999', '-1e400', '123456789012345678901234567890', '9007199254740993'];
const id = fc.oneof(fc.integer(), fc.string({ maxLength: 8 }), fc.constant(null), fc.constantFrom(...bigLiterals));
const ws = fc.constantFrom('', ' ', '\n', '\t', '\r\n  ');

function rpc(tool: string, idText: string, space: string): string {
  return `{${space}"jsonrpc":"2.0",${space}"id":${idText},"method":"tools/call",${space}"params":{"name":${JSON.stringify(tool)},"arguments":{"project":"widgets"}}${space}}`;
}
const idText = (v: unknown): string => (typeof v === 'string' && bigLiterals.includes(v) ? v : JSON.stringify(v));

type Enc = 'utf-8' | 'utf-16le' | 'utf-16be' | 'utf-32le' | 'utf-32be' | 'latin1';
function encode(text: string, enc: Enc): Buffer {
  switch (enc) {
    case 'utf-8': return Buffer.from(text, 'utf8');
    case 'latin1': return Buffer.from(text, 'latin1');
    case 'utf-16le': return Buffer.from(text, 'utf16le');
    case 'utf-16be': return Buffer.from(text, 'utf16le').swap16();
    case 'utf-32le':
    case 'utf-32be': {
      const cps = [...text].map((c) => c.codePointAt(0)!);
      const b = Buffer.alloc(cps.length * 4);
      cps.forEach((cp, i) => (enc === 'utf-32le' ? b.writeUInt32LE(cp, i * 4) : b.writeUInt32BE(cp, i * 4)));
      return b;
    }
  }
}
const boms: Record<Enc, Buffer> = {
  'utf-8': Buffer.from([0xef, 0xbb, 0xbf]), 'utf-16le': Buffer.from([0xff, 0xfe]), 'utf-16be': Buffer.from([0xfe, 0xff]),
  'utf-32le': Buffer.from([0xff, 0xfe, 0, 0]), 'utf-32be': Buffer.from([0, 0, 0xfe, 0xff]), latin1: Buffer.alloc(0),
};
const charsetLabels: Record<Enc, string[]> = {
  'utf-8': ['utf-8', 'UTF-8', 'utf8', '"utf-8"'], 'utf-16le': ['utf-16le', 'UTF-16LE'], 'utf-16be': ['utf-16be', 'UTF-16BE'],
  'utf-32le': ['utf-32le'], 'utf-32be': ['utf-32be'], latin1: ['iso-8859-1', 'latin1', 'windows-1252'],
};
const jsonTypes = ['application/json', 'text/json', 'application/json-rpc', 'application/x-json', 'application/jsonrequest', 'application/vnd.mcp+json', 'application/problem+json', 'APPLICATION/JSON'];

/** A body spelling a JSON server reads as the given text: encoding, how the encoding is announced, media type, content coding. */
const spelling = fc.record({
  enc: fc.constantFrom<Enc>('utf-8', 'utf-16le', 'utf-16be', 'utf-32le', 'utf-32be', 'latin1'),
  announce: fc.constantFrom('bom', 'charset', 'both', 'none'),
  label: fc.nat(),
  type: fc.oneof(fc.constantFrom(...jsonTypes), fc.constant('')),
  coding: fc.constantFrom('', '', 'gzip', 'deflate', 'br', 'gzip, gzip'),
});

interface Spelling {
  enc: Enc;
  announce: string;
  label: number;
  type: string;
  coding: string;
}

function spell(text: string, s: Spelling): { headers: Array<[string, string]>; body: Buffer } {
  // Latin-1 and UTF-8 cannot be told from the bytes, and UTF-16/32 need a BOM or RFC 4627 detection
  // (JSON types and untyped bodies only): announce what a server needs to read it.
  let announce = s.announce;
  if (s.enc === 'latin1') announce = 'charset';
  const labels = charsetLabels[s.enc];
  const label = labels[s.label % labels.length]!;
  let body = encode(text, s.enc);
  if (announce === 'bom' || announce === 'both') body = Buffer.concat([boms[s.enc], body]);
  const headers: Array<[string, string]> = [];
  const withCharset = announce === 'charset' || announce === 'both';
  if (s.type || withCharset) headers.push(['Content-Type', `${s.type || 'application/json'}${withCharset ? `; charset=${label}` : ''}`]);
  for (const c of s.coding.split(', ').filter(Boolean).reverse()) {
    body = c === 'gzip' ? zlib.gzipSync(body) : c === 'deflate' ? zlib.deflateSync(body) : zlib.brotliCompressSync(body);
  }
  if (s.coding) headers.push(['Content-Encoding', s.coding]);
  return { headers, body };
}

t.test('every JSON spelling keeps an MCP tool call visible (BOM, charset, media type, coding, big ids)', async (t) => {
  let checked = 0;
  await fc.assert(
    fc.asyncProperty(dangerousTool, id, ws, spelling, async (tool, idv, space, s) => {
      const { headers, body } = spell(rpc(tool, idText(idv), space), s);
      const { description, decision } = await decide({ url: MCP, headers, body });
      const mcp = description.mcp?.batch?.find((c) => c.method === 'tools/call') ?? description.mcp;
      if (mcp?.method !== 'tools/call' || mcp.tool !== tool) throw new Error(`tool call not described: ${JSON.stringify(description.mcp)} ${JSON.stringify(description.request.body)}`);
      if (severity(decision) < 3) throw new Error(`decided ${decision.action} ${decision.approval?.risk ?? ''} (${decision.rule})`);
      checked++;
    }),
    { numRuns: runs, ...seed },
  );
  t.equal(checked, runs);
});

/** JSON text of a value, with one object key written twice (first value, then second) at `path`. */
function withDuplicate(value: Record<string, unknown>, path: string[], key: string, first: unknown, second: unknown, space: string): string {
  const walk = (v: unknown, rest: string[]): string => {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return JSON.stringify(v);
    const o = v as Record<string, unknown>;
    const parts: string[] = [];
    for (const [k, x] of Object.entries(o)) {
      if (rest.length === 0 && k === key) continue;
      parts.push(`${JSON.stringify(k)}:${space}${rest.length && rest[0] === k ? walk(x, rest.slice(1)) : JSON.stringify(x)}`);
    }
    if (rest.length === 0) {
      parts.unshift(`${JSON.stringify(key)}:${space}${JSON.stringify(first)}`);
      parts.push(`${JSON.stringify(key)}:${space}${JSON.stringify(second)}`);
    }
    return `{${parts.join(`,${space}`)}}`;
  };
  return walk(value, path);
}

function setAt(value: Record<string, unknown>, path: string[], key: string, v: unknown): Record<string, unknown> {
  const copy = structuredClone(value);
  let o = copy;
  for (const p of path) o = o[p] as Record<string, unknown>;
  o[key] = v;
  return copy;
}

t.test('duplicate keys at any depth: ambiguous, never allowed, at least as severe as either reading', async (t) => {
  const message = (tool: string): Record<string, unknown> => ({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: tool, arguments: { filter: { state: 'open' } } } });
  // Where the duplicate goes and which values the two readings see.
  const slot = fc.oneof(
    fc.record({ path: fc.constant<string[]>([]), key: fc.constant('method'), a: fc.constantFrom('tools/call', 'tools/list', 'ping', 'resources/read'), b: fc.constantFrom('tools/call', 'tools/list', 'ping', 'resources/read') }),
    fc.record({ path: fc.constant<string[]>(['params']), key: fc.constant('name'), a: fc.oneof(dangerousTool, readTool), b: fc.oneof(dangerousTool, readTool) }),
    fc.record({ path: fc.constant<string[]>(['params', 'arguments']), key: fc.constantFrom('filter', 'project', 'confirm'), a: fc.jsonValue({ maxDepth: 2 }), b: fc.jsonValue({ maxDepth: 2 }) }),
    fc.record({ path: fc.constant<string[]>(['params', 'arguments', 'filter']), key: fc.constantFrom('state', '__proto__', 'é', 'a\u0000b'), a: fc.jsonValue({ maxDepth: 1 }), b: fc.jsonValue({ maxDepth: 1 }) }),
  );
  await fc.assert(
    fc.asyncProperty(fc.oneof(dangerousTool, readTool), slot, ws, async (tool, s, space) => {
      const base = message(tool);
      const text = withDuplicate(base, s.path, s.key, s.a, s.b, space);
      const headers: Array<[string, string]> = [['Content-Type', 'application/json']];
      const dup = await decide({ url: MCP, headers, body: text });
      const first = await decide({ url: MCP, headers, body: JSON.stringify(setAt(base, s.path, s.key, s.a)) });
      const last = await decide({ url: MCP, headers, body: JSON.stringify(setAt(base, s.path, s.key, s.b)) });
      const body = dup.description.request.body;
      if (!body.ambiguous || !body.ambiguous_reasons?.some((r) => r.code === 'json_duplicate_key')) throw new Error(`not marked ambiguous: ${text}`);
      if (dup.decision.action === 'allow') throw new Error(`allowed: ${text}`);
      const worst = Math.max(severity(first.decision), severity(last.decision), 3);
      if (severity(dup.decision) < worst) throw new Error(`${text}: ${dup.decision.rule} ${dup.decision.approval?.risk} below a reading (${first.decision.rule}/${last.decision.rule})`);
    }),
    { numRuns: runs, ...seed },
  );
  t.pass('checked');
});

t.test('keys equal but for letter case (Go and other case-insensitive parsers): ambiguous, at least as severe as the case-insensitive reading', async (t) => {
  // A spelling of a key that Go's encoding/json matches to the field: any letter case, ſ for s, K (Kelvin) for k.
  const spelling = (key: string): fc.Arbitrary<string> => fc.array(fc.nat(3), { minLength: key.length, maxLength: key.length }).map((r) => {
    const out = [...key].map((c, i) => (c === 's' && r[i] === 3 ? '\u017f' : c === 'k' && r[i] === 3 ? '\u212a' : r[i]! % 2 ? c.toUpperCase() : c)).join('');
    return out === key ? key.toUpperCase() : out;
  }).filter((k) => k !== key);
  // [where, key]: a JSON-RPC message whose field is given twice, the second time in another spelling.
  const slot = fc.oneof(
    fc.tuple(fc.constant<string[]>([]), fc.constant('method'), spelling('method')),
    fc.tuple(fc.constant<string[]>(['params']), fc.constant('name'), spelling('name')),
  );
  await fc.assert(
    fc.asyncProperty(fc.oneof(dangerousTool, readTool), fc.oneof(dangerousTool, readTool), slot, fc.boolean(), async (tool, other, [where, key, alias], aliasLast) => {
      const message = { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: tool, arguments: {} } } as Record<string, unknown>;
      const values: Record<string, string> = { method: 'tools/list', name: other };
      const inner = where.length ? (message.params as Record<string, unknown>) : message;
      const entries = Object.entries(inner).map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`);
      const aliasEntry = `"${alias}":${JSON.stringify(where.length ? values.name : values.method)}`;
      if (aliasLast) entries.push(aliasEntry);
      else entries.unshift(aliasEntry);
      const innerText = `{${entries.join(',')}}`;
      const text = where.length ? JSON.stringify({ ...message, params: '\u0000' }).replace('"\\u0000"', innerText) : innerText;
      // What Go reads: the last key (in text order) that folds to the field.
      const goValue = aliasLast ? (where.length ? values.name : values.method) : key === 'method' ? 'tools/call' : tool;
      const goBody = JSON.stringify(where.length ? { ...message, params: { name: goValue, arguments: {} } } : { ...message, method: goValue });
      const headers: Array<[string, string]> = [['Content-Type', 'application/json']];
      const mixed = await decide({ url: MCP, headers, body: text });
      const go = await decide({ url: MCP, headers, body: goBody });
      const plain = await decide({ url: MCP, headers, body: JSON.stringify(message) });
      if (!mixed.description.request.body.ambiguous) throw new Error(`not marked ambiguous: ${text}`);
      if (mixed.decision.action === 'allow') throw new Error(`allowed: ${text}`);
      const worst = Math.max(severity(go.decision), severity(plain.decision), 3);
      if (severity(mixed.decision) < worst) throw new Error(`${text}: ${mixed.decision.rule} ${mixed.decision.approval?.risk} below a reading`);
    }),
    { numRuns: runs, ...seed },
  );
  // SQL: `SQL` or `ſql` beside `sql` (a Go server runs the last).
  for (const alias of ['SQL', 'Sql', '\u017fql']) {
    const { decision, description } = await decide({ url: 'https://api.cloudflare.com/client/v4/accounts/a1/d1/database/db1/query', headers: [['Authorization', 'Bearer x'], ['Content-Type', 'application/json']], body: `{"sql": "SELECT 1", "${alias}": "DROP TABLE users"}` });
    t.ok(description.request.body.ambiguous && decision.approval?.risk === 'critical', `D1 ${alias}: the DROP is seen (${decision.rule} ${decision.approval?.risk})`);
  }
  // Twenty-ninth pass: `statement` and `stmt` (read to an SQL path) in another case, alone or beside
  // the field's own spelling, as ASP.NET Core's web defaults and Go's encoding/json bind them.
  for (const body of ['{"STATEMENT": "DROP TABLE users"}', '{"Statement": "DELETE FROM users"}', '{"\u017ftatement": "DROP TABLE users"}', '{"Stmt": "DROP TABLE users"}', '{"statement": "SELECT 1", "STATEMENT": "DROP TABLE users"}']) {
    const { decision, description } = await decide({ url: `https://${SQL_HOST}/v1/sql`, headers: [['Content-Type', 'application/json']], body });
    t.ok(description.sql?.destructive && decision.approval?.risk === 'critical', `twenty-ninth pass: ${body}: the statement is seen (${decision.rule} ${decision.approval?.risk})`);
  }
  // Controls: an IAM policy's `Statement` list is no SQL and no ambiguity.
  const policy = await decide({ url: `https://${SQL_HOST}/v1/policy`, headers: [['Content-Type', 'application/json']], body: '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}' });
  t.notOk(policy.description.request.body.ambiguous, 'control: an IAM policy\'s Statement list is not ambiguous');
  // Control: capitalized keys inside a read tool's arguments are data, not fields Airlock reads by.
  const read = await decide({ url: MCP, headers: [['Content-Type', 'application/json']], body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: READ_ONLY_TOOLS[0], arguments: { Query: 'x', Name: 'y', Method: 'z' } } }) });
  t.equal(read.decision.action, 'allow', 'a read tool call with capitalized argument names is still allowed');
});

t.test('a Content-Type that contradicts a JSON body: the JSON is read, the body is ambiguous', async (t) => {
  const contradicting = fc.constantFrom('text/plain', 'application/x-www-form-urlencoded', 'application/octet-stream', 'multipart/form-data; boundary=x', 'text/html', 'application/xml', 'image/png', 'application/x-www-form-urlencoded; charset=utf-8');
  await fc.assert(
    fc.asyncProperty(dangerousTool, contradicting, ws, async (tool, type, space) => {
      const { description, decision } = await decide({ url: MCP, headers: [['Content-Type', type]], body: `${space}${rpc(tool, '1', space)}` });
      if (!description.request.body.ambiguous_reasons?.some((r) => r.code === 'content_type_mismatch')) throw new Error(`not ambiguous as ${type}`);
      if (description.mcp?.tool !== tool && !description.mcp?.batch?.some((c) => c.tool === tool)) throw new Error(`tool call not read as ${type}`);
      if (severity(decision) < 3) throw new Error(`${type}: ${decision.action} ${decision.approval?.risk}`);
    }),
    { numRuns: Math.ceil(runs / 2), ...seed },
  );
  // Two Content-Type headers that disagree.
  const two = await decide({ url: MCP, headers: [['Content-Type', 'application/json'], ['Content-Type', 'text/plain']], body: rpc('get_issue', '1', '') });
  t.match(two.description.request.body.ambiguous_reasons, [{ code: 'content_type_conflict' }]);
  // One Content-Type that servers read two ways (held-out pass 8): a repeated charset (Node's
  // content-type and Python take the last, PHP the first), a `;` inside a quoted parameter, a type
  // PHP cuts at `,` or a blank, two headers that differ only in charset. Never allowed as one reading.
  const spelled = fc.constantFrom<Array<[string, string]>>(
    [['Content-Type', 'application/json; charset=utf-8; charset=utf-7']],
    [['Content-Type', 'application/json; charset=utf-7; charset=utf-8']],
    [['Content-Type', 'application/json; x="a;charset=utf-8"; charset=utf-16le']],
    [['Content-Type', 'application/json, text/plain']],
    [['Content-Type', 'application/json text/plain']],
    [['Content-Type', 'application/json; charset=utf-8'], ['Content-Type', 'application/json; charset=latin1']],
  );
  await fc.assert(
    fc.asyncProperty(readTool, spelled, async (tool, headers) => {
      const { description, decision } = await decide({ url: MCP, headers, body: rpc(tool, '1', '') });
      if (!description.request.body.ambiguous_reasons?.some((r) => r.code === 'content_type_conflict' || r.code === 'charset_conflict')) throw new Error(`not ambiguous: ${JSON.stringify(headers)}`);
      if (decision.action === 'allow') throw new Error(`allowed as one reading: ${JSON.stringify(headers)}`);
    }),
    { numRuns: 12, ...seed },
  );
  // `charset=utf-16` (or utf-32) with no byte order mark: big-endian by RFC 2781, little-endian in Python and .NET.
  for (const [label, bytes] of [['utf-16', Buffer.from('to: drop@attacker.example', 'utf16le')], ['utf-16', Buffer.from('to: drop@attacker.example', 'utf16le').swap16()], ['UCS-2', Buffer.from('hi', 'utf16le')], ['utf-32', Buffer.from([0x68, 0, 0, 0])]] as const) {
    const { description } = await decide({ url: MCP, headers: [['Content-Type', `text/plain; charset=${label}`]], body: bytes });
    t.match(description.request.body.ambiguous_reasons, [{ code: 'charset_conflict' }], `text/plain; charset=${label} without a byte order mark is read two ways`);
  }
  const marked = await decide({ url: MCP, headers: [['Content-Type', 'text/plain; charset=utf-16']], body: Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('hi', 'utf16le')]) });
  t.notOk(marked.description.request.body.ambiguous, 'with a byte order mark it is one reading');
  for (const single of ['application/json', 'application/json; charset=utf-8', 'application/json; charset="UTF-8"', 'application/json;charset=utf-8;', 'Application/JSON ']) {
    const plain = await decide({ url: MCP, headers: [['Content-Type', single]], body: rpc(READ_ONLY_TOOLS[0]!, '1', '') });
    t.notOk(plain.description.request.body.ambiguous, `${single}: one reading, not ambiguous`);
  }
  t.equal(two.decision.rule, 'body.ambiguous');
  // Control: the same read-only call, spelled plainly, is allowed.
  t.equal((await decide({ url: MCP, headers: [['Content-Type', 'application/json']], body: rpc('get_issue', '1', '') })).decision.action, 'allow');
});

t.test('a body to the MCP server that cannot be read fully is held at critical risk', async (t) => {
  const unreadable = fc.oneof(
    fc.record({ kind: fc.constant('truncated'), cut: fc.nat() }),
    fc.record({ kind: fc.constant('charset'), label: fc.constantFrom('x-unknown', 'utf-7', 'ebcdic-cp-us', 'klingon') }),
    fc.record({ kind: fc.constant('coding'), coding: fc.constantFrom('compress', 'x-custom', 'zstd-ish', 'gzip') }),
    fc.record({ kind: fc.constant('utf16'), odd: fc.boolean() }),
  );
  await fc.assert(
    fc.asyncProperty(fc.oneof(dangerousTool, readTool), unreadable, async (tool, u) => {
      const text = rpc(tool, '1', '');
      const headers: Array<[string, string]> = [['Content-Type', 'application/json']];
      let body: Buffer = Buffer.from(text);
      let truncated = false;
      if (u.kind === 'truncated') {
        body = body.subarray(0, u.cut % body.length);
        truncated = true;
        headers.push(['Content-Length', String(text.length)]);
      } else if (u.kind === 'charset') headers[0] = ['Content-Type', `application/json; charset=${u.label}`];
      else if (u.kind === 'coding') headers.push(['Content-Encoding', u.coding]); // a plain body labelled as coded does not decode
      else {
        headers[0] = ['Content-Type', 'application/json; charset=utf-16le'];
        body = Buffer.concat([Buffer.from(text, 'utf16le'), u.odd ? Buffer.from([0x41]) : Buffer.from([0x00, 0xd8])]);
      }
      const { decision } = await decide({ url: MCP, headers, body, truncated });
      if (decision.action !== 'approve' || decision.approval?.risk !== 'critical') throw new Error(`${JSON.stringify(u)}: ${decision.action} ${decision.rule} ${decision.approval?.risk ?? ''}`);
    }),
    { numRuns: Math.ceil(runs / 2), ...seed },
  );
  t.pass('checked');
});

t.test('a body stacked in more content codings than are decoded is not inflated layer by layer: held at critical risk', async (t) => {
  // Eighth pass: every layer was inflated whole on the event loop, and stored-block gzip layers cost
  // nothing in size: 2,800 layers around 600 KB (970 KB, 14 KB of Content-Encoding) held it 5 s per
  // read of the body, for every agent. Past MAX_CONTENT_CODINGS the body is not decoded.
  const coding = fc.constantFrom('gzip', 'x-gzip', 'deflate', 'br');
  const apply = (body: Buffer, c: string): Buffer => (c === 'br' ? zlib.brotliCompressSync(body) : c === 'deflate' ? zlib.deflateSync(body, { level: 0 }) : zlib.gzipSync(body, { level: 0 }));
  await fc.assert(
    fc.asyncProperty(fc.oneof(dangerousTool, readTool), fc.array(coding, { minLength: 1, maxLength: 12 }), fc.nat(3), async (tool, codings, identities) => {
      let body: Buffer = Buffer.from(rpc(tool, '1', ''));
      for (const c of codings) body = apply(body, c); // listed in the order applied
      // identity layers cost nothing and are not counted
      const header = [...codings, ...Array<string>(identities).fill('identity')].join(', ');
      const { description, decision } = await decide({ url: MCP, headers: [['Content-Type', 'application/json'], ['Content-Encoding', header]], body });
      if (codings.length > MAX_CONTENT_CODINGS) {
        if (!/stacked content codings/.test(description.request.body.decode_error ?? '')) throw new Error(`${header}: decoded (${JSON.stringify(description.request.body).slice(0, 200)})`);
        if (decision.approval?.risk !== 'critical') throw new Error(`${header}: ${decision.action} ${decision.rule}`);
      } else {
        const mcp = description.mcp?.batch?.find((c) => c.method === 'tools/call') ?? description.mcp;
        if (mcp?.tool !== tool) throw new Error(`${header}: the tool call is not read (${description.request.body.decode_error ?? ''})`);
      }
    }),
    { numRuns: Math.ceil(runs / 2), ...seed },
  );
  t.pass('checked');
});

// ─── git receive-pack ──────────────────────────────────────────────────────────────────────────

const hex40 = fc.string({ unit: fc.constantFrom(...'0123456789abcdef'.split('')), minLength: 40, maxLength: 40 }).filter((h) => !/^0+$/.test(h));
const refName = fc.string({ unit: fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz0123456789-_/'.split('')), minLength: 1, maxLength: 30 }).map((s) => `refs/heads/${s.replace(/^\/+|\/+$/g, '') || 'x'}`);
const randomCase = (s: string, mask: number): string => [...s].map((c, i) => ((mask >> (i % 30)) & 1 ? c.toUpperCase() : c)).join('');

function pktLine(payload: string, upper: boolean): string {
  const len = (Buffer.byteLength(payload, 'latin1') + 4).toString(16).padStart(4, '0');
  return (upper ? len.toUpperCase() : len) + payload;
}

t.test('git: every pkt-line spelling receive-pack accepts shows a branch deletion', async (t) => {
  const push = fc.record({
    commands: fc.array(fc.record({ from: hex40, to: hex40, ref: refName }), { minLength: 0, maxLength: 4 }),
    deleteAt: fc.nat(),
    deleted: refName,
    deletedFrom: hex40,
    shallow: fc.array(hex40, { maxLength: 3 }),
    upper: fc.boolean(),
    idCase: fc.integer({ min: 0, max: 2 ** 30 }),
    cert: fc.boolean(),
    sha256: fc.boolean(),
  });
  await fc.assert(
    fc.asyncProperty(push, async (p) => {
      const zero = '0'.repeat(p.sha256 ? 64 : 40);
      const widen = (h: string): string => (p.sha256 ? (h + h).slice(0, 64) : h);
      const cmds = p.commands.map((c) => `${randomCase(widen(c.from), p.idCase)} ${randomCase(widen(c.to), p.idCase)} ${c.ref}`);
      cmds.splice(p.deleteAt % (cmds.length + 1), 0, `${randomCase(widen(p.deletedFrom), p.idCase)} ${zero} ${p.deleted}`);
      let text = p.shallow.map((s) => pktLine(`shallow ${widen(s)}\n`, p.upper)).join('');
      if (p.cert) {
        text += pktLine('push-cert\0 report-status push-cert\n', p.upper) + pktLine('certificate version 0.1\n', p.upper) + pktLine('pusher A <a@example.com> 1700000000 +0000\n', p.upper) +
          pktLine('pushee https://github.com/acme/widgets.git\n', p.upper) + pktLine('nonce 1700000000-x\n', p.upper) + pktLine('\n', p.upper) +
          cmds.map((c) => pktLine(`${c}\n`, p.upper)).join('') + pktLine('-----BEGIN PGP SIGNATURE-----\n', p.upper) + pktLine('-----END PGP SIGNATURE-----\n', p.upper) + pktLine('push-cert-end\n', p.upper);
      } else {
        text += cmds.map((c, i) => pktLine(i === 0 ? `${c}\0 report-status side-band-64k\n` : `${c}\n`, p.upper)).join('');
      }
      text += '0000PACK\u0000\u0000\u0000\u0002\u0000\u0000\u0000\u0000';
      const { description, decision } = await decide({
        url: 'https://github.com/acme/widgets.git/git-receive-pack',
        headers: [['Content-Type', 'application/x-git-receive-pack-request']],
        body: Buffer.from(text, 'latin1'),
      });
      const service = description.service!;
      if (service.effect !== 'delete') throw new Error(`push with a deletion described as ${service.effect}: ${JSON.stringify(service.params)}`);
      if (!(service.params.deletes as string[] | undefined)?.includes(p.deleted)) throw new Error(`deletion of ${p.deleted} not listed: ${JSON.stringify(service.params)}`);
      if (decision.approval?.risk !== 'critical') throw new Error(`decided ${decision.action} ${decision.approval?.risk}`);
    }),
    { numRuns: runs, ...seed },
  );
  t.pass('checked');
});

t.test('git: a push without deletions, in any spelling, stays a write', async (t) => {
  await fc.assert(
    fc.asyncProperty(fc.array(fc.record({ from: hex40, to: hex40, ref: refName }), { minLength: 1, maxLength: 4 }), fc.array(hex40, { maxLength: 2 }), fc.boolean(), async (commands, shallow, upper) => {
      const text = shallow.map((s) => pktLine(`shallow ${s}\n`, upper)).join('') +
        commands.map((c, i) => pktLine(`${c.from} ${c.to} ${c.ref}${i === 0 ? '\0 report-status' : ''}\n`, upper)).join('') + '0000PACK';
      const { description } = await decide({ url: 'https://github.com/acme/widgets.git/git-receive-pack', headers: [['Content-Type', 'application/x-git-receive-pack-request']], body: Buffer.from(text, 'latin1') });
      if (description.service?.effect !== 'write') throw new Error(`${description.service?.effect} ${JSON.stringify(description.service?.params)}`);
    }),
    { numRuns: Math.ceil(runs / 2), ...seed },
  );
  t.pass('checked');
});

// ─── SQL RPC endpoints ─────────────────────────────────────────────────────────────────────────

t.test('form-encoded and otherwise spelled SQL to SQL endpoints is read as SQL', async (t) => {
  const endpoints = fc.constantFrom(
    { url: 'https://abcdefghijklmnopqrst.supabase.co/rest/v1/rpc/exec_sql', key: 'query' },
    { url: 'https://abcdefghijklmnopqrst.supabase.co/rest/v1/rpc/run_statement', key: 'statement' },
    // (Twelfth pass) An RPC argument under a name of its author's, sent multipart: only fields named
    // `sql`/`query`/`statement`/`q` were read from a multipart body, so this was a plain write.
    { url: 'https://abcdefghijklmnopqrst.supabase.co/rest/v1/rpc/exec', key: 'sql_text' },
    { url: 'https://abcdefghijklmnopqrst.supabase.co/pg/query', key: 'query' },
    { url: 'https://ep-cool-darkness-123456.us-east-2.aws.neon.tech/sql', key: 'query' },
    { url: 'https://api.cloudflare.com/client/v4/accounts/a1/d1/database/d1/query', key: 'sql' },
    { url: `https://${SQL_HOST}/v1/sql`, key: 'sql' },
  );
  const destructive = fc.constantFrom('DROP TABLE users', 'DELETE FROM users', 'TRUNCATE users', 'UPDATE users SET admin = true');
  const form = fc.constantFrom('form', 'form-charset', 'json-as-form', 'json-as-text', 'json-dup', 'multipart');
  await fc.assert(
    fc.asyncProperty(endpoints, destructive, form, async (e, sql, how) => {
      let type = 'application/x-www-form-urlencoded';
      let body = new URLSearchParams({ [e.key]: sql }).toString();
      if (how === 'form-charset') type += '; charset=utf-8';
      if (how === 'multipart') {
        type = 'multipart/form-data; boundary=XB';
        body = `--XB\r\nContent-Disposition: form-data; name="${e.key}"\r\n\r\n${sql}\r\n--XB--\r\n`;
      }
      if (how === 'json-as-form') body = JSON.stringify({ [e.key]: sql });
      if (how === 'json-as-text') {
        type = 'text/plain';
        body = JSON.stringify({ [e.key]: sql });
      }
      if (how === 'json-dup') {
        type = 'application/json';
        body = `{${JSON.stringify(e.key)}:${JSON.stringify(sql)},${JSON.stringify(e.key)}:"SELECT 1"}`;
      }
      const { description, decision } = await decide({ url: e.url, headers: [['Content-Type', type]], body });
      if (!description.sql?.destructive) throw new Error(`${e.url} ${how}: SQL not seen (${JSON.stringify(description.sql)})`);
      if (decision.approval?.risk !== 'critical') throw new Error(`${e.url} ${how}: ${decision.action} ${decision.rule} ${decision.approval?.risk ?? ''}`);
    }),
    // (Seventeenth pass) JSON sent as a form whose statement holds `=`: the form's field, cut there, hid the JSON's SQL.
    { numRuns: Math.ceil(runs / 2), ...seed, examples: [[{ url: 'https://abcdefghijklmnopqrst.supabase.co/rest/v1/rpc/exec', key: 'sql_text' }, 'DROP TABLE users', 'multipart'], [{ url: `https://${SQL_HOST}/v1/sql`, key: 'sql' }, 'UPDATE users SET admin = true', 'json-as-form']] },
  );
  t.pass('checked');
});

t.test('JSON only lenient parsers read (NaN, Infinity, comments, trailing commas, quotes): the lenient reading is judged, never allowed', async (t) => {
  const endpoints = fc.constantFrom(
    { url: 'https://ep-cool-darkness-123456.us-east-2.aws.neon.tech/sql', key: 'query' },
    { url: 'https://api.cloudflare.com/client/v4/accounts/a1/d1/database/d1/query', key: 'sql' },
    { url: `https://${SQL_HOST}/v1/sql`, key: 'sql' },
  );
  const destructive = fc.constantFrom('DROP TABLE users', 'DELETE FROM users', 'TRUNCATE users');
  // What each lenient reader takes: Python's json and pydantic (NaN, Infinity), Json.NET (all of
  // them), JSON5/JSONC readers (comments, trailing commas, quotes, unquoted keys).
  // (Twenty-eighth pass: Gson's fromJson, lenient as its JsonReader documents: `=`, `=>`, `;`, `#`
  // comments, unquoted values, an element left out, its XSSI prefix.)
  const oddity = fc.constantFrom('nan', 'infinity', '-infinity', 'line-comment', 'block-comment', 'trailing-comma', 'single-quotes', 'unquoted-key', 'gson-equals', 'gson-arrow', 'gson-semicolon', 'gson-hash-comment', 'gson-unquoted-value', 'gson-xssi');
  const build = (key: string, sql: string, odd: string): string => {
    const k = JSON.stringify(key);
    const v = JSON.stringify(sql);
    switch (odd) {
      case 'nan': return `{${k}: ${v}, "params": [NaN]}`;
      case 'infinity': return `{"limit": Infinity, ${k}: ${v}}`;
      case '-infinity': return `{${k}: ${v}, "after": -Infinity}`;
      case 'line-comment': return `{\n  // the query\n  ${k}: ${v}\n}`;
      case 'block-comment': return `{/* q */ ${k}: ${v}}`;
      case 'trailing-comma': return `{${k}: ${v},}`;
      case 'single-quotes': return `{'${key}': '${sql}'}`;
      case 'gson-equals': return `{${k} = ${v}}`;
      case 'gson-arrow': return `{"n" => 1, ${k} => ${v}}`;
      case 'gson-semicolon': return `{"n": 1; ${k}: ${v}}`;
      case 'gson-hash-comment': return `{\n  # the query\n  ${k}: ${v}\n}`;
      case 'gson-unquoted-value': return `{"mode": append, ${k}: ${v}, "params": [1,,2]}`;
      case 'gson-xssi': return `)]}'\n{${k}: ${v}}`;
      default: return `{${key}: ${v}}`;
    }
  };
  await fc.assert(
    fc.asyncProperty(endpoints, destructive, oddity, fc.constantFrom('application/json', 'text/plain', ''), async (e, sql, odd, type) => {
      const body = build(e.key, sql, odd);
      const { description, decision } = await decide({ url: e.url, headers: type ? [['Content-Type', type]] : [], body });
      if (!description.request.body.ambiguous_reasons?.some((r) => r.code === 'json_lenient')) throw new Error(`${odd}: not marked ambiguous (${body})`);
      if (!description.sql?.destructive) throw new Error(`${e.url} ${odd}: SQL not seen (${JSON.stringify(description.sql)})`);
      if (decision.approval?.risk !== 'critical') throw new Error(`${e.url} ${odd}: ${decision.action} ${decision.rule} ${decision.approval?.risk ?? ''}`);
    }),
    { numRuns: Math.ceil(runs / 2), ...seed },
  );
  // The server's reading, by a real lenient parser: Python's json takes NaN and Infinity and runs the statement.
  const read = await new Promise<string>((resolve, reject) =>
    execFile('python3', ['-c', 'import json,sys; print(json.loads(sys.argv[1])["sql"])', '{"sql": "DROP TABLE users", "n": NaN}'], (err, out) => (err ? reject(err) : resolve(out.trim()))),
  );
  t.equal(read, 'DROP TABLE users', "Python's json reads the statement beside NaN");
  // Controls: strict JSON is not ambiguous; a GraphQL document (it starts with a brace) is no JSON to anyone.
  const strict = await decide({ url: `https://${SQL_HOST}/v1/sql`, headers: [['Content-Type', 'application/json']], body: '{"sql": "SELECT 1"}' });
  t.notOk(strict.description.request.body.ambiguous, 'strict JSON is one reading');
  const doc = await decide({ url: `https://${SQL_HOST}/v1/sql`, headers: [['Content-Type', 'text/plain']], body: '{ viewer { login } }' });
  t.notOk(doc.description.request.body.ambiguous, 'a GraphQL document is not lenient JSON');
});

// Ninth pass: a parameter name PHP or Rack 2 reads as `sql` (leading blanks, a NUL, brackets);
// eleventh pass: in another letter case (ASP.NET's query and form collections ignore case).
t.test('SQL under a parameter name PHP, Rack 2 or ASP.NET reads as `sql` (query or form) is judged, never allowed', async (t) => {
  const spell = fc.constantFrom('%20sql', '++sql', 'sql%00x', '%5Bsql%5D', 'sql%5D', '%5D%5Bsql', 'sql%5B%5D', 'SQL', 'Sql', 'sQL', '%20SQL');
  await fc.assert(
    // (Eleventh pass) also after a `;`, which Rack 2, Python before 3.9.2 and Go before 1.17 split on.
    fc.asyncProperty(spell, fc.constantFrom('DROP TABLE users', 'DELETE FROM users'), fc.constantFrom('get', 'get-semi', 'form', 'form-after', 'form-semi'), async (name, sql, where) => {
      const value = encodeURIComponent(sql);
      const r = where.startsWith('get')
        ? { method: 'GET', url: `https://${SQL_HOST}/v1/run?${where === 'get' ? '' : 'sql=SELECT%201&x=1;'}${name}=${value}`, headers: [] as Array<[string, string]>, body: '' }
        : { url: `https://${SQL_HOST}/v1/run`, headers: [['Content-Type', 'application/x-www-form-urlencoded']] as Array<[string, string]>, body: where === 'form' ? `${name}=${value}` : `sql=SELECT%201&${where === 'form-semi' ? 'x=1;' : ''}${name}=${value}` };
      const { description, decision } = await decide(r);
      if (!description.sql?.destructive) throw new Error(`${where} ${name}: SQL not seen (${JSON.stringify(description.sql)})`);
      if (decision.approval?.risk !== 'critical') throw new Error(`${where} ${name}: ${decision.action} ${decision.rule} ${decision.approval?.risk ?? ''}`);
    }),
    { numRuns: 16, ...seed },
  );
  t.pass('checked');
});

// Twenty-ninth pass: where a server binds a handler's parameter from. Rails' `params` merges the
// query over the body, Spring's `@RequestParam` and Flask's `request.values` take the query's value
// first, PHP's `$_REQUEST` (no php.ini: `EGPCS`) and classic ASP.NET's `Request[…]` read cookies.
// The URL was read only when the body held no SQL, and cookies never: a DROP rode beside a SELECT.
t.test('property (twenty-ninth pass): SQL in the query beside a body, in a cookie or a matrix parameter, is judged as the SQL the server binds, never allowed', async (t) => {
  // Werkzeug (Flask's `request.values`) as the oracle: the query's value is the one it binds.
  const oracle = await new Promise<string>((resolve, reject) =>
    execFile('python3', ['-c', [
      'from werkzeug.test import EnvironBuilder',
      'from werkzeug.wrappers import Request',
      "e = EnvironBuilder(method='POST', path='/v1/run', query_string='sql=DROP%20TABLE%20users', data='sql=SELECT+1', content_type='application/x-www-form-urlencoded').get_environ()",
      "print(Request(e).values.get('sql'))",
    ].join('\n')], (err, out) => (err ? reject(err) : resolve(out.trim()))),
  );
  t.equal(oracle, 'DROP TABLE users', 'Werkzeug binds the query\'s sql over the form\'s');
  const name = fc.constantFrom('sql', 'SQL', 'sql_query', 'rawSql', '%20sql', 'sql%5B%5D');
  const statement = fc.constantFrom('DROP TABLE users', 'DELETE FROM users', 'UPDATE users SET admin = true');
  const where = fc.constantFrom('query+json', 'query+form', 'query+text', 'cookie-get', 'cookie+query-get', 'cookie+form', 'matrix-get', 'matrix+json');
  const cookieValue = fc.constantFrom('percent', 'plus', 'raw');
  await fc.assert(
    fc.asyncProperty(name, statement, where, cookieValue, async (n, sql, w, cv) => {
      const q = encodeURIComponent(sql);
      const cookie = `theme=dark; ${n}=${cv === 'percent' ? q : cv === 'plus' ? sql.replaceAll(' ', '+').replaceAll('=', '%3D') : sql.replaceAll('=', '%3D')}; session=abc123`;
      const r = w === 'query+json' ? { url: `https://${SQL_HOST}/v1/run?${n}=${q}`, headers: [['Content-Type', 'application/json']] as Array<[string, string]>, body: '{"sql": "SELECT 1"}' }
        : w === 'query+form' ? { url: `https://${SQL_HOST}/v1/run?${n}=${q}`, headers: [['Content-Type', 'application/x-www-form-urlencoded']] as Array<[string, string]>, body: 'sql=SELECT+1' }
        : w === 'query+text' ? { url: `https://${SQL_HOST}/v1/sql?${n}=${q}`, headers: [['Content-Type', 'text/plain']] as Array<[string, string]>, body: 'SELECT 1' }
        : w === 'cookie-get' ? { method: 'GET', url: `https://${SQL_HOST}/v1/run`, headers: [['Cookie', cookie]] as Array<[string, string]>, body: '' }
        : w === 'cookie+query-get' ? { method: 'GET', url: `https://${SQL_HOST}/v1/run?sql=SELECT%201`, headers: [['Cookie', cookie]] as Array<[string, string]>, body: '' }
        // (A path segment's matrix parameter, as JAX-RS's `@MatrixParam` and Spring's `@MatrixVariable` bind it.)
        : w === 'matrix-get' ? { method: 'GET', url: `https://${SQL_HOST}/v1/run;jsessionid=x;${n}=${q}?sql=SELECT%201`, headers: [] as Array<[string, string]>, body: '' }
        : w === 'matrix+json' ? { url: `https://${SQL_HOST}/v1;${n}=${q}/run`, headers: [['Content-Type', 'application/json']] as Array<[string, string]>, body: '{"sql": "SELECT 1"}' }
        : { url: `https://${SQL_HOST}/v1/run`, headers: [['Content-Type', 'application/x-www-form-urlencoded'], ['Cookie', cookie]] as Array<[string, string]>, body: 'sql=SELECT+1' };
      const { description, decision } = await decide(r);
      if (!description.sql?.destructive) throw new Error(`${w} ${n}: the statement is not seen (${JSON.stringify(description.sql)})`);
      if (decision.approval?.risk !== 'critical') throw new Error(`${w} ${n}: ${decision.action} ${decision.rule} ${decision.approval?.risk ?? ''}`);
    }),
    { numRuns: 30, ...seed, examples: [['sql', 'DROP TABLE users', 'query+form', 'percent'], ['sql', 'DROP TABLE users', 'cookie-get', 'plus'], ['sql', 'DROP TABLE users', 'matrix-get', 'percent']] },
  );
  // Controls: cookies and URL parameters that hold no statement change nothing.
  const session = await decide({ method: 'GET', url: `https://${SQL_HOST}/v1/run?sql=SELECT%201`, headers: [['Cookie', 'session=abc123; theme=dark; _ga=GA1.2.3; sql=red+shoes']], body: '' });
  t.equal(session.decision.action, 'allow', 'control: a read beside ordinary cookies is allowed');
  const phrase = await decide({ url: `https://${SQL_HOST}/v1/run?sql=red%20shoes&page=2`, headers: [['Content-Type', 'application/json']], body: '{"sql": "SELECT 1"}' });
  t.not(phrase.decision.approval?.risk, 'critical', 'control: a phrase in the URL beside the body\'s read adds nothing');
  t.notOk(phrase.description.sql?.destructive, 'control: no destructive SQL');
  const jsession = await decide({ method: 'GET', url: `https://${SQL_HOST}/v1/run;jsessionid=abc123?sql=SELECT%201`, headers: [], body: '' });
  t.equal(jsession.decision.action, 'allow', 'control: a session id in the path changes nothing');
});

// Twenty-ninth pass: a body declared as YAML is bound as JSON is by the servers that take YAML
// (Jackson's and Spring's YAML converters, PyYAML or Go's yaml behind a handler, Elasticsearch):
// Airlock kept it as text, so its SQL, override or tool call went unread. PyYAML is the oracle.
t.test('property (twenty-ninth pass): SQL, a method override or a tool call in a YAML body is read as the server binds it', async (t) => {
  const drop = 'DROP TABLE users';
  // Spellings of `sql: DROP TABLE users` (a key and its value) that YAML parsers read alike.
  const spellings: Record<string, (k: string, v: string) => string> = {
    plain: (k, v) => `${k}: ${v}\n`,
    double: (k, v) => `"${k}": "\\x${v.charCodeAt(0).toString(16)}${v.slice(1)}"\n`,
    single: (k, v) => `'${k}': '${v}'\n`,
    literal: (k, v) => `${k}: |-\n  ${v}\n`,
    folded: (k, v) => `${k}: >-\n  ${v.split(' ').join('\n  ')}\n`,
    flow: (k, v) => `{${k}: ${v}, note: x}\n`,
    anchor: (k, v) => `x: &v ${v}\n${k}: *v\n`,
    merge: (k, v) => `base: &b {${k}: ${v}}\n<<: *b\nnote: x\n`,
    'second document': (k, v) => `note: x\n---\n${k}: ${v}\n`,
    'key given twice': (k, v) => `${k}: SELECT 1\n${k}: ${v}\n`,
  };
  const oracle = await new Promise<string>((resolve, reject) =>
    execFile('python3', ['-c', 'import json,sys,yaml; print(json.dumps([[d.get("sql") for d in yaml.safe_load_all(x) if d] for x in json.loads(sys.argv[1])]))', JSON.stringify(Object.values(spellings).map((f) => f('sql', drop)))], (err, out) => (err ? reject(err) : resolve(out.trim()))),
  );
  for (const [i, docs] of (JSON.parse(oracle) as Array<Array<string | null>>).entries()) t.ok(docs.includes(drop), `PyYAML reads the DROP in the ${Object.keys(spellings)[i]} spelling`);
  const types = ['application/yaml', 'application/x-yaml', 'text/yaml', 'text/x-yaml', 'application/vnd.oai.openapi+yaml'];
  await fc.assert(
    fc.asyncProperty(fc.constantFrom(...Object.keys(spellings)), fc.constantFrom(...types), fc.constantFrom('sql', 'override'), async (spelling, type, what) => {
      const spell = spellings[spelling]!;
      const r = what === 'sql' ? { url: `https://${SQL_HOST}/v1/run`, body: spell('sql', drop) } : { url: 'https://api.github.com/repos/acme/widgets', body: spell('_method', 'DELETE') };
      const { description, decision } = await decide({ ...r, headers: [['Content-Type', type]] });
      if (what === 'sql' && !description.sql?.destructive) throw new Error(`${spelling} ${type}: the DROP is not seen (${JSON.stringify(description.sql)})`);
      if (decision.approval?.risk !== 'critical') throw new Error(`${what} ${spelling} ${type}: ${decision.action} ${decision.rule} ${decision.approval?.risk ?? ''}`);
    }),
    { numRuns: 30, ...seed, examples: [['plain', 'application/yaml', 'sql'], ['merge', 'application/x-yaml', 'override']] },
  );
  // Controls: a YAML read stays a read's write, a configuration is an ordinary write, and the tool
  // call an MCP server would bind from YAML is judged as that call.
  const select = await decide({ url: `https://${SQL_HOST}/v1/run`, headers: [['Content-Type', 'application/yaml']], body: 'sql: SELECT 1\n' });
  t.notOk(select.description.sql?.destructive, 'control: a YAML SELECT is no destructive SQL');
  t.not(select.decision.approval?.risk, 'critical', 'control: a YAML SELECT is not critical');
  const config = await decide({ url: `https://${SQL_HOST}/v1/config`, headers: [['Content-Type', 'application/yaml']], body: 'name: web\nreplicas: 3\nenabled: yes\n' });
  t.equal(config.decision.approval?.risk, 'medium', 'control: a YAML configuration is an ordinary write');
  const tool = await decide({ url: MCP, headers: [['Content-Type', 'application/yaml']], body: 'jsonrpc: "2.0"\nid: 1\nmethod: tools/call\nparams:\n  name: delete_project\n  arguments: {}\n' });
  t.equal(tool.description.mcp?.tool, 'delete_project', 'the YAML tool call is read');
  t.ok(severity(tool.decision) >= 3, `and held (${tool.decision.rule})`);
});

// Twenty-ninth pass: an XML body bound to the handler's object (Jackson's XML module under Spring,
// ASP.NET Core's XML formatters, JAXB) is the JSON of its root's children: `<Request><sql>…</sql>`
// is `{"sql": …}`. Airlock kept it as text. ElementTree is the oracle for each spelling's text.
t.test('property (twenty-ninth pass): SQL or a method override in an XML body bound as JSON is read as the server binds it', async (t) => {
  const drop = 'DROP TABLE users';
  const spellings: Record<string, (k: string, v: string) => string> = {
    element: (k, v) => `<Request><${k}>${v}</${k}></Request>`,
    attribute: (k, v) => `<Request ${k}="${v}"/>`,
    prefixed: (k, v) => `<r:Request xmlns:r="urn:r"><r:${k}>${v}</r:${k}></r:Request>`,
    cdata: (k, v) => `<Request><note>x</note><${k}><![CDATA[${v}]]></${k}></Request>`,
    'character references': (k, v) => `<Request><${k}>&#x${v.charCodeAt(0).toString(16)};${v.slice(1)}</${k}></Request>`,
    'declaration and wrapper': (k, v) => `<?xml version="1.0" encoding="UTF-8"?>\n<Request>\n  <${k}>${v}</${k}>\n  <limit>10</limit>\n</Request>`,
    // (.NET's XmlSerializer names an element by its property: `<Sql>` binds `Sql`.)
    'PascalCase': (k, v) => `<ExecuteRequest><${k === 'sql' ? 'Sql' : k}>${v}</${k === 'sql' ? 'Sql' : k}></ExecuteRequest>`,
  };
  const oracle = await new Promise<string>((resolve, reject) =>
    execFile('python3', ['-c', 'import json,sys; import xml.etree.ElementTree as E\nout=[]\nfor x in json.loads(sys.argv[1]):\n  r=E.fromstring(x); out.append([(e.text or "").strip() for e in r.iter() if e.tag.split("}")[-1].lower()=="sql"] + [v for k,v in r.attrib.items() if k=="sql"])\nprint(json.dumps(out))', JSON.stringify(Object.values(spellings).map((f) => f('sql', drop)))], (err, out) => (err ? reject(err) : resolve(out.trim()))),
  );
  for (const [i, texts] of (JSON.parse(oracle) as string[][]).entries()) t.ok(texts.includes(drop), `ElementTree reads the DROP in the ${Object.keys(spellings)[i]} spelling`);
  await fc.assert(
    fc.asyncProperty(fc.constantFrom(...Object.keys(spellings)), fc.constantFrom('application/xml', 'text/xml', 'application/vnd.acme.request+xml'), fc.constantFrom('sql', 'override'), async (spelling, type, what) => {
      const spell = spellings[spelling]!;
      const r = what === 'sql' ? { url: `https://${SQL_HOST}/v1/run`, body: spell('sql', drop) } : { url: 'https://api.github.com/repos/acme/widgets', body: spell('_method', 'DELETE') };
      const { description, decision } = await decide({ ...r, headers: [['Content-Type', type]] });
      if (what === 'sql' && !description.sql?.destructive) throw new Error(`${spelling} ${type}: the DROP is not seen (${JSON.stringify(description.sql)})`);
      if (decision.approval?.risk !== 'critical') throw new Error(`${what} ${spelling} ${type}: ${decision.action} ${decision.rule} ${decision.approval?.risk ?? ''}`);
    }),
    { numRuns: 24, ...seed, examples: [['element', 'application/xml', 'sql'], ['PascalCase', 'text/xml', 'sql']] },
  );
  // .NET's XmlSerializer names an element by its property (`<Statement>` binds `Statement`), read as the field.
  for (const body of ['<ExecuteRequest><Statement>DROP TABLE users</Statement></ExecuteRequest>', '<Q><QUERY>DELETE FROM users</QUERY></Q>']) {
    const pascal = await decide({ url: `https://${SQL_HOST}/v1/sql`, headers: [['Content-Type', 'application/xml']], body });
    t.ok(pascal.description.sql?.destructive && pascal.decision.approval?.risk === 'critical', `${body}: the statement is seen (${pascal.decision.rule})`);
  }
  const select = await decide({ url: `https://${SQL_HOST}/v1/run`, headers: [['Content-Type', 'application/xml']], body: '<Request><sql>SELECT 1</sql></Request>' });
  t.not(select.decision.approval?.risk, 'critical', 'control: an XML SELECT is not critical');
  const doc = await decide({ url: `https://${SQL_HOST}/v1/notes`, headers: [['Content-Type', 'application/xml']], body: '<note><to>Tove</to><body>Drop the table by the window</body></note>' });
  t.equal(doc.decision.approval?.risk, 'medium', 'control: an XML document is an ordinary write');
});

// Ninth pass: places that carry SQL only sometimes, each read on its own (a decoy that is no SQL
// hid the statement beside it), and classic ASP.NET's `%uXXXX` escapes in the URL and a form.
t.test('SQL beside a decoy that is no SQL, or spelled with %u escapes, is judged, never allowed', async (t) => {
  for (const [method, path, type, body] of [
    ['GET', '/v1/run?sql=red%20shoes&sql=DROP%20TABLE%20users', '', ''],
    ['POST', '/api/v1/run', 'application/json', '{"query": "red shoes", "statement": "DROP TABLE users"}'],
    ['GET', '/v1/run?sql=DROP%u0020TABLE%u0020users', '', ''],
    ['GET', '/v1/run?%u0073ql=DROP%20TABLE%20users', '', ''],
  ] as const) {
    const { description, decision } = await decide({ method, url: `https://${SQL_HOST}${path}`, headers: type ? [['Content-Type', type]] : [], body });
    t.ok(description.sql?.destructive, `${method} ${path} ${body}: the DROP is seen`);
    t.equal(decision.approval?.risk, 'critical', `${method} ${path}: ${decision.rule}`);
  }
  const plain = await decide({ method: 'GET', url: `https://${SQL_HOST}/v1/run?sql=red%20shoes&sql=blue%u0020shoes`, headers: [], body: '' });
  t.equal(plain.decision.action, 'allow', 'control: search phrases are no SQL');
});

// Ninth pass: rqlite takes a JSON array of statements (or `[statement, …params]`) at `/db/execute`,
// `/db/query` and `/db/request`; SQL-looking paths take a plain text body.
t.test('SQL as a JSON array of statements (rqlite) or a plain text body to an SQL-looking path is read, never a plain write', async (t) => {
  for (const [path, type, body] of [
    ['/db/execute', 'application/json', '["DROP TABLE users"]'],
    ['/db/request', 'application/json', '["SELECT * FROM foo", "DROP TABLE users"]'],
    ['/db/execute?pretty&timings', 'application/json', '[["INSERT INTO foo(name) VALUES(?)", "fiona"], ["DROP TABLE users"]]'],
    ['/v1/sql', 'text/plain', 'DROP TABLE users'],
    ['/query', '', 'DROP TABLE users'],
  ] as const) {
    const { description, decision } = await decide({ url: `https://${SQL_HOST}${path}`, headers: type ? [['Content-Type', type]] : [], body });
    t.ok(description.sql?.destructive, `${path} ${type}: the DROP is seen`);
    t.equal(decision.approval?.risk, 'critical', `${path} ${type}: ${decision.rule}`);
  }
  // Controls: a list of words, and text that is no SQL, are not SQL.
  for (const [path, type, body] of [['/db/execute', 'application/json', '["red", "shoes"]'], ['/query', 'text/plain', 'red shoes please']] as const) {
    const { description } = await decide({ url: `https://${SQL_HOST}${path}`, headers: [['Content-Type', type]], body });
    t.notOk(description.sql, `${path}: ${body} is no SQL`);
  }
});

// Ninth pass: ASP.NET and servlets decode a form by its declared charset, EBCDIC (`ibm037`,
// `ibm500`) included, which Airlock has no decoder for: such SQL is unread, never a plain write.
t.test('SQL in a form or JSON body of a charset Airlock cannot decode (EBCDIC) is unread SQL, held critical', async (t) => {
  // Python's cp037 codec: the bytes a server that honours the charset reads as `sql=DROP TABLE users`.
  const ebcdic = await new Promise<Buffer>((resolve, reject) =>
    execFile('python3', ['-c', 'import sys; sys.stdout.buffer.write(sys.argv[1].encode("cp037"))', 'sql=DROP%20TABLE%20users'], { encoding: 'buffer' }, (err, out) => (err ? reject(err) : resolve(out))),
  );
  for (const [path, type] of [['/v1/sql', 'application/x-www-form-urlencoded; charset=ibm037'], ['/v1/run', 'application/x-www-form-urlencoded; charset=IBM500'], ['/v1/sql', 'application/json; charset=ibm037'], ['/api/items', 'application/json; charset=cp1047']] as const) {
    const { description, decision } = await decide({ url: `https://${SQL_HOST}${path}`, headers: [['Content-Type', type]], body: ebcdic });
    t.ok(description.request.body.decode_error, `${type}: not decoded`);
    t.equal(description.sql?.parsed, false, `${path} ${type}: its SQL is unread`);
    t.equal(decision.approval?.risk, 'critical', `${path} ${type}: ${decision.rule}`);
  }
  // Controls: the same form as UTF-8 is read; a body Airlock decodes is not failed closed.
  const plain = await decide({ url: `https://${SQL_HOST}/v1/run`, headers: [['Content-Type', 'application/x-www-form-urlencoded']], body: 'note=hello' });
  t.notOk(plain.description.sql, 'an ordinary form carries no SQL');
});

// Ninth pass: text after the first JSON value. Jackson by default (Spring), Go's json.Decoder and
// Gson read the first value and ignore the rest; a server reading a stream (NDJSON) runs them all.
t.test('text after the first JSON value: the first value (and each later one) is judged, never a plain write', async (t) => {
  const endpoints = fc.constantFrom(
    { url: 'https://ep-cool-darkness-123456.us-east-2.aws.neon.tech/sql', key: 'query' },
    { url: 'https://api.cloudflare.com/client/v4/accounts/a1/d1/database/d1/query', key: 'sql' },
    { url: `https://${SQL_HOST}/v1/sql`, key: 'sql' },
  );
  const destructive = fc.constantFrom('DROP TABLE users', 'DELETE FROM users', 'TRUNCATE users');
  const after = fc.constantFrom(' garbage', '\u0000', '}', ']', '{"x":1}', '\n{"sql":"SELECT 1"}\n', ' // done', ',');
  await fc.assert(
    fc.asyncProperty(endpoints, destructive, after, fc.boolean(), fc.constantFrom('application/json', 'text/plain', ''), async (e, sql, tail, first, type) => {
      // The statement in the first value, or in a later one (NDJSON) behind a harmless first.
      const dangerous = JSON.stringify({ [e.key]: sql });
      const body = first ? dangerous + tail : `${JSON.stringify({ [e.key]: 'SELECT 1' })}\n${dangerous}`;
      const { description, decision } = await decide({ url: e.url, headers: type ? [['Content-Type', type]] : [], body });
      if (!description.request.body.ambiguous) throw new Error(`${JSON.stringify(body)}: not marked ambiguous`);
      if (!description.sql?.destructive) throw new Error(`${e.url} ${JSON.stringify(body)}: SQL not seen (${JSON.stringify(description.sql)})`);
      if (decision.approval?.risk !== 'critical') throw new Error(`${e.url} ${JSON.stringify(body)}: ${decision.action} ${decision.rule} ${decision.approval?.risk ?? ''}`);
    }),
    { numRuns: Math.ceil(runs / 12), ...seed },
  );
  // A JSON-RPC stream: a harmless first call, then a dangerous one.
  for (const tool of ['delete_project', 'drop_database']) {
    const body = `{"jsonrpc":"2.0","id":1,"method":"tools/list"}\n${rpc(tool, '2', '')}`;
    const { description, decision } = await decide({ url: MCP, headers: [['Content-Type', 'application/json']], body });
    t.ok(description.mcp?.batch?.some((c) => c.tool === tool) ?? description.mcp?.tool === tool, `${tool} is read`);
    t.ok(severity(decision) >= 3, `${tool} after tools/list is held at least high (${decision.rule})`);
  }
  // The server's reading, by a real parser that reads the first value and stops (Python's raw_decode,
  // as json.Decoder and Jackson do): it runs the statement.
  const read = await new Promise<string>((resolve, reject) =>
    execFile('python3', ['-c', 'import json,sys; print(json.JSONDecoder().raw_decode(sys.argv[1])[0]["sql"])', '{"sql": "DROP TABLE users"} garbage'], (err, out) => (err ? reject(err) : resolve(out.trim()))),
  );
  t.equal(read, 'DROP TABLE users', 'a first-value reader runs the statement');
  // Control: a stream of values under a type that declares one (Elasticsearch's `_bulk`) is no ambiguity.
  const bulk = await decide({ url: `https://${SQL_HOST}/_bulk`, headers: [['Content-Type', 'application/x-ndjson']], body: '{"index":{"_index":"a"}}\n{"f":1}\n' });
  t.notOk(bulk.description.request.body.ambiguous, 'NDJSON declared as such is read as the stream it is');
});

// ─── live: through a running Airlock with real clients ─────────────────────────────────────────

// Stripe reads its parameters as Rack does: the URL's query and the body are one bucket whatever
// the method (stripe-mock #100), an untyped POST body is a form, multipart fields are form fields,
// Rack 2 reads `[balance]` as `balance` and splits the query on `;`. A parameter that moves money
// is the same parameter wherever it stands.
t.test('Stripe: a parameter that moves money counts wherever Rack reads it from', async (t) => {
  const S = 'https://api.stripe.com/v1';
  const money = fc.constantFrom(
    ['/customers/cus_1', 'balance', '-100000'], ['/customers', 'account_balance', '-5000'], ['/customers/cus_1', 'plan', 'gold'],
    ['/setup_intents', 'confirm', 'true'], ['/invoices', 'auto_advance', 'true'], ['/invoices/in_1', 'forgiven', 'true'],
    ['/subscriptions/sub_1', 'items[0][price]', 'price_1'], ['/issuing/cards/ic_1', 'spending_controls[spending_limits][0][amount]', '999999'],
    ['/issuing/cards/ic_1', 'status', 'active'],
  );
  const form = 'application/x-www-form-urlencoded';
  const mp = (fields: Array<[string, string]>): string => `${fields.map(([n, v]) => `--XyZ\r\nContent-Disposition: form-data; name="${n}"\r\n\r\n${v}\r\n`).join('')}--XyZ--\r\n`;
  const placement = fc.constantFrom<(path: string, name: string, value: string) => { url: string; headers: Array<[string, string]>; body: string }>(
    (p, n, v) => ({ url: `${S}${p}?${n}=${encodeURIComponent(v)}`, headers: [['content-type', form]], body: 'metadata[note]=x' }),
    (p, n, v) => ({ url: `${S}${p}?metadata[note]=x;${n}=${encodeURIComponent(v)}`, headers: [], body: '' }),
    (p, n, v) => ({ url: `${S}${p}`, headers: [], body: `metadata[note]=x&${n}=${encodeURIComponent(v)}` }),
    (p, n, v) => ({ url: `${S}${p}`, headers: [['content-type', form]], body: `metadata[note]=x&[${n}]=${encodeURIComponent(v)}` }),
    (p, n, v) => ({ url: `${S}${p}`, headers: [['content-type', form]], body: `metadata[note]=x;${n}=${encodeURIComponent(v)}` }),
    (p, n, v) => ({ url: `${S}${p}`, headers: [['content-type', 'multipart/form-data; boundary=XyZ']], body: mp([['metadata[note]', 'x'], [n, v]]) }),
    // A charset Rack ignores (it reads the form's bytes): decoded as UTF-16 the ASCII form reads as other text.
    (p, n, v) => {
      const body = `metadata[note]=x&${n}=${encodeURIComponent(v)}`;
      return { url: `${S}${p}`, headers: [['content-type', `application/x-www-form-urlencoded; charset=${body.length % 2 ? 'utf-16le' : 'utf-16'}`]], body: body.length % 2 ? `${body}&` : body };
    },
  );
  await fc.assert(
    fc.asyncProperty(money, placement, async ([p, n, v], place) => {
      const { description: d, decision } = await decide({ method: 'POST', ...place(p, n, v) });
      return d.service?.effect === 'pay' && decision.action === 'approve' && decision.approval?.risk === 'critical';
    }),
    { numRuns: 40, ...seed },
  );
  // A read that expands a credential (an Issuing card's number or CVC) is admin, however Rack is handed the `expand`.
  const expansion = fc.constantFrom<(f: string) => string>((f) => `expand[]=${f}`, (f) => `expand[0]=${f}`, (f) => `[expand][]=${f}`, (f) => `limit=1;expand[]=${f}`, (f) => `a=1;[expand][]=${f}`);
  await fc.assert(
    fc.asyncProperty(expansion, fc.constantFrom('number', 'cvc', 'data.number'), async (spell, f) => {
      const { description: d, decision } = await decide({ method: 'GET', url: `${S}/issuing/cards/ic_1?${spell(f)}` });
      return d.service?.effect === 'admin' && decision.action === 'approve' && decision.approval?.risk === 'critical';
    }),
    { numRuns: 15, ...seed },
  );
  t.match((await decide({ method: 'GET', url: `${S}/issuing/cards/ic_1?a=1;expand[]=cardholder` })).decision, { action: 'allow' }, 'control: expanding the cardholder is a read');
  for (const p of ['/customers/cus_1', '/subscriptions/sub_1', '/setup_intents']) {
    const { decision } = await decide({ method: 'POST', url: `${S}${p}?expand[]=customer`, headers: [['content-type', form]], body: 'metadata[note]=x' });
    t.match(decision, { action: 'approve', approval: { risk: 'medium' } }, `control: metadata only on ${p} stays a medium write`);
  }
});

t.test('property (twenty-seventh pass): an integer JSON.parse rounds (past 2^53) is ambiguous, held at high risk, and described by its exact digits; integers every reader reads alike are not', async (t) => {
  // `{"id": 1234567890123456789}` reached the policy as 1234567890123456800 (JSON.parse rounds it,
  // JSON.stringify writes the double back): a rule naming the protected id never fired on it, and
  // the approval card showed another id than the one the server (Python, Go into an int64, Java's
  // long, a bigint column) acts on; a grant for one id covered its neighbours.
  const W = `https://${SQL_HOST}/api/items/delete`;
  // Literals of 16 to 21 digits (JSON.stringify writes such doubles as plain digits: the oracle is
  // the text the policy reads), kept when that text is another integer.
  const inexact = fc.tuple(fc.bigInt({ min: 2n ** 53n + 1n, max: 10n ** 21n - 1n }), fc.boolean())
    .map(([n, neg]) => `${neg ? '-' : ''}${n}`)
    .filter((lit) => JSON.stringify(Number(lit)) !== lit);
  const place = fc.constantFrom<(lit: string) => string>(
    (lit) => `{"id": ${lit}}`,
    (lit) => `{"record": {"owner": "x", "id": ${lit}}}`,
    (lit) => `{"ids": [1, ${lit}, 3]}`,
    (lit) => `[{"delete": ${lit}}]`,
  );
  await fc.assert(
    fc.asyncProperty(inexact, place, spelling, async (lit, where, s) => {
      const { headers, body } = spell(where(lit), s);
      const { description, decision } = await decide({ url: W, headers, body });
      const b = description.request.body;
      if (!b.ambiguous || !b.ambiguous_reasons?.some((r) => r.code === 'json_number_out_of_range')) throw new Error(`${lit}: not ambiguous ${JSON.stringify(b)}`);
      if (!JSON.stringify(b.json).includes(`"${lit}"`)) throw new Error(`${lit}: the description does not carry the exact digits: ${JSON.stringify(b.json)}`);
      if (severity(decision) < 3) throw new Error(`${lit}: decided ${decision.action} ${decision.approval?.risk ?? ''} (${decision.rule})`);
    }),
    { numRuns: 40, ...seed },
  );
  // The same integer to a read-only MCP tool: held too (the tool reads another issue than decided).
  const mcp = await decide({ url: MCP, headers: [['content-type', 'application/json']], body: rpc('get_issue', '1', '').replace('"project":"widgets"', '"issue":1234567890123456789') });
  t.equal(mcp.decision.action, 'approve', 'a read-only tool call naming such an integer is held');
  // A JSON-RPC message's own id is only echoed back: such an id leaves a read a read.
  t.match((await decide({ url: MCP, headers: [['content-type', 'application/json']], body: rpc('get_issue', '1234567890123456789', '') })).decision, { action: 'allow', rule: 'mcp.read' }, 'control: a read-only tool call whose JSON-RPC id is such an integer stays a read');
  // Controls: integers every reader reads alike (safe, or written back as themselves), floats, exponents.
  for (const lit of ['12', '9007199254740991', '-9007199254740992', '12345678901234567000', '100000000000000000000000', '1e21', '0.1', '9007199254740993.0']) {
    const { description, decision } = await decide({ url: W, headers: [['content-type', 'application/json']], body: `{"id": ${lit}}` });
    t.notOk(description.request.body.ambiguous, `${lit}: not ambiguous`);
    t.match(decision, { action: 'approve', rule: 'host.write', approval: { risk: 'medium' } }, `${lit}: an ordinary write`);
  }
});

t.test('live: ambiguous and re-encoded JSON-RPC is held, never forwarded', async (t) => {
  const up = await startUpstream(t);
  // The default policy with the MCP server at the local upstream and a one-second approval wait.
  const host = 'mcp.test';
  const policy = configuredRego(t, { mcp_servers: { [host]: { read_only_tools: READ_ONLY_TOOLS } }, approval_timeout: '1s' });
  const a = await startTestAirlock(t, { policy, resolve: [`${host}=127.0.0.1`], allowPrivate: [`127.0.0.1:${up.port}`] });
  const url = `http://${host}:${up.port}/mcp`;
  // Control: a plain read-only call goes through.
  const ok = await viaProxy(a.port, url, { auth: a.auth, method: 'POST', headers: { 'content-type': 'application/json' }, body: rpc('get_issue', '1', '') });
  t.equal(ok.status, 200, 'a plain read-only call is forwarded');
  const attacks: Array<[string, Record<string, string>, Buffer | string]> = [
    ['UTF-16LE with a byte order mark', { 'content-type': 'application/json' }, Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(rpc('delete_project', '2', ''), 'utf16le')])],
    ['duplicate method', { 'content-type': 'application/json' }, '{"jsonrpc":"2.0","id":3,"method":"tools/call","method":"tools/list","params":{"name":"delete_project"}}'],
    ['text/plain JSON-RPC', { 'content-type': 'text/plain' }, rpc('delete_project', '4', '')],
    ['out-of-range id', { 'content-type': 'application/json' }, rpc('delete_project', '1e999', '')],
  ];
  for (const [name, headers, body] of attacks) {
    const r = await viaProxy(a.port, url, { auth: a.auth, method: 'POST', headers, body });
    t.equal(r.status, 403, `${name}: refused after the unanswered hold`);
  }
  // curl, the way an agent's shell sends JSON: -d with no type is form-encoded.
  const curl = await new Promise<string>((resolve) => {
    execFile('curl', ['-s', '-o', '/dev/null', '-w', '%{http_code}', '--max-time', '20', '-x', a.proxyUrl, '-d', rpc('delete_project', '5', ''), url], (_err, stdout) => resolve(stdout));
  });
  t.equal(curl, '403', 'curl -d JSON-RPC (form-typed) is held, then refused');
  t.equal(up.received.length, 1, 'only the control reached the MCP server');
  const held = a.records.filter((r) => r.decision?.action === 'approve');
  t.equal(held.length, attacks.length + 1, 'every attack was held for a human');
  t.ok(held.every((r) => ['body.ambiguous', 'mcp.tool_call'].includes(r.decision?.rule ?? '')), `held by the ambiguity or tool-call rule (${held.map((r) => r.decision?.rule).join(', ')})`);
});

t.test('live: SQL in JSON only lenient parsers read, to a host whose POSTs are allowed, is held, never forwarded', async (t) => {
  const up = await startUpstream(t);
  const host = 'sql.test';
  // (The trifecta off: the control's answer labels the session, and this test is about the body alone.)
  const policy = configuredRego(t, { allowed_hosts: [{ host, methods: ['GET', 'POST'] }], approval_timeout: '1s', trifecta: { mode: 'off' } });
  const a = await startTestAirlock(t, { policy, resolve: [`${host}=127.0.0.1`], allowPrivate: [`127.0.0.1:${up.port}`] });
  const url = `http://${host}:${up.port}/v1/sql`;
  const post = (body: string): Promise<string> =>
    new Promise((resolve) => {
      execFile('curl', ['-s', '-o', '/dev/null', '-w', '%{http_code}', '--max-time', '20', '-x', a.proxyUrl, '-H', 'Content-Type: application/json', '--data-binary', body, url], (_err, stdout) => resolve(stdout));
    });
  t.equal(await post('{"sql": "SELECT id FROM users LIMIT 1"}'), '200', 'control: strict JSON with a read is forwarded (POST allowed by configuration)');
  // Python's json (FastAPI, pydantic) reads NaN; Json.NET reads the comment.
  t.equal(await post('{"sql": "DROP TABLE users", "n": NaN}'), '403', 'NaN beside DROP TABLE: held, then refused');
  t.equal(await post('{"sql": "DROP TABLE users" /* cleanup */}'), '403', 'a comment beside DROP TABLE: held, then refused');
  t.equal(up.received.length, 1, 'only the control reached the server');
  const held = a.records.filter((r) => r.decision?.action === 'approve');
  t.same(held.map((r) => r.decision?.rule), ['sql.destructive', 'sql.destructive'], 'both were held as destructive SQL');
});

t.test('thirteenth pass: JSON declared in SJIS, GBK, BIG5 or GB18030 is also read as UTF-8, as RFC 8259 and most servers read it', async (t) => {
  // Airlock decoded the body by its charset (as Spring does), where `<lead byte>\n` is one
  // character and the rest of a `--` comment; Fastify (Supabase's pg-meta), Go and Node read the
  // bytes as UTF-8 (Node's own reading below), where `\n` is a line break and the DROP after it runs.
  const lead: Record<string, number> = { shift_jis: 0x95, 'windows-31j': 0x95, gbk: 0x95, gb18030: 0x95, big5: 0xa4 };
  const places = [
    { url: 'https://abcdefghijklmnopqrst.supabase.co/pg/query', key: 'query' },
    { url: 'https://ep-cool-darkness-123456.us-east-2.aws.neon.tech/sql', key: 'query' },
    { url: 'https://api.cloudflare.com/client/v4/accounts/a1/d1/database/db1/query', key: 'sql' },
    { url: `https://${SQL_HOST}/v1/sql`, key: 'sql' },
  ];
  await fc.assert(
    fc.asyncProperty(fc.constantFrom(...Object.keys(lead)), fc.constantFrom(...places), fc.constantFrom('; DROP TABLE users', '; DELETE FROM users', '; TRUNCATE users'), fc.constantFrom('', ' ', 'x'), async (cs, p, hidden, pad) => {
      const body = Buffer.concat([Buffer.from(`{"${p.key}": "SELECT 1 --${pad}`), Buffer.from([lead[cs]!]), Buffer.from(`\\n${hidden}"}`)]);
      const utf8 = (JSON.parse(body.toString('utf8')) as Record<string, string>)[p.key]!;
      const declared = (JSON.parse(new TextDecoder(cs).decode(body)) as Record<string, string>)[p.key]!;
      if (!utf8.includes(`\n${hidden}`) || declared.includes('\n')) throw new Error(`the two readings are not what the test means: ${JSON.stringify([utf8, declared])}`);
      const { description, decision } = await decide({ url: p.url, headers: [['Authorization', 'Bearer x'], ['Content-Type', `application/json; charset=${cs}`]], body });
      if (decision.approval?.risk !== 'critical') throw new Error(`${cs} to ${p.url}: ${decision.action} ${decision.rule} ${JSON.stringify(description.sql)}`);
    }),
    { numRuns: Math.ceil(runs / 6), ...seed },
  );
  // Controls: a label that reads the same text either way, or other strings of the same shape.
  for (const [cs, body] of [['shift_jis', '{"query": "SELECT 1"}'], ['iso-8859-1', Buffer.from('{"query": "SELECT \'caf\u00e9\'"}', 'utf8')]] as const) {
    const { decision } = await decide({ url: places[0]!.url, headers: [['Authorization', 'Bearer x'], ['Content-Type', `application/json; charset=${cs}`]], body });
    t.equal(decision.action, 'allow', `charset=${cs}: a read stays a read`);
  }
});
