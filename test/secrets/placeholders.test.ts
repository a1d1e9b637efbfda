// The placeholder finder: raw and encoded placeholders found, nothing else reported.
import t from 'tap';
import { PlaceholderIndex, base64Cores } from '../../describe/placeholders.ts';
import { describeRequest } from '../../describe/describe.ts';

const GH = 'airlock-ph-github-0123456789abcdef0123456789abcdef';
const DB = 'airlock-ph-db-prod-fedcba9876543210fedcba9876543210';
const index = new PlaceholderIndex([['github', GH], ['db-prod', DB]]);

t.test('raw placeholders in any text', async (t) => {
  t.same(index.find(`Bearer ${GH}`), ['github']);
  t.same(index.find(`token=${GH}&x=${DB}`).sort(), ['db-prod', 'github']);
  t.same(index.find(`https://${GH}.evil.example/`), ['github'], 'followed by more name-like characters');
  t.same(index.find('no placeholder here'), []);
  t.same(index.find('airlock-ph-github-0123456789abcdef0123456789abcde'), [], 'truncated placeholder is not a match');
  t.same(index.find('airlock-ph-github-ffffffffffffffffffffffffffffffff'), [], 'a guessed random part is not a match');
  t.same(new PlaceholderIndex([]).find(GH), []);
});

t.test('encoded placeholders: base64, base64url at every alignment, hex any case, percent-encoding', async (t) => {
  for (const pre of ['', 'x', 'xy', 'xyz', 'user:']) {
    const bytes = Buffer.from(`${pre}${GH}:tail`);
    t.same(index.find(`Basic ${bytes.toString('base64')}`), ['github'], `base64 after ${pre.length} bytes`);
    t.same(index.find(bytes.toString('base64url')), ['github'], `base64url after ${pre.length} bytes`);
  }
  const hex = Buffer.from(GH).toString('hex');
  t.same(index.find(hex), ['github']);
  t.same(index.find(hex.toUpperCase()), ['github']);
  const pctAll = [...Buffer.from(GH)].map((b) => `%${b.toString(16)}`).join('');
  t.same(index.find(`q=${pctAll}`), ['github']);
  t.same(index.find(`q=${pctAll.toUpperCase()}`), ['github']);
  t.same(index.find(`q=${GH.replace(/-/g, '%2D')}`), ['github'], 'some characters encoded');
  t.same(index.find(Buffer.from('airlock-ph-unknown-0000').toString('base64')), [], 'encoded prefix alone is not a match');
});

t.test('base64Cores cover the placeholder whatever surrounds it', async (t) => {
  const bytes = Buffer.from(GH);
  const cores = base64Cores(bytes);
  t.equal(cores.length, 3);
  for (let pre = 0; pre < 6; pre++) {
    for (let post = 0; post < 4; post++) {
      const enc = Buffer.concat([Buffer.alloc(pre, 7), bytes, Buffer.alloc(post, 9)]).toString('base64');
      t.ok(cores.some((c) => enc.includes(c)), `pre ${pre} post ${post}`);
    }
  }
});

t.test('substitute replaces only the named secrets', async (t) => {
  const values = new Map([['github', 'REAL']]);
  const r = index.substitute(`a ${GH} b ${DB} c ${GH}`, values);
  t.equal(r.text, `a REAL b ${DB} c REAL`);
  t.same([...r.replaced], ['github']);
  t.equal(index.substitute('plain', values).text, 'plain');
  t.same(index.locate(`${GH}${DB}`), [[0, GH.length, 'github'], [GH.length, GH.length + DB.length, 'db-prod']]);
});

t.test('describeRequest reports placeholders and where they are', async (t) => {
  const d = describeRequest({
    method: 'POST',
    url: `https://api.example.com/repos/${GH}/x?token=${encodeURIComponent(DB)}`,
    headers: [['Authorization', `Bearer ${GH}`], ['Content-Type', 'application/json']],
    body: Buffer.from(JSON.stringify({ note: Buffer.from(DB).toString('base64') })),
    bodyTruncated: false,
  }, { agent: { id: 'a', labels: {} }, placeholders: index });
  const byName = Object.fromEntries(d.placeholders.map((p) => [p.name, [...p.where].sort()]));
  t.same(byName, { github: ['header', 'path'], 'db-prod': ['body', 'query'] });
});

t.test('placeholders hidden with JSON/JS escapes', async (t) => {
  const uAll = [...GH].map((c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`).join('');
  t.same(index.find(JSON.stringify({ note: 'x' }).replace('x', uAll)), ['github'], 'every character \\u-escaped');
  t.same(index.find(`{"a":"${GH.replace(/-/g, '\\u002D')}"}`), ['github'], 'some characters \\u-escaped, upper-case hex');
  t.same(index.find(`'${GH.replace(/a/g, '\\x61')}'`), ['github'], '\\x escapes');
  t.same(index.find('{"a":"\\u0061irlock"}'), [], 'an escaped word is not a placeholder');
});
