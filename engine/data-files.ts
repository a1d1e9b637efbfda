// The policy's data files (.json, .yaml, .yml anywhere in the folder: `opa build` loads them all)
// checked the way OPA will read them, with the problem's file:line:col. `opa check` does not look at
// data files, so without this a broken data.json "compiles" until publish or start fails.
//
// Whether JSON is valid is JSON.parse's answer; where it is wrong is found by locateJsonError, a
// small scanner of the RFC 8259 grammar (V8's messages do not always carry a position). YAML
// problems come with their positions from the `yaml` library (the one traffic tests use).
import fs from 'node:fs';
import path from 'node:path';
import { lazyPackage } from '../lib/lazy-package.ts';
import type { PolicyProblem } from './problem.ts';

/** The `yaml` package, loaded by the policy's first YAML data file (lib/lazy-package.ts). */
const yaml = lazyPackage<typeof import('yaml')>('yaml');

const dataExt = new Set(['.json', '.yaml', '.yml']);

export function isDataFile(rel: string): boolean {
  return dataExt.has(path.extname(rel).toLowerCase());
}

class Located extends Error {
  constructor(readonly offset: number, message: string) {
    super(message);
  }
}

function describeChar(text: string, i: number): string {
  if (i >= text.length) return 'the end of the file';
  const c = text.codePointAt(i)!;
  return c < 0x20 || c === 0x7f || c === 0xfeff || c > 0x7e ? `character U+${c.toString(16).toUpperCase().padStart(4, '0')}` : `"${String.fromCodePoint(c)}"`;
}

/** Where JSON text stops being JSON (offset into `text`, and why), or undefined when it is JSON. Iterative: no depth limit. */
export function locateJsonError(text: string): { offset: number; message: string } | undefined {
  let i = 0;
  const n = text.length;
  const ws = (): void => {
    while (i < n) {
      const c = text.charCodeAt(i);
      if (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d) i++;
      else break;
    }
  };
  const fail = (message: string, at = i): never => {
    throw new Located(at, message);
  };
  const string = (): void => {
    const start = i++;
    for (;;) {
      if (i >= n) fail('unterminated string', start);
      const c = text.charCodeAt(i);
      if (c === 0x22) {
        i++;
        return;
      }
      if (c < 0x20) fail(`${describeChar(text, i)} must be escaped inside a string`);
      if (c === 0x5c) {
        const e = text[i + 1];
        if (e === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) fail('\\u must be followed by 4 hex digits');
          i += 6;
        } else if (e !== undefined && '"\\/bfnrt'.includes(e)) i += 2;
        else fail(`invalid escape \\${e ?? ''}`);
      } else i++;
    }
  };
  const scalar = (): void => {
    const c = text[i];
    if (c === '"') return string();
    for (const lit of ['true', 'false', 'null']) {
      if (text.startsWith(lit, i)) {
        i += lit.length;
        return;
      }
    }
    const m = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/y;
    m.lastIndex = i;
    if ((c === '-' || (c !== undefined && c >= '0' && c <= '9')) && m.exec(text)) {
      i = m.lastIndex;
      return;
    }
    fail(c === "'" ? 'strings use double quotes in JSON' : `expected a value, found ${describeChar(text, i)}`);
  };
  // The stack holds open containers; after each value we look for , or the closing bracket.
  const stack: Array<'{' | '['> = [];
  try {
    ws();
    if (i >= n) fail('the file is empty: a JSON value (an object) is expected');
    for (;;) {
      // A value starts here.
      ws();
      const c = text[i];
      if (c === '{' || c === '[') {
        stack.push(c);
        i++;
        ws();
        if (text[i] === (c === '{' ? '}' : ']')) {
          i++;
          stack.pop();
        } else if (c === '{') {
          if (text[i] !== '"') fail(text[i] === '}' ? 'unexpected "}"' : `expected a "quoted" key, found ${describeChar(text, i)}`);
          string();
          ws();
          if (text[i] !== ':') fail(`expected ":" after the key, found ${describeChar(text, i)}`);
          i++;
          continue;
        } else continue;
      } else scalar();
      // After a value: close containers or take the next member.
      for (;;) {
        ws();
        const top = stack[stack.length - 1];
        if (!top) {
          if (i < n) fail(`unexpected ${describeChar(text, i)} after the end of the JSON value`);
          return undefined;
        }
        const close = top === '{' ? '}' : ']';
        if (text[i] === close) {
          i++;
          stack.pop();
          continue;
        }
        if (text[i] !== ',') fail(`expected "," or "${close}", found ${describeChar(text, i)}`);
        i++;
        ws();
        if (text[i] === '}' || text[i] === ']') fail(`a trailing comma is not allowed in JSON`, i - 1);
        if (top === '{') {
          if (text[i] !== '"') fail(`expected a "quoted" key, found ${describeChar(text, i)}`);
          string();
          ws();
          if (text[i] !== ':') fail(`expected ":" after the key, found ${describeChar(text, i)}`);
          i++;
        }
        break;
      }
    }
  } catch (err) {
    if (err instanceof Located) return { offset: Math.min(err.offset, n), message: err.message };
    throw err;
  }
}

