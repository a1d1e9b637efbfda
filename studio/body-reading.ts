// A held body as its server reads it, for a person who must decide on it, beside the bytes as sent:
// form fields with their percent-escapes undone, JSON strings with their \u escapes undone, the parts
// of a multipart body with their Content-Transfer-Encoding (base64, quoted-printable, uuencode)
// undone, text in another charset than UTF-8 decoded in it, and base64 strings that decode to text
// (a Gmail `raw` message, a GitHub file's `content`: the server decodes them and acts on the text).
// Bytes such as `to=%64%72%6f%70%40…`, `"\u0064\u0072…"` or a base64 part are exact but unreadable:
// what a person approves is what the server will read. Uses the describe step's own readers (describe/body.ts, proxy/mime-parts.ts), so
// the card, the policy and the credential guard read the body alike. Undefined when the bytes as
// sent already read the same; `error` when the server's reading cannot be known here (a charset
// such as UTF-7 that has no decoder: the bytes read one way on the card and another upstream).
import { bomOf, contentTypeReadings, parseMediaType, percentU, summarizeBody, unicodeLabel } from '../describe/body.ts';
import { multipartParts } from '../proxy/mime-parts.ts';
import { dispositionNames } from '../describe/content-disposition.ts';
import { multipartBoundaries } from '../describe/multipart.ts';
import { base64Sections } from './app/base64-text.ts';
import { ASPNET_HOW, PHP_HOW, RACK_HOW, aspNetReading, phpReading, rackReading } from './app/param-names.ts';
import { xmlReadOtherwise } from '../state/approval-body.ts';
import YAML from 'yaml';
import { lookupTable } from '../lib/records.ts';

export interface ServerReading {
  /** How this reading differs from the bytes as sent ("form fields decoded", …). */
  how: string;
  text: string;
}

const TRANSFER_ENCODINGS = new Set(['base64', 'quoted-printable', 'x-uuencode', 'uuencode', 'x-uue', 'uue']);

/**
 * A part's bytes (latin1) as text in its charset (UTF-8 when it names none), or what they are when
 * not text; `error` when the server's reading cannot be known: a charset with no decoder here
 * (UTF-7: Python's email package and Werkzeug decode it), or charsets that servers take differently
 * from the part's Content-Type (a repeated parameter, a `;` inside quotes).
 */
function partText(content: string, contentType: string | undefined, n: number): string | { error: string } {
  const bytes = Buffer.from(content, 'latin1');
  const charsets = contentType ? contentTypeReadings([contentType]).map((r) => r.charset) : [undefined];
  if (new Set(charsets).size > 1) return { error: `part ${n} names charsets servers read differently (${charsets.map((c) => c ?? 'none').join(', ')}), so how its server reads it is not known` };
  const charset = charsets[0];
  let text: string;
  try {
    text = new TextDecoder(charset ?? 'utf-8', { fatal: true }).decode(bytes);
  } catch (err) {
    if (err instanceof RangeError) return { error: `part ${n} is in charset "${charset}", which the studio cannot decode, and its server reads it in that charset` };
    return `(${bytes.length} bytes, not text)`;
  }
  return /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/.test(text) ? `(${bytes.length} bytes, not text)` : text;
}

