// The docs as a new user follows them: every `airlock …` command line in README.md and docs/ names a
// command that exists, with flags it takes, and every relative link leads to a file (and heading)
// that is there. The commands are checked against the CLI's own definition (commander), in process.
import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import type { Command } from 'commander';
import { buildProgram } from '../../cli/main.ts';

const docs = ['README.md', 'bench/README.md', ...fs.readdirSync('docs').filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];
const program = await buildProgram();

/** Command lines: `airlock …`, `npx airlock …` or `node bin/airlock.js …`, up to the end of the code span, a comment or a pipe. */
function commandLines(text: string): Array<{ line: number; words: string[]; shown: string }> {
  const out: Array<{ line: number; words: string[]; shown: string }> = [];
  text.split('\n').forEach((line, i) => {
    // `a\|b` in a table cell lists alternatives: check the first.
    for (const m of line.replace(/\\\|[a-z|\\-]+/g, '').matchAll(/(?:^|[\s`$(])(?:npx airlock|node bin\/airlock\.js|(?<![\w/.-])airlock) ([a-z][^`#|;&)]*)/g)) {
      out.push({ line: i + 1, words: m[1]!.trim().split(/\s+/), shown: m[0].trim() });
    }
  });
  return out;
}

t.test('every airlock command in the docs exists, with the flags it is given', async (t) => {
  let flags = 0;
  let commands = 0;
  for (const file of docs) {
    for (const { line, words, shown } of commandLines(fs.readFileSync(file, 'utf8'))) {
      let cmd: Command = program;
      let k = 0;
      for (let sub; k < words.length && (sub = cmd.commands.find((c) => c.name() === words[k])); k++) cmd = sub;
      if (cmd === program) continue; // prose: "airlock decides…", "Airlock is…"
      commands++;
      if (cmd.commands.length > 0 && k < words.length && /^[a-z]/.test(words[k]!)) {
        t.fail(`${file}:${line}: "${cmd.name()}" has no subcommand "${words[k]}" (${shown})`);
      }
      for (const w of words.slice(k)) {
        const flag = /^(--?[a-zA-Z][\w-]*[a-zA-Z])/.exec(w.replace(/^[[(]+/, ''))?.[1];
        if (!flag) continue;
        flags++;
        const known = flag === '--help' || flag === '-h' || cmd.options.some((o) => o.long === flag || o.short === flag);
        if (!known) t.fail(`${file}:${line}: airlock ${cmd.name()} has no ${flag} (${shown})`);
      }
    }
  }
  t.ok(commands >= 80 && flags >= 60, `checked ${commands} command lines and ${flags} flags (the pattern still finds them)`);
});

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to '-', repeats numbered. */
function anchors(file: string): Set<string> {
  const seen = new Map<string, number>();
  const out = new Set<string>();
  let fenced = false;
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    if (line.startsWith('```')) fenced = !fenced;
    const m = !fenced && /^#{1,6} (.*)$/.exec(line);
    if (!m) continue;
    const base = m[1]!.replace(/`/g, '').trim().toLowerCase().replace(/[^\p{L}\p{N} _-]/gu, '').replace(/ /g, '-');
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    out.add(n ? `${base}-${n}` : base);
  }
  return out;
}

t.test('every relative link in the docs leads to a file and heading that exist', async (t) => {
  let links = 0;
  for (const file of docs) {
    const text = fs.readFileSync(file, 'utf8');
    for (const m of text.matchAll(/\]\(([^)\s]+)\)/g)) {
      const link = m[1]!;
      if (/^[a-z]+:/i.test(link)) continue;
      links++;
      const [target, fragment] = link.split('#') as [string, string | undefined];
      const to = target ? path.join(path.dirname(file), target) : file;
      const where = `${file}:${text.slice(0, m.index).split('\n').length}`;
      if (!fs.existsSync(to)) {
        t.fail(`${where}: ${link} does not exist`);
        continue;
      }
      if (fragment && to.endsWith('.md') && !anchors(to).has(fragment)) t.fail(`${where}: ${link}: no heading #${fragment} in ${to}`);
    }
  }
  t.ok(links >= 40, `checked ${links} links`);
});

t.test('every config.json key (and nested key) is documented in docs/proxy.md', async (t) => {
  const { configSchema } = await import('../../runtime/config.ts');
  const doc = fs.readFileSync('docs/proxy.md', 'utf8');
  const keys: string[] = [];
  for (const [k, v] of Object.entries(configSchema.properties as Record<string, { properties?: object }>)) {
    keys.push(k, ...Object.keys(v.properties ?? {}));
  }
  for (const k of keys) t.ok(doc.includes(`\`${k}\``), `docs/proxy.md names the config key "${k}"`);
});

t.test('cli/command-list.ts lists exactly the files in cli/commands/ (the bundle cannot read the folder)', async (t) => {
  const { commands } = await import('../../cli/command-list.ts');
  const files = fs.readdirSync('cli/commands').filter((f) => f.endsWith('.ts')).map((f) => f.slice(0, -3)).sort();
  t.same(Object.keys(commands).sort(), files);
  for (const [name, load] of Object.entries(commands)) {
    t.equal(typeof (await load()).register, 'function', `${name} exports register`);
    t.ok(program.commands.some((c) => c.name() === name), `airlock ${name} is a command of the program`);
  }
});

t.test('every config.json example in the docs is a file airlock start accepts', async (t) => {
  const { configSchema, resolveConfig } = await import('../../runtime/config.ts');
  const { parseResolvePins } = await import('../../proxy/destination.ts');
  const keys = new Set(Object.keys(configSchema.properties));
  const home = t.testdir();
  let n = 0;
  for (const file of docs) {
    const text = fs.readFileSync(file, 'utf8');
    for (const m of text.matchAll(/```json\n([\s\S]*?)```/g)) {
      let doc: unknown;
      try { doc = JSON.parse(m[1]!); } catch { continue; } // a fragment of a larger document
      if (!doc || typeof doc !== 'object' || Array.isArray(doc) || !Object.keys(doc).some((k) => keys.has(k))) continue;
      const where = `${file}:${text.slice(0, m.index).split('\n').length}`;
      n++;
      fs.writeFileSync(path.join(home, 'config.json'), JSON.stringify(doc));
      t.doesNotThrow(() => {
        const c = resolveConfig(home, {});
        parseResolvePins(c.resolve);
      }, where);
    }
  }
  t.ok(n >= 1, `checked ${n} config.json examples`);
});
