// Rego for CodeMirror 6 as a StreamLanguage (there is no published CM6 Rego package).
// Tokens: keywords, built-in namespaces, strings ("…" with escapes, `raw`), comments (#), numbers,
// operators, brackets (for matching), and rule heads (an identifier at the start of a line).
import { StreamLanguage, type StreamParser, type StringStream } from '@codemirror/language';

const keywords = new Set([
  'package', 'import', 'as', 'default', 'else', 'some', 'every', 'in', 'not', 'with', 'if', 'contains',
]);
const atoms = new Set(['true', 'false', 'null']);
const builtinNamespaces = new Set([
  'input', 'data', 'rego', 'future', 'time', 'crypto', 'http', 'io', 'json', 'yaml', 'base64', 'base64url',
  'hex', 'urlquery', 'regex', 'glob', 'strings', 'units', 'net', 'uuid', 'semver', 'object', 'array', 'graph',
  'opa', 'trace', 'print', 'count', 'sum', 'max', 'min', 'sort', 'concat', 'contains', 'startswith',
  'endswith', 'lower', 'upper', 'split', 'sprintf', 'format_int', 'indexof', 'replace', 'substring', 'trim',
  'trim_space', 'trim_prefix', 'trim_suffix', 'is_string', 'is_number', 'is_object', 'is_array', 'is_set',
  'is_boolean', 'is_null', 'type_name', 'to_number', 'numbers', 'abs', 'round', 'ceil', 'floor', 'any', 'all',
  'union', 'intersection', 'walk', 'product',
]);

export interface RegoState {
  /** Inside a `raw string` that spans lines. */
  inRaw: boolean;
  /** Bracket nesting: a rule head only starts at depth 0. */
  depth: number;
}

function readString(stream: StringStream): void {
  let escaped = false;
  let ch: string | void;
  while ((ch = stream.next()) != null) {
    if (ch === '"' && !escaped) return;
    escaped = !escaped && ch === '\\';
  }
}

export const regoParser: StreamParser<RegoState> = {
  name: 'rego',
  startState: () => ({ inRaw: false, depth: 0 }),
  copyState: (s) => ({ ...s }),
  token(stream, state) {
    if (state.inRaw) {
      if (stream.skipTo('`')) {
        stream.next();
        state.inRaw = false;
      } else stream.skipToEnd();
      return 'string';
    }
    if (stream.eatSpace()) return null;
    const ch = stream.peek()!;
    if (ch === '#') {
      stream.skipToEnd();
      return 'comment';
    }
    if (ch === '"') {
      stream.next();
      readString(stream);
      return 'string';
    }
    if (ch === '`') {
      stream.next();
      if (stream.skipTo('`')) stream.next();
      else {
        stream.skipToEnd();
        state.inRaw = true;
      }
      return 'string';
    }
    if (stream.match(/^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/)) return 'number';
    if (stream.match(/^(?::=|==|!=|<=|>=|=|<|>|\+|-|\*|\/|%|&|\|)/)) return 'operator';
    if (/[[({]/.test(ch)) {
      stream.next();
      state.depth++;
      return 'bracket';
    }
    if (/[\])}]/.test(ch)) {
      stream.next();
      state.depth = Math.max(0, state.depth - 1);
      return 'bracket';
    }
    if (stream.match(/^[A-Za-z_][A-Za-z0-9_]*/)) {
      const word = stream.current();
      if (keywords.has(word)) return 'keyword';
      if (atoms.has(word)) return 'atom';
      if (state.depth === 0 && stream.column() === 0) return 'def';
      if (builtinNamespaces.has(word)) return 'builtin';
      return 'variableName';
    }
    if (ch === '.' || ch === ',' || ch === ';' || ch === ':') {
      stream.next();
      return 'punctuation';
    }
    stream.next();
    return null;
  },
  languageData: {
    commentTokens: { line: '#' },
    closeBrackets: { brackets: ['(', '[', '{', '"', '`'] },
    indentOnInput: /^\s*[\]})]$/,
  },
};

export const rego = StreamLanguage.define(regoParser);
