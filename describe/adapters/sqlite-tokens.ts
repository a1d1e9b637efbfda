// SQLite's tokenizer, enough to find a statement's verbs, the names it uses and its string
// literals: what sql-sqlite.ts (the scratch database's names) and sql-fts.ts (full-text commands) read.

export interface Token {
  /** `word` (bare), `ident` (quoted identifier), `(`, `)`, or other punctuation. */
  type: 'word' | 'ident' | '(' | ')' | 'punct';
  value: string;
  depth: number;
}

const MAX_TOKENS = 100_000;

/**
 * SQLite's tokens, enough to find a statement's verbs and the names it uses. Follows SQLite's
 * tokenizer for everything that can hide text: strings ('' escapes), quoted identifiers in "",
 * ``, [] and non-nesting block and line comments. Linear.
 */
export function tokens(sql: string, from = 0, stopAtSemicolon = false, onString?: (value: string, blob: boolean) => void): Token[] & { end?: number; maxDepth?: number } {
  const out: Token[] & { end?: number; maxDepth?: number } = [];
  // Past MAX_TOKENS the text is still read to its end (or `;`) for its depth, without keeping tokens.
  const push = (t: Token): void => {
    if (out.length < MAX_TOKENS) out.push(t);
  };
  let depth = 0;
  let maxDepth = 0;
  let i = from;
  const n = sql.length;
  const isStart = (c: number): boolean => (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95 || c > 127;
  const isPart = (c: number): boolean => isStart(c) || (c >= 48 && c <= 57) || c === 36;
  while (i < n) {
    const c = sql[i]!;
    if (c === '-' && sql[i + 1] === '-') {
      const e = sql.indexOf('\n', i);
      i = e < 0 ? n : e + 1;
    } else if (c === '/' && sql[i + 1] === '*') {
      const e = sql.indexOf('*/', i + 2);
      i = e < 0 ? n : e + 2;
    } else if (c === "'" || c === '"' || c === '`') {
      let j = i + 1;
      let value = '';
      for (;;) {
        const e = sql.indexOf(c, j);
        if (e < 0) { value += sql.slice(j); j = n; break; }
        value += sql.slice(j, e);
        if (sql[e + 1] === c) { value += c; j = e + 2; continue; }
        j = e + 1;
        break;
      }
      if (c !== "'") push({ type: 'ident', value, depth });
      else if (onString) {
        // `x'…'` is a blob literal: the `x` just before the quote was read as a word.
        const prev = out[out.length - 1];
        onString(value, prev?.type === 'word' && /^x$/i.test(prev.value) && i > 0 && /x/i.test(sql[i - 1]!));
      }
      i = j;
    } else if (c === '[') {
      const e = sql.indexOf(']', i);
      push({ type: 'ident', value: sql.slice(i + 1, e < 0 ? n : e), depth });
      i = e < 0 ? n : e + 1;
    } else if (c === '(') {
      push({ type: '(', value: c, depth: depth++ });
      if (depth > maxDepth) maxDepth = depth;
      i++;
    } else if (c === ')') {
      push({ type: ')', value: c, depth: --depth });
      i++;
    } else if (isStart(sql.charCodeAt(i))) {
      let j = i + 1;
      while (j < n && isPart(sql.charCodeAt(j))) j++;
      push({ type: 'word', value: sql.slice(i, j), depth });
      i = j;
    } else {
      if (c === ';' && stopAtSemicolon) break;
      if (c.trim()) push({ type: 'punct', value: c, depth });
      i++;
    }
  }
  out.end = i;
  out.maxDepth = maxDepth;
  return out;
}
