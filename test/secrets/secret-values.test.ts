// Real secret values are found raw and encoded, and redacted from anything written down.
import t from 'tap';
import { SecretValueIndex, MIN_DETECTABLE_LENGTH } from '../../proxy/secret-values.ts';

const value = 'sk_live_51H8xQ2canary/+value';
const index = new SecretValueIndex([['stripe', value], ['pin', '1234']]);

t.test('found raw and in every encoding an agent might use', async (t) => {
  const b = Buffer.from(value);
  const spellings = {
    raw: `token=${value}`,
    base64: `x ${b.toString('base64')} y`,
    base64url: `/p/${b.toString('base64url')}`,
    shifted_base64: Buffer.concat([Buffer.from('ab'), b]).toString('base64'),
    hex: b.toString('hex').toUpperCase(),
    percent: encodeURIComponent(value),
    percent_all: [...b].map((c) => `%${c.toString(16)}`).join(''),
    json_escaped: `{"v":"${value.replace('/', '\\/')}"}`,
    unicode_escaped: value.split('').map((c) => `\\u00${c.charCodeAt(0).toString(16)}`).join(''),
  };
  for (const [how, text] of Object.entries(spellings)) t.same(index.find(text), ['stripe'], how);
  t.same(index.find('nothing to see here, not even sk_live_51H8xQ2'), [], 'a prefix alone is not the value');
});

t.test(`values shorter than ${MIN_DETECTABLE_LENGTH} are not searched (they would match innocent text)`, async (t) => {
  t.same(index.find('pin=1234 and 12345678'), []);
  t.equal(index.size, 1);
});

t.test('redact replaces every form by the secret name', async (t) => {
  const line = JSON.stringify({ url: `https://x.example/?k=${encodeURIComponent(value)}`, body: Buffer.from(value).toString('base64') });
  const redacted = index.redact(line);
  t.notMatch(redacted, /canary/);
  t.notMatch(redacted, new RegExp(Buffer.from(value).toString('base64').slice(4, 20)));
  t.match(redacted, /\[secret:stripe\]/);
  t.same(JSON.parse(redacted).url, 'https://x.example/?k=[secret:stripe]', 'the line stays valid JSON');
});