function multipartReading(bytes: Buffer, contentType: string): ServerReading | { error: string } | undefined {
  // Past a close delimiter a parser may read on (proxy/mime-parts.ts): only what holds something.
  const parts = multipartParts(bytes, contentType).filter((p) => Object.keys(p.headers).length || p.content.trim());
  const encoded = (h: Record<string, string>): string | undefined => {
    const cte = (h['content-transfer-encoding'] ?? '').trim().toLowerCase();
    return TRANSFER_ENCODINGS.has(cte) ? cte : undefined;
  };
  const charsetOf = (h: Record<string, string>): string | undefined => {
    const c = h['content-type'] ? parseMediaType(h['content-type']).params.charset?.toLowerCase() : undefined;
    return c && c !== 'utf-8' && c !== 'utf8' && c !== 'us-ascii' ? c : undefined;
  };
  const manyCharsets = (h: Record<string, string>): boolean => !!h['content-type'] && new Set(contentTypeReadings([h['content-type']]).map((r) => r.charset)).size > 1;
  // The field a part fills, as servers read its Content-Disposition: an RFC 2231 `name*` (Werkzeug,
  // Python's email package take it over `name=`), `name*0*` pieces, a second `name=` or a second
  // header line. `name="subject"; name*=UTF-8''%74%6f` is the field `to` to Flask.
  const names = parts.map((p) => (/content-disposition/i.test(p.head) ? dispositionNames(p.head) : []));
  const boundaries = multipartBoundaries(contentType).length;
  // PHP and ASP.NET register a part's field under another name than sent (` to`, `mail.to`, `TO`)
  // and use one value of the fields so merged: the parts as they read them.
  const fields = parts.flatMap((p, i): Array<[string, string]> => {
    const value = names[i]!.length ? partText(p.content, p.headers['content-type'], i + 1) : undefined;
    return typeof value === 'string' ? [[names[i]![0]!, value]] : [];
  });
  const byName = [phpReading(fields), aspNetReading(fields)] as const;
  const merged = [
    ...(byName[0] ? [`── ${PHP_HOW}\n${byName[0].map(([k, v]) => `${k} = ${JSON.stringify(v)}`).join('\n')}`] : []),
    ...(byName[1] ? [`── ${ASPNET_HOW}\n${byName[1].map(([k, v]) => `${k} = ${JSON.stringify(v)}`).join('\n')}`] : []),
  ];
  if (boundaries < 2 && !merged.length && !names.some((n) => n.length > 1) && !parts.some((p) => encoded(p.headers) || charsetOf(p.headers) || manyCharsets(p.headers))) return undefined;
  const sections: string[] = boundaries > 1 ? [`(the Content-Type names ${boundaries} boundaries, and servers take different ones: the parts under each follow)`] : [];
  for (const [i, p] of parts.entries()) {
    const field = names[i]!.length > 1 ? `the field servers read it as: ${names[i]!.map((n) => JSON.stringify(n)).join(' or ')}` : '';
    const what = [p.headers['content-disposition'], field, p.headers['content-type'], encoded(p.headers) ? `${encoded(p.headers)}, decoded` : '', charsetOf(p.headers) ? `${charsetOf(p.headers)}, decoded` : '']
      .filter(Boolean).join('; ');
    const text = partText(p.content, p.headers['content-type'], i + 1);
    if (typeof text !== 'string') return text;
    sections.push(`── part ${i + 1}${what ? `: ${what}` : ''}\n${text}`);
  }
  return { how: `each part with its field name, transfer encoding and charset as servers read them${merged.length ? ', and the fields as PHP or ASP.NET name them' : ''}`, text: [...sections, ...merged].join('\n') };
}

/**
 * How the server reads `bytes` (content codings already undone), when that differs from the bytes
 * as sent; `sentText` is the body as UTF-8 text, undefined when it is not (binary, UTF-16, …).
 */
export function serverReading(bytes: Buffer, headers: Record<string, string[]>, sentText: string | undefined): ServerReading | { error: string } | undefined {
  if (!bytes.length) return undefined;
  const values = headers['content-type'] ?? [];
  const types = (values.length ? contentTypeReadings(values) : []).flatMap((t) => byteOrders(t, bytes));
  if (types.length < 2) return readingAs(bytes, values, sentText);
  // Servers take different types or charsets from these headers: the body as each of them reads it.
  const sections: string[] = [];
  for (const t of types) {
    const value = t.type.startsWith('multipart/') ? values.find((v) => parseMediaType(v).type === t.type) ?? t.type : `${t.type}${t.charset ? `; charset=${t.charset}` : ''}`;
    const r = readingAs(bytes, [value], sentText);
    if (r && 'error' in r) return r;
    sections.push(`── as a server that reads the type as "${value}" reads it${r ? ` (${r.how})` : ' (the bytes as sent)'}\n${r ? r.text : sentText ?? '(not text)'}`);
  }
  return { how: `read in ${types.length} ways: servers take different types, charsets or byte orders from the Content-Type`, text: sections.join('\n') };
}

/**
 * A charset that names no byte order (`utf-16`, `utf-32`) over bytes with no byte order mark is two
 * readings: big-endian (RFC 2781, Java) and little-endian (Python, .NET).
 */