/**
 * 1-based line and column of an offset (UTF-16, as JavaScript indexes text). The column counts code
 * points, as OPA counts its own (an emoji is one): one convention for every problem of a draft, so
 * the studio's editor places each at the same character (studio/app/policy-view.ts).
 */
export function lineCol(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let start = 0;
  const end = Math.min(offset, text.length);
  for (let i = 0; i < end; i++) {
    if (text.charCodeAt(i) === 0x0a) {
      line++;
      start = i + 1;
    }
  }
  let column = 1;
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c < 0xdc00 || c > 0xdfff || i === start || (text.charCodeAt(i - 1) & 0xfc00) !== 0xd800) column++;
  }
  return { line, column: column + Math.max(0, offset - end) };
}

/** The problems of one data file's text (empty when OPA can load it). */
export function dataFileProblems(rel: string, text: string): PolicyProblem[] {
  const ext = path.extname(rel).toLowerCase();
  if (ext === '.json') {
    try {
      JSON.parse(text);
      return [];
    } catch (err) {
      const found = locateJsonError(text);
      const v8 = /at position (\d+)/.exec((err as Error).message);
      const offset = found?.offset ?? (v8 ? Number(v8[1]) : 0);
      const { line, column } = lineCol(text, offset);
      return [{ file: rel, line, column, message: `invalid JSON: ${found?.message ?? (err as Error).message}` }];
    }
  }
  if (ext === '.yaml' || ext === '.yml') {
    const doc = yaml().parseDocument(text, { prettyErrors: true });
    return doc.errors.map((e) => ({
      file: rel,
      ...(e.pos?.[0] !== undefined ? lineCol(text, e.pos[0]) : { line: e.linePos?.[0].line ?? 1, column: e.linePos?.[0].col ?? 1 }),
      // (its own "at line L, column C" counts UTF-16 units: the problem's place says where it is)
      message: `invalid YAML: ${e.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '')}`,
    }));
  }
  return [];
}

/** Every data file of a policy folder, checked (`files`: relative paths, as listPolicyFiles gives them). */
export function checkDataFiles(dir: string, files: string[]): PolicyProblem[] {
  const out: PolicyProblem[] = [];
  for (const rel of files) {
    if (!isDataFile(rel)) continue;
    let text: string;
    try {
      text = fs.readFileSync(path.join(dir, rel), 'utf8');
    } catch (err) {
      out.push({ file: rel, line: 0, column: 0, message: `cannot read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}` });
      continue;
    }
    out.push(...dataFileProblems(rel.split(path.sep).join('/'), text));
  }
  return out;
}
