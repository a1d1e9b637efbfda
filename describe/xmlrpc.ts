// The methods an XML-RPC body runs, read with an XML tokenizer (htmlparser2 in XML mode: entities
// and CDATA decoded, blanks before `>` allowed) as Python's xmlrpc.server and WordPress's IXR read
// them: the `<methodName>` of the call (the last one runs when there are several, so every one is
// listed), and for `system.multicall` the `methodName` member of each struct it carries (one POST
// that runs a list of calls, the XML-RPC batch).
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