function byteOrders(t: { type: string; charset?: string }, bytes: Buffer): Array<{ type: string; charset?: string }> {
  const generic = t.charset === undefined ? undefined : unicodeLabel(t.charset);
  if (generic !== 'utf-16' && generic !== 'utf-32') return [t];
  // A UTF-16 mark is the first two bytes whatever follows (FF FE 00 00 too).
  const marked = bomOf(generic === 'utf-16' ? bytes.subarray(0, 2) : bytes)?.encoding.startsWith(generic) === true;
  return marked ? [t] : [{ ...t, charset: `${generic}be` }, { ...t, charset: `${generic}le` }];
}

/** A number JavaScript cannot hold exactly: an integer past 2^53, or one out of range (Infinity). */
const inexactNumber = (v: unknown): v is number => typeof v === 'number' && (!Number.isFinite(v) || (Number.isInteger(v) && !Number.isSafeInteger(v)));

/**
 * Parsed JSON written out again for a person. The parse rounded such numbers: `9007199254740993`
 * would be written `9007199254740992` (another account, while Python, Go and Java read the one
 * sent) and `1e400` as `null`. They are written as a marker sending the reader to the bytes as sent.
 */
function jsonText(json: unknown): string {
  return JSON.stringify(json, (_k, v: unknown) => (inexactNumber(v) ? `⟨a number JavaScript rounds (to ${v}): read it in the bytes as sent⟩` : v), 2);
}

function holdsInexact(json: unknown): boolean {
  const stack: unknown[] = [json];
  while (stack.length) {
    const v = stack.pop();
    if (inexactNumber(v)) return true;
    if (v && typeof v === 'object') for (const x of Object.values(v as Record<string, unknown>)) stack.push(x);
  }
  return false;
}

