// One secret name everywhere: every secret name the docs, the README, the CLI's hints and the
// studio's hints show a user must be one the default policy binds (rego/config/data.json), so
// following them never ends in a 403 for a name nobody injects.
import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';

const config = JSON.parse(fs.readFileSync('rego/config/data.json', 'utf8')) as { services: Record<string, Record<string, unknown>> };
const bound = new Set<string>();
for (const svc of Object.values(config.services)) {
  for (const [k, v] of Object.entries(svc)) if (/secret$/.test(k) && typeof v === 'string') bound.add(v);
}
// Placeholders for "any name" in command synopses.
const generic = new Set(['NAME', 'S', 'name', '<name>']);

const patterns: RegExp[] = [
  /secret (?:set|placeholder|rm) ([A-Za-z0-9_.-]+)/g,
  /--secret ([A-Za-z0-9_.-]+)/g,
  /\{\{placeholder:([A-Za-z0-9_.-]+)\}\}/g,
  /airlock-ph-([A-Za-z0-9_.]+(?:-[A-Za-z0-9_.]+)*?)-(?:[0-9a-f…]|\.\.\.)/g,
  /"secret": ?"([^"]+)"/g,
  /"name": "([A-Za-z0-9_.-]+)", "where"/g,
  /secretEnvironment\(home, \{ ([A-Za-z0-9_]+)/g,
  /placeholderFor\(home, '([^']+)'\)/g,
  /Set a secret value[\s\S]*?<input name="name"[^>]*placeholder="([^"]+)"/g,
];

function files(dir: string, ext: RegExp): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? files(p, ext) : ext.test(e.name) ? [p] : [];
  });
}

const sources = ['README.md', ...files('docs', /\.md$/), ...files('cli', /\.ts$/), ...files('studio/app', /\.ts$/), ...files('describe', /\.ts$/), ...files('proxy', /\.ts$/), ...files('sandbox', /\.ts$/)];

t.test('the default policy binds a known set of secrets', async (t) => {
  t.ok(bound.has('github_token') && bound.has('openai_api_key'), [...bound].join(', '));
});

t.test('every secret name shown to users is one the default policy binds', async (t) => {
  let seen = 0;
  for (const file of sources) {
    const text = fs.readFileSync(file, 'utf8');
    for (const re of patterns) {
      for (const m of text.matchAll(re)) {
        const name = m[1]!.replace(/=.*$/, '');
        if (generic.has(name) || /[[\]]/.test(name)) continue;
        seen++;
        const line = text.slice(0, m.index).split('\n').length;
        t.ok(bound.has(name), `${file}:${line}: "${name}" is a secret the default policy binds (${m[0].slice(0, 80)})`);
      }
    }
  }
  t.ok(seen >= 10, `found ${seen} secret names to check (the patterns still match the docs)`);
});
