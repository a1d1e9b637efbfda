// The methods an XML-RPC body runs, read with an XML tokenizer (htmlparser2 in XML mode: entities
// and CDATA decoded, blanks before `>` allowed) as Python's xmlrpc.server and WordPress's IXR read
// them: the `<methodName>` of the call (the last one runs when there are several, so every one is
// listed), and for `system.multicall` the `methodName` member of each struct it carries (one POST
// that runs a list of calls, the XML-RPC batch).
//
// A value is what their parsers keep (twenty-eighth pass): the text since the last start tag, at
// any depth (Python's Unmarshaller and IXR empty their buffer at every start tag and never at an end
// tag), so `<methodName>wp.getPosts<x>wp.deletePost</x></methodName>` runs `wp.deletePost`; and a
// tag is its local name (Python's Unmarshaller drops a namespace prefix: `<p:methodName>` names the
// method). Airlock had read the text directly inside `<methodName>` and prefixed tags not at all,
// so a grant for `wp.getPosts` covered such a call to `wp.deletePost`.
import { createHash } from 'node:crypto';
import { Parser } from 'htmlparser2';
import { writeBounded } from './markup-slices.ts';

/** Methods listed at most; past it the list ends in `?`. */
const MAX_METHODS = 100;

/** Whether a text is an XML-RPC call to read (any Content-Type: those servers read the raw body). */
export function isXmlRpc(text: string): boolean {
  return text.includes('<methodCall') || text.includes(':methodCall');
}

/** A tag's local name, as Python's xmlrpc Unmarshaller reads it (what follows the last `:`). */
const localName = (name: string): string => name.slice(name.lastIndexOf(':') + 1);

/** Whether a text begins with an XML-RPC call's start tag, prefixed or not (`<methodCall>`, `<p:methodCall …>`). */
export function startsXmlRpc(text: string): boolean {
  if (!text.startsWith('<')) return false;
  let end = 1;
  while (end < text.length && end < 300 && !' \t\r\n>/'.includes(text[end]!)) end++;
  return localName(text.slice(1, end)) === 'methodCall';
}

/** The methods an XML-RPC text runs, `?` last when it may run more (past MAX_METHODS, or nested deeper than MAX_XML_DEPTH: not read). */
export function xmlRpcMethods(text: string): string[] {
  const out: string[] = [];
  const stack: string[] = [];
  // The text since the last start tag, as Python's Unmarshaller and IXR keep it.
  let data = '';
  // The current `<member>`s: the name they were given, the value their `<value>` holds, and how many
  // `<value>` elements are open inside it (twenty-ninth pass: the open elements were searched for
  // one at every end tag, so 40,000 elements nested in a member, 280 KB, took 3 s of the event loop).
  const members: Array<{ name?: string; value: string; values: number }> = [];
  let deepest = 0;
  const parser = new Parser({
    onopentag(raw) {
      const name = localName(raw);
      deepest = Math.max(deepest, stack.push(name));
      data = '';
      if (name === 'member') members.push({ value: '', values: 0 });
      else if (name === 'value' && members.length) members[members.length - 1]!.values++;
    },
    ontext(text) {
      data += text;
    },
    onclosetag() {
      const name = stack.pop();
      const m = members[members.length - 1];
      if (name === 'value' && m) m.values--;
      if (name === 'methodName' && out.length <= MAX_METHODS) out.push(data.trim());
      else if (name === 'member' && m) {
        members.pop();
        if (m.name === 'methodName' && out.length <= MAX_METHODS) out.push(m.value.trim());
      } else if (m && stack[stack.length - 1] === 'member' && name === 'name') m.name = data.trim();
      // (A value's own text or its typed child's: `<value>x</value>`, `<value><string>x</string></value>`.)
      else if (m && (name === 'value' ? stack[stack.length - 1] === 'member' : m.values > 0)) m.value = data;
    },
  }, { xmlMode: true, decodeEntities: true, recognizeCDATA: true });
  // (Nested past MAX_XML_DEPTH: not read further, and `?` says the call may run more.)
  const whole = writeBounded(parser, text, () => deepest);
  return out.length > MAX_METHODS || !whole ? [...out.slice(0, MAX_METHODS), '?'] : out;
}

/**
 * What an XML call acts on, as a digest of its arguments: the `<params>` of an XML-RPC
 * `methodCall` (positional: `wp.deletePost(blog, user, password, 5)` names the post by place only,
 * as JSON-RPC's positional params do), or what a SOAP Envelope's `Body` holds (`<DeleteAccount>
 * <AccountId>5</AccountId>`). The tokens are read as the call's servers read them (entities and CDATA
 * decoded), tags and attributes as written. Undefined when the text carries no such arguments;
 * `?` when its elements nest deeper than MAX_XML_DEPTH (not read: describe/markup-slices.ts).
 */
