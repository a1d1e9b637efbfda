// State files that are valid JSON of the wrong shape (a hand edit, a bad restore, another tool):
// each store refuses them at open with the file named and what is wrong, never a raw TypeError
// later, never a silent "empty" (an agent list or a TOTP enrolment read as none), and never
// overwrites them.
import fs from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import t from 'tap';
import { AgentStore } from '../../state/agents.ts';
import { StateFileError } from '../../state/document.ts';
import { RateLimiter } from '../../state/ratelimit.ts';
import { JournalSessionStore } from '../../state/sessions.ts';
import { TotpStore } from '../../state/totp.ts';
import { VersionStore } from '../../studio/versions.ts';
import { tempDir } from './helpers.ts';

interface Case {
  file: string;
  /** A document of the right shape: each member path below is replaced by a value of the wrong type. */
  good: unknown;
  /** Member paths, and a predicate for values that are still of the right shape there (undefined: the member left out, which a top-level member's default fills). */
  members: Array<{ at: Array<string | number>; fits: (v: unknown) => boolean }>;
  open: (home: string) => Promise<unknown>;
  /** Text to write instead of JSON (a journal is lines). */
  text?: (doc: unknown) => string;
}

const isObj = (v: unknown): boolean => !!v && typeof v === 'object' && !Array.isArray(v);
const isStr = (v: unknown): boolean => typeof v === 'string';
const token = { id: 't1', hash: 'ab'.repeat(32), created: '2026-01-01T00:00:00Z' };
const bucket = { key: 'k', unit: 'requests', limit: 10, window_ms: 1000, tokens: 5, updated: 1 };
const version = { version: 'v1', published: '2026-01-01T00:00:00Z', files: ['a.rego'] };

const cases: Case[] = [
  {
    file: 'agents.json',
    good: { version: 1, agents: { bot: { name: 'bot', labels: { team: 'x' }, created: '2026-01-01T00:00:00Z', tokens: [token] } } },
    members: [
      { at: ['agents'], fits: (v) => v === undefined || (isObj(v) && Object.values(v as object).length === 0) },
      { at: ['agents', 'bot'], fits: (v) => v === undefined },
      { at: ['agents', 'bot', 'name'], fits: isStr },
      { at: ['agents', 'bot', 'tokens'], fits: (v) => Array.isArray(v) && v.length === 0 },
      { at: ['agents', 'bot', 'labels'], fits: (v) => v === undefined || (isObj(v) && Object.values(v as object).every(isStr)) },
      { at: ['agents', 'bot', 'tokens', 0, 'hash'], fits: isStr },
      { at: ['agents', 'bot', 'tokens', 0, 'secrets'], fits: (v) => v === undefined || (Array.isArray(v) && v.every(isStr)) },
    ],
    open: (home) => AgentStore.open(home),
  },
  {
    file: 'ratelimits.json',
    good: { version: 1, buckets: { 'requests:k': bucket } },
    members: [
      { at: ['buckets'], fits: (v) => v === undefined || (isObj(v) && Object.values(v as object).length === 0) },
      { at: ['buckets', 'requests:k', 'tokens'], fits: (v) => Number.isFinite(v) },
      { at: ['buckets', 'requests:k', 'updated'], fits: (v) => Number.isFinite(v) },
    ],
    open: (home) => RateLimiter.open(home),
  },
  {
    file: 'policy-versions.json',
    good: { current: 'v1', history: [version] },
    members: [
      { at: ['current'], fits: (v) => v === undefined || v === null || isStr(v) },
      { at: ['history'], fits: (v) => v === undefined || (Array.isArray(v) && v.length === 0) },
      { at: ['history', 0, 'files'], fits: Array.isArray },
    ],
    open: (home) => VersionStore.open(home),
  },
  {
    file: 'totp.json',
    good: { version: 1, secret: 'JBSWY3DPEHPK3PXP', label: 'approver', last_counter: 5 },
    members: [
      { at: ['secret'], fits: (v) => v === undefined || (isStr(v) && /^[A-Z2-7]+=*$/i.test(v as string)) },
      { at: ['last_counter'], fits: (v) => v === undefined || Number.isSafeInteger(v) },
    ],
    open: async (home) => new TotpStore(home).enrolled(),
  },
  {
    file: 'sessions.jsonl',
    good: [
      { e: 'open', id: 's1', agent: 'bot', token: 't1', time: '2026-01-01T00:00:00Z' },
      { e: 'label', id: 's1', label: 'private', request_id: 'r1', host: 'h', time: '2026-01-01T00:00:01Z' },
      { e: 'links', id: 's1', r: 'r1', h: 'h', u: ['https://h/a'] },
    ],
    members: [
      { at: [0], fits: (v) => v === undefined }, // an empty line
      { at: [1, 'label'], fits: isStr },
      { at: [2, 'u'], fits: (v) => Array.isArray(v) && v.every(isStr) },
      { at: [1, 'e'], fits: (v) => ['open', 'label', 'count', 'links', 'clear', 'reset', 'req'].includes(v as string) },
    ],
    open: async (home) => JournalSessionStore.open(home).close(),
    text: (doc) => `${(doc as unknown[]).map((l) => JSON.stringify(l)).join('\n')}\n`,
  },
];

function replaced(doc: unknown, at: Array<string | number>, value: unknown): unknown {
  const copy = structuredClone(doc) as Record<string | number, unknown>;
  let parent = copy;
  for (const k of at.slice(0, -1)) parent = parent[k] as Record<string | number, unknown>;
  const last = at[at.length - 1]!;
  if (value === undefined) delete parent[last];
  else parent[last] = value;
  return copy;
}

for (const c of cases) {
  t.test(`${c.file}: valid JSON of the wrong shape is refused by name and left as it was`, async (t) => {
    const home = tempDir(t);
    const file = path.join(home, c.file);
    const write = (doc: unknown): string => {
      const text = c.text ? c.text(doc) : JSON.stringify(doc);
      fs.writeFileSync(file, text);
      return text;
    };
    write(c.good);
    await c.open(home); // the right shape opens
    let refused = 0;
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...c.members), fc.oneof(fc.jsonValue({ maxDepth: 2 }), fc.constant(undefined)), async (member, value) => {
        fc.pre(!member.fits(value));
        const text = write(replaced(c.good, member.at, value));
        const err = await c.open(home).then(() => undefined, (e: Error) => e);
        if (!(err instanceof StateFileError)) throw new Error(`${c.file} ${JSON.stringify(member.at)} = ${JSON.stringify(value)}: ${err ? `raw error: ${err.message}` : 'opened as if nothing were wrong'}`);
        if (!err.message.includes(file) || !/unreadable \(.+\)/.test(err.message)) throw new Error(`message does not name the file and the problem: ${err.message}`);
        if (fs.readFileSync(file, 'utf8') !== text) throw new Error(`${c.file} was rewritten after it was refused`);
        refused++;
      }),
      { numRuns: 40, seed: 2026_12_05 },
    );
    t.ok(refused > 0, `${refused} wrong shapes refused`);
  });
}
