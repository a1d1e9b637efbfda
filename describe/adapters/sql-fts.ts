// SQLite's full-text tables take commands as INSERTs (fourteenth pass): a column named as the table
// itself is FTS3/4/5's command column, so `INSERT INTO docs_fts(docs_fts) VALUES('delete-all')`
// empties an external-content or contentless FTS5 index (every search on it finds nothing), and
// `INSERT INTO docs_fts(docs_fts, rowid, body) VALUES('delete', 7, '…')` removes one entry; `rank`,
// `secure-delete`, `automerge` … change the table's stored configuration. To the authorizer each is
// an INSERT into the table, like indexing a document. D1 offers FTS5.

/**
 * Commands that delete index entries or change the table's stored configuration (FTS5's, and
 * FTS4's `automerge=N`); FTS compares the whole value without case. The others only maintain an
 * index (`optimize`, `rebuild`, `integrity-check`, `merge`): writes. Text that is no command (a
 * tag's name in a table that has a column of its own name) is an ordinary value.
 */
const changing = new Set(['delete', 'delete-all', 'rank', 'secure-delete', 'deletemerge', 'pgsz', 'usermerge', 'crisismerge', 'automerge', 'insttoken', 'locale']);

function commandLike(value: string): boolean {
  const v = value.trim().toLowerCase();
  return changing.has(v) || v.startsWith('automerge=');
}

interface Lexed {
  /** Bare words, quoted identifiers and punctuation, with their parenthesis depth. */
  toks: Array<{ type: 'word' | 'ident' | 'punct' | '(' | ')'; value: string; depth: number }>;
  strings: string[];
  /** A blob literal (`x'…'`), which a CAST turns into any text. */
  blob: boolean;
}

/** SQLite's lexing, enough for this check: strings, quoted names, comments. Linear. */
function lex(sql: string): Lexed {
  const out: Lexed = { toks: [], strings: [], blob: false };
  let depth = 0;
  let i = 0;
  const n = sql.length;
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
      if (c === "'") {
        const prev = out.toks[out.toks.length - 1];
        if (prev?.type === 'word' && /^x$/i.test(prev.value) && i > 0 && /x/i.test(sql[i - 1]!)) out.blob = true;
        out.strings.push(value);
      } else out.toks.push({ type: 'ident', value, depth });
      i = j;
    } else if (c === '[') {
      const e = sql.indexOf(']', i);
      out.toks.push({ type: 'ident', value: sql.slice(i + 1, e < 0 ? n : e), depth });
      i = e < 0 ? n : e + 1;
    } else if (c === '(') {
      out.toks.push({ type: '(', value: c, depth: depth++ });
      i++;
    } else if (c === ')') {
      out.toks.push({ type: ')', value: c, depth: --depth });
      i++;
    } else if (/[A-Za-z_\u0080-\uffff]/.test(c)) {
      let j = i + 1;
      while (j < n && /[A-Za-z0-9_$\u0080-\uffff]/.test(sql[j]!)) j++;
      out.toks.push({ type: 'word', value: sql.slice(i, j), depth });
      i = j;
    } else {
      if (c.trim()) out.toks.push({ type: 'punct', value: c, depth });
      i++;
    }
  }
  return out;
}

/** The columns an INSERT lists (`INSERT INTO [schema.]t [AS a] (c1, c2)`), lower-cased, with its table's name. */
function insertColumns(toks: Lexed['toks']): { table: string; columns: string[] } | undefined {
  let k = toks.findIndex((t) => t.depth === 0 && t.type === 'word' && t.value.toUpperCase() === 'INTO');
  if (k < 0) return undefined;
  const name = (t: Lexed['toks'][number] | undefined): boolean => t?.type === 'word' || t?.type === 'ident';
  if (!name(toks[++k])) return undefined;
  let table = toks[k]!.value;
  if (toks[k + 1]?.value === '.' && name(toks[k + 2])) table = toks[(k += 2)]!.value;
  k++;
  if (toks[k]?.type === 'word' && toks[k]!.value.toUpperCase() === 'AS') k += 2;
  if (toks[k]?.type !== '(') return undefined;
  const columns: string[] = [];
  for (k++; k < toks.length && toks[k]!.type !== ')'; k++) if (name(toks[k])) columns.push(toks[k]!.value.toLowerCase());
  return { table: table.toLowerCase(), columns };
}

/**
 * Whether an INSERT is a full-text command that deletes index entries or changes the table's
 * configuration: it lists its own table's name as a column, and a value it gives (a string, a
 * bound parameter) is such a command, or may be one (a value computed by a function, `||`, a CAST
 * of a blob, a SELECT: what it yields is not known).
 */
export function ftsCommandInsert(text: string, functions: readonly string[], params: readonly unknown[] | undefined): boolean {
  const lexed = lex(text);
  const target = insertColumns(lexed.toks);
  if (!target || !target.columns.includes(target.table)) return false;
  const words = lexed.toks.filter((t) => t.type === 'word').map((t) => t.value.toUpperCase());
  const computed = functions.length > 0 || lexed.blob || words.includes('SELECT') || words.includes('CAST')
    || lexed.toks.some((t, i) => t.value === '|' && lexed.toks[i + 1]?.value === '|');
  if (computed) return true;
  const bound = (params ?? []).map((p) => (p && typeof p === 'object' && 'value' in p ? (p as { value: unknown }).value : p));
  return [...lexed.strings, ...bound.filter((v): v is string => typeof v === 'string')].some(commandLike);
}
