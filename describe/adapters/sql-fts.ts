// SQLite's full-text tables take commands as INSERTs (fourteenth pass): a column named as the table
// itself is FTS3/4/5's command column, so `INSERT INTO docs_fts(docs_fts) VALUES('delete-all')`
// empties an external-content or contentless FTS5 index (every search on it finds nothing), and
// `INSERT INTO docs_fts(docs_fts, rowid, body) VALUES('delete', 7, '…')` removes one entry; `rank`,
// `secure-delete`, `automerge` … change the table's stored configuration. To the authorizer each is
// an INSERT into the table, like indexing a document. D1 offers FTS5.

import { tokens, type Token } from './sqlite-tokens.ts';

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
  toks: Token[];
  strings: string[];
  /** A blob literal (`x'…'`), which a CAST turns into any text. */
  blob: boolean;
}

function lex(sql: string): Lexed {
  const out: Lexed = { toks: [], strings: [], blob: false };
  out.toks = tokens(sql, 0, false, (value, blob) => {
    out.strings.push(value);
    if (blob) out.blob = true;
  });
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