function readingAs(bytes: Buffer, contentTypes: string[], sentText: string | undefined): ServerReading | { error: string } | undefined {
  const contentType = contentTypes[0] ?? '';
  if (/^\s*multipart\//i.test(contentType)) return multipartReading(bytes, contentType);
  const { summary, alternates } = summarizeBody({ body: bytes, truncated: false, headers: { 'content-type': contentTypes }, previewBytes: bytes.length });
  if (summary.decode_error) return { error: `the server reads this body in its declared charset, which the studio cannot: ${summary.decode_error}` };
  const decodedFrom = summary.charset ? `decoded from ${summary.charset.toUpperCase()}` : '';
  if (summary.form) {
    // A form's values: escapes undone, each value as one (JSON) string, base64 values decoded.
    const b64 = base64Sections(summary.form);
    // The fields in the order sent (which of a repeated name is last): PHP and ASP.NET register
    // names otherwise than sent (`mail.to` is `mail_to`, `TO` is `to`), and use one of the values.
    const formPairs = !decodedFrom && sentText !== undefined
      ? [...new URLSearchParams(sentText)]
      : Object.entries(summary.form).flatMap(([k, vs]) => vs.map((v) => [k, v] as [string, string]));
    const names = [phpReading(formPairs), aspNetReading(formPairs), rackReading(formPairs)] as const;
    const byName = [
      ...(names[0] ? [`── ${PHP_HOW}\n${names[0].map(([k, v]) => `${k} = ${JSON.stringify(v)}`).join('\n')}`] : []),
      ...(names[1] ? [`── ${ASPNET_HOW}\n${names[1].map(([k, v]) => `${k} = ${JSON.stringify(v)}`).join('\n')}`] : []),
      ...(names[2] ? [`── ${RACK_HOW}\n${names[2].map(([k, v]) => `${k} = ${JSON.stringify(v)}`).join('\n')}`] : []),
    ];
    if (sentText !== undefined && !/[%+]/.test(sentText) && !decodedFrom && !b64.length && !byName.length) return undefined;
    // Classic ASP.NET and IIS also undo `%uXXXX` in form values, which other servers leave as text.
    const iis = /%u[0-9a-f]{4}/i.test(sentText ?? '') ? Object.fromEntries(Object.entries(summary.form).map(([k, vs]) => [percentU(k), vs.map(percentU)])) : undefined;
    return {
      how: ['form fields with their escapes undone', decodedFrom, b64.length ? 'base64 values decoded' : '', iis ? 'and as classic ASP.NET (IIS) reads them, %uXXXX undone too' : '',
        names[0] ? 'and as PHP names them' : '', names[1] ? 'and as ASP.NET names them' : '', names[2] ? 'and as Rack 2 names them' : ''].filter(Boolean).join(', '),
      text: [JSON.stringify(summary.form, null, 2), ...(iis ? [`── as classic ASP.NET (IIS) reads it\n${JSON.stringify(iis, null, 2)}`] : []), ...byName, ...b64].join('\n'),
    };
  }
  if (summary.json !== undefined) {
    const b64 = base64Sections(summary.json);
    // Duplicate keys (also equal but for case): each server reads one of them; every reading is shown.
    const others = alternates.filter((r) => r.json !== undefined);
    if (sentText !== undefined && !/\\u[0-9a-fA-F]{4}/.test(sentText) && !decodedFrom && !b64.length && !others.length && !summary.ambiguous_reasons?.some((r) => r.code === 'json_lenient')) return undefined;
    const readings = others.length
      ? [`── as most parsers read it (of duplicate keys the last wins: JavaScript, Python)\n${jsonText(summary.json)}`, ...others.map((r) => `── as ${r.label} parsers read it\n${jsonText(r.json)}`)]
      : [jsonText(summary.json)];
    const inexact = [summary.json, ...others.map((r) => r.json)].some(holdsInexact);
    // The describe step keeps an integer past 2^53 as the digits sent, in a string (describe/json-readings.ts).
    const exactDigits = summary.ambiguous_reasons?.some((r) => r.code === 'json_number_out_of_range') === true;
    const how = ['JSON with its escapes undone', decodedFrom, b64.length ? 'base64 strings decoded' : '', others.length ? `read in ${readings.length} ways: ${(summary.ambiguous_reasons ?? []).map((r) => r.detail).join('; ')}` : '',
      inexact ? 'numbers this reading cannot hold exactly (past 2^53, or out of range) left for the bytes as sent' : '',
      exactDigits ? 'integers past 2^53 written as the digits sent, in quotes (the server reads the number they write)' : ''];
    return { how: how.filter(Boolean).join(', '), text: [...readings, ...b64].join('\n') };
  }
  const yaml = yamlReading(summary.text ?? sentText, summary.content_type);
  if (yaml && 'error' in yaml) return yaml;
  if (yaml) return { how: [yaml.how, decodedFrom].filter(Boolean).join(', '), text: yaml.text };
  const xml = xmlReading(summary.text ?? sentText, contentType);
  if (xml && 'error' in xml) return xml;
  if (xml) return { how: [xml.how, decodedFrom].filter(Boolean).join(', '), text: xml.text };
  if (summary.text !== undefined && (decodedFrom || sentText === undefined)) return { how: decodedFrom || 'as text', text: summary.text };
  return undefined;
}

/** The longest YAML text the studio parses for its reading. */
const YAML_MAX = 64 * 1024;

/** What a YAML text holds that reads otherwise parsed: anchors and aliases, merge keys, tags, escapes, more documents, directives. */
const YAML_SPECIAL = /[&*!\\]|<<|^---|^%/m;

/**
 * A YAML body (Kubernetes manifests, CI and compose files) as its parsers read it, when the text
 * holds what reads otherwise parsed: an alias takes a value from an anchor elsewhere (`image: *x`),
 * a merge key (`<<: *defaults`) adds keys the mapping does not show, `"\x64rop@…"` is an escape,
 * and YAML 1.1 (PyYAML, Go's yaml.v2 under Kubernetes) reads `0777`, `1:20`, `no` otherwise than
 * YAML 1.2 does. Each document as JSON; both readings when they differ. Aliases are bounded.
 */
function yamlReading(text: string | undefined, type: string): ServerReading | { error: string } | undefined {
  if (text === undefined || !/^(?:application|text)\/(?:x-)?yaml$|\+yaml$/.test(type)) return undefined;
  // Parsing runs in the process that also proxies: bounded (~100 ms for 64 KiB, twice).
  if (text.length > YAML_MAX) return { error: `the YAML body is longer than the ${YAML_MAX / 1024} KiB the studio parses, so how its parsers read it (aliases, merge keys, YAML 1.1's numbers and booleans) is not shown` };
  let bomb = false;
  const read = (version: '1.1' | '1.2'): string | undefined => {
    try {
      const docs = YAML.parseAllDocuments(text, { version, merge: true, uniqueKeys: false });
      if (!Array.isArray(docs) || docs.some((d) => d.errors.length)) return undefined;
      return docs.map((d) => JSON.stringify(d.toJS({ maxAliasCount: 100 }), null, 2)).join('\n── the next document\n');
    } catch (err) {
      bomb ||= /alias/i.test((err as Error).message);
      return undefined;
    }
  };
  const old = read('1.1');
  const core = read('1.2');
  if (bomb) return { error: 'the YAML body\'s aliases expand past what the studio reads (an alias of aliases …): what its parsers read is not shown' };
  if (old === undefined && core === undefined) return undefined;
  if (old === core) return YAML_SPECIAL.test(text) ? { how: 'YAML parsed: aliases, merge keys, tags and escapes resolved', text: core! } : undefined;
  return {
    how: 'YAML parsed, read in 2 ways: YAML 1.1 (PyYAML, Go\'s yaml.v2, Kubernetes) and YAML 1.2 differ',
    text: `── as YAML 1.1 parsers read it\n${old ?? '(refused)'}\n── as YAML 1.2 parsers read it\n${core ?? '(refused)'}`,
  };
}

/** Characters a reference undoes into markup: written as their named entity, so the reading keeps the structure the parser saw. */
const MARKUP: Readonly<Record<string, string>> = lookupTable({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' });

/**
 * An XML body (a SOAP envelope, an XML-RPC call) as its parser reads it, when that differs from
 * the bytes: character references undone (`<to>&#100;&#114;&#111;&#112;@…</to>` is `drop@…` to
 * every XML parser), outside CDATA sections and comments. Entities the body declares itself
 * (`<!ENTITY a "…">`, expanded by libxml2 and expat, or fetched from elsewhere) cannot be shown.
 */
function xmlReading(text: string | undefined, contentType: string): ServerReading | { error: string } | undefined {
  if (text === undefined || !xmlReadOtherwise(text, contentType)) return undefined;
  if (/<!entity/i.test(text)) return { error: 'the XML body declares entities of its own (<!ENTITY …>), which XML parsers expand (or fetch from elsewhere): what the server reads in their place is not shown here' };
  const out: string[] = [];
  let at = 0;
  while (at < text.length) {
    // CDATA sections and comments are read as written; refs elsewhere are undone.
    const cdata = text.indexOf('<![CDATA[', at);
    const comment = text.indexOf('<!--', at);
    const next = [cdata, comment].filter((i) => i >= 0).sort((a, b) => a - b)[0] ?? text.length;
    out.push(undoReferences(text.slice(at, next)));
    if (next >= text.length) break;
    const close = next === cdata ? text.indexOf(']]>', next) : text.indexOf('-->', next);
    const end = close < 0 ? text.length : close + 3;
    out.push(text.slice(next, end));
    at = end;
  }
  const read = out.join('');
  return read === text ? undefined : { how: 'XML with its character references undone', text: read };
}

function undoReferences(text: string): string {
  let out = '';
  let at = 0;
  for (let amp = text.indexOf('&', at); amp >= 0; amp = text.indexOf('&', at)) {
    const semi = text.indexOf(';', amp);
    const name = semi > amp && semi - amp <= 12 ? text.slice(amp + 1, semi) : '';
    const hex = /^#x([0-9a-fA-F]{1,6})$/.exec(name);
    const dec = /^#([0-9]{1,7})$/.exec(name);
    const code = hex ? parseInt(hex[1]!, 16) : dec ? Number(dec[1]) : undefined;
    let char = code !== undefined && code <= 0x10ffff ? String.fromCodePoint(code) : undefined;
    if (char !== undefined && Object.hasOwn(MARKUP, char)) char = MARKUP[char];
    out += text.slice(at, amp) + (char ?? '&');
    at = char === undefined ? amp + 1 : semi + 1;
  }
  return out + text.slice(at);
}
