// The methods an XML-RPC body runs, read with an XML tokenizer (htmlparser2 in XML mode: entities
// and CDATA decoded, blanks before `>` allowed) as Python's xmlrpc.server and WordPress's IXR read
// them: the `<methodName>` of the call (the last one runs when there are several, so every one is
// listed), and for `system.multicall` the `methodName` member of each struct it carries (one POST
// that runs a list of calls, the XML-RPC batch).
import { createHash } from 'node:crypto';
import { Parser } from 'htmlparser2';

/** Methods listed at most; past it the list ends in `?`. */
const MAX_METHODS = 100;

/** Whether a text is an XML-RPC call to read (any Content-Type: those servers read the raw body). */
export function isXmlRpc(text: string): boolean {
  return text.includes('<methodCall');
}

export function xmlRpcMethods(text: string): string[] {
  const out: string[] = [];
  const stack: string[] = [];
  let buffer = '';
  // The text of the current `<name>` in a `<member>`, and whether the member named `methodName`.
  const members: Array<{ name?: string; value: string; inValue: number }> = [];
  const parser = new Parser({
    onopentag(name) {
      stack.push(name);
      if (name === 'methodName' || name === 'name') buffer = '';
      if (name === 'member') members.push({ value: '', inValue: 0 });
      const m = members[members.length - 1];
      if (m && name === 'value' && stack[stack.length - 2] === 'member') m.inValue++;
    },
    ontext(data) {
      const top = stack[stack.length - 1];
      if (top === 'methodName' || top === 'name') buffer += data;
      const m = members[members.length - 1];
      if (m && m.inValue > 0) m.value += data;
    },
    onclosetag(name) {
      stack.pop();
      const m = members[members.length - 1];
      if (name === 'methodName' && out.length <= MAX_METHODS) out.push(buffer.trim());
      else if (name === 'name' && m && stack[stack.length - 1] === 'member') m.name = buffer.trim();
      else if (name === 'value' && m && stack[stack.length - 1] === 'member') m.inValue--;
      else if (name === 'member' && m) {
        members.pop();
        if (m.name === 'methodName' && out.length <= MAX_METHODS) out.push(m.value.trim());
      }
    },
  }, { xmlMode: true, decodeEntities: true, recognizeCDATA: true });
  parser.write(text);
  parser.end();
  return out.length > MAX_METHODS ? [...out.slice(0, MAX_METHODS), '?'] : out;
}

/**
 * What an XML call acts on, as a digest of its arguments: the `<params>` of an XML-RPC
 * `methodCall` (positional: `wp.deletePost(blog, user, password, 5)` names the post by place only,
 * as JSON-RPC's positional params do), or what a SOAP Envelope's `Body` holds (`<DeleteAccount>
 * <AccountId>5</AccountId>`). The tokens are read as the call's servers read them (entities and CDATA
 * decoded), tags and attributes as written. Undefined when the text carries no such arguments.
 */
export function xmlArgumentsDigest(text: string, kind: 'xmlrpc' | 'soap'): string | undefined {
  const stack: string[] = [];
  const local = (name: string): string => name.slice(name.indexOf(':') + 1);
  let depth = -1; // the stack depth at which the arguments' element opened
  let found = false;
  const hash = createHash('sha256');
  const parser = new Parser({
    onopentag(name, attrs) {
      const parent = stack[stack.length - 1];
      stack.push(name);
      if (depth >= 0) {
        hash.update(`<${name}${Object.entries(attrs).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([k, v]) => ` ${k}=${JSON.stringify(v)}`).join('')}>`);
        return;
      }
      const starts = kind === 'xmlrpc'
        ? name === 'params' && parent === 'methodCall'
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
  parser.write(text);
  parser.end();
  return found ? `sha256-${hash.digest('hex').slice(0, 32)}` : undefined;
}

/** Elements and attributes read for places at most; past it the reading is cut (`undefined`). */
const MAX_XML_FIELDS = 2048;

/**
 * An XML body's elements and attributes as fields, for the place words of a REST call (`<to>`,
 * `<message channel="…">`): each element holding text is `parent.name` → its texts, each attribute
 * `element.name`, local names (no prefix). Undefined past MAX_XML_FIELDS.
 */
export function xmlFields(text: string): Record<string, string[]> | undefined {
  const out = Object.create(null) as Record<string, string[]>;
  const stack: Array<{ name: string; text: string }> = [];
  let count = 0;
  let over = false;
  const local = (name: string): string => name.slice(name.indexOf(':') + 1);
  const add = (k: string, v: string): void => {
    if (++count > MAX_XML_FIELDS) over = true;
    else (out[k] ??= []).push(v);
  };
  const parser = new Parser({
    onopentag(name, attrs) {
      const here = [...stack.slice(-1).map((e) => e.name), local(name)].join('.');
      for (const [k, v] of Object.entries(attrs)) if (!k.startsWith('xmlns')) add(`${here}.${local(k)}`, v);
      stack.push({ name: local(name), text: '' });
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
  parser.write(text);
  parser.end();
  return over ? undefined : out;
}