export function xmlArgumentsDigest(text: string, kind: 'xmlrpc' | 'soap'): string | undefined {
  const stack: string[] = [];
  const local = (name: string): string => name.slice(name.indexOf(':') + 1);
  let depth = -1; // the stack depth at which the arguments' element opened
  let found = false;
  const hash = createHash('sha256');
  let deepest = 0;
  const parser = new Parser({
    onopentag(name, attrs) {
      const parent = stack[stack.length - 1];
      deepest = Math.max(deepest, stack.push(name));
      if (depth >= 0) {
        hash.update(`<${name}${Object.entries(attrs).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([k, v]) => ` ${k}=${JSON.stringify(v)}`).join('')}>`);
        return;
      }
      const starts = kind === 'xmlrpc'
        ? local(name) === 'params' && parent !== undefined && local(parent) === 'methodCall'
        : local(name) === 'Body' && parent !== undefined && local(parent) === 'Envelope';
      if (starts) {
        depth = stack.length;
        found = true;
        hash.update(`[${kind}]`);
      }
    },
    ontext(data) {
      if (depth >= 0) hash.update(JSON.stringify(data));
    },
    onclosetag(name) {
      if (depth >= 0 && stack.length === depth) depth = -1;
      else if (depth >= 0) hash.update(`</${name}>`);
      stack.pop();
    },
  }, { xmlMode: true, decodeEntities: true, recognizeCDATA: true });
  // (Nested past MAX_XML_DEPTH: `?`, arguments not read.)
  if (!writeBounded(parser, text, () => deepest)) return '?';
  return found ? `sha256-${hash.digest('hex').slice(0, 32)}` : undefined;
}

/** Elements and attributes read for places at most; past it the reading is cut (`undefined`). */
const MAX_XML_FIELDS = 2048;

/**
 * An XML body's elements and attributes as fields, for the place words of a REST call (`<to>`,
 * `<message channel="…">`): each element holding text is `parent.name` → its texts, each attribute
 * `element.name`, local names (no prefix). Undefined past MAX_XML_FIELDS, or nested deeper than
 * MAX_XML_DEPTH.
 */
export function xmlFields(text: string): Record<string, string[]> | undefined {
  const out = Object.create(null) as Record<string, string[]>;
  const stack: Array<{ name: string; text: string }> = [];
  let count = 0;
  let over = false;
  let deepest = 0;
  const local = (name: string): string => name.slice(name.indexOf(':') + 1);
  const add = (k: string, v: string): void => {
    if (++count > MAX_XML_FIELDS) over = true;
    else (out[k] ??= []).push(v);
  };
  const parser = new Parser({
    onopentag(name, attrs) {
      const here = [...stack.slice(-1).map((e) => e.name), local(name)].join('.');
      for (const [k, v] of Object.entries(attrs)) if (!k.startsWith('xmlns')) add(`${here}.${local(k)}`, v);
      deepest = Math.max(deepest, stack.push({ name: local(name), text: '' }));
    },
    ontext(data) {
      const top = stack[stack.length - 1];
      if (top) top.text += data;
    },
    onclosetag() {
      const e = stack.pop();
      if (e && e.text.trim()) add([...stack.slice(-1).map((p) => p.name), e.name].join('.'), e.text.trim());
    },
  }, { xmlMode: true, decodeEntities: true, recognizeCDATA: true });
  // (Nested past MAX_XML_DEPTH: cut, as past MAX_XML_FIELDS.)
  if (!writeBounded(parser, text, () => deepest)) return undefined;
  return over ? undefined : out;
}

/** Elements an XML body is bound as JSON through, at most (past it, no reading). */
const MAX_BOUND_ELEMENTS = 4096;
/** Nesting bound as JSON, at most (deeper elements are left out). */
const MAX_BOUND_DEPTH = 64;

/**
 * An XML body as servers that bind XML to the handler's object read it (twenty-ninth pass):
 * Jackson's XML module (Spring with jackson-dataformat-xml), ASP.NET Core's XML formatters and
 * JAXB bind `<Request><sql>DROP TABLE users</sql></Request>` as the JSON `{"sql": "DROP TABLE
 * users"}`: the root element's children are its members, an element holding only text is that
 * text, attributes are members too, a name given twice is a list; names are local (no prefix).
 * Undefined when the body holds no element, or past MAX_BOUND_ELEMENTS.
 */
export function xmlBoundJson(text: string): Record<string, unknown> | undefined {
  type Frame = { name: string; obj: Record<string, unknown>; text: string; members: boolean };
  const stack: Frame[] = [];
  let root: Record<string, unknown> | undefined;
  let count = 0;
  const local = (name: string): string => name.slice(name.indexOf(':') + 1);
  const put = (obj: Record<string, unknown>, k: string, v: unknown): void => {
    const had = Object.prototype.hasOwnProperty.call(obj, k) ? obj[k] : undefined;
    const value = had === undefined ? v : Array.isArray(had) ? [...had, v] : [had, v];
    Object.defineProperty(obj, k, { value, writable: true, enumerable: true, configurable: true });
  };
  const parser = new Parser({
    onopentag(name, attrs) {
      if (++count > MAX_BOUND_ELEMENTS) return;
      const frame: Frame = { name: local(name), obj: Object.create(null) as Record<string, unknown>, text: '', members: false };
      for (const [k, v] of Object.entries(attrs)) {
        if (k === 'xmlns' || k.startsWith('xmlns:')) continue;
        put(frame.obj, local(k), v);
        frame.members = true;
      }
      stack.push(frame);
    },
    ontext(data) {
      const top = stack[stack.length - 1];
      if (top && top.text.length < 1_000_000) top.text += data;
    },
    onclosetag() {
      if (count > MAX_BOUND_ELEMENTS) return;
      const e = stack.pop();
      if (!e) return;
      const parent = stack[stack.length - 1];
      if (!parent) {
        root = e.members ? e.obj : undefined;
        return;
      }
      parent.members = true;
      if (stack.length > MAX_BOUND_DEPTH) return;
      put(parent.obj, e.name, e.members ? e.obj : e.text);
    },
  }, { xmlMode: true, decodeEntities: true, recognizeCDATA: true });
  parser.write(text);
  parser.end();
  if (count > MAX_BOUND_ELEMENTS || !root) return undefined;
  // A plain object, as JSON readers hand one over.
  return JSON.parse(JSON.stringify(root)) as Record<string, unknown>;
}
