// Properties of recognize() over hostile input: it never throws, every service it reports has a
// contract effect and an operation, and SQL it could not parse is always marked destructive.
import t from 'tap';
import fc from 'fast-check';
import { adapters, loadAdapters, recognize } from '../../describe/adapters/index.ts';
import { requestOf } from './helpers.ts';

await loadAdapters();

const hosts = [
  'api.github.com', 'github.com', 'uploads.github.com', 'api.stripe.com', 'gmail.googleapis.com', 'www.googleapis.com',
  'slack.com', 'hooks.slack.com', 'abcd.supabase.co', 'api.supabase.com', 'ep-x.neon.tech', 'console.neon.tech',
  'api.cloudflare.com', 'api.openai.com', 'api.anthropic.com', 'db.example.com',
];
const effects = new Set(['read', 'write', 'delete', 'send', 'pay', 'admin']);
const segment = fc.oneof(
  fc.constantFrom('repos', 'v1', 'gmail', 'users', 'me', 'messages', 'send', 'api', 'rest', 'rpc', 'pg', 'query', 'sql', 'git', 'refs', 'info', 'graphql', 'client', 'v4', 'zones', 'contents', '..', '.', '%2F', '%00', 'git-receive-pack', 'chat.postMessage'),
  fc.string({ maxLength: 12 }).map(encodeURIComponent),
);
const body = fc.oneof(
  fc.constant(undefined),
  fc.record({ query: fc.oneof(fc.string(), fc.constantFrom('DROP TABLE x', 'select 1', 'mutation { deleteRepository(input: {}) { x } }')) }),
  fc.record({ sql: fc.string() }),
  fc.record({ queries: fc.array(fc.record({ query: fc.string() }), { maxLength: 3 }) }),
  fc.record({ tools: fc.array(fc.record({ type: fc.string() }), { maxLength: 3 }), mcp_servers: fc.anything() }),
  fc.jsonValue(),
);

t.test('recognize never throws and reports only contract effects', async (t) => {
  let services = 0;
  fc.assert(
    fc.property(
      fc.constantFrom('GET', 'HEAD', 'OPTIONS', 'POST', 'PUT', 'PATCH', 'DELETE', 'PURGE', 'PROPFIND'),
      fc.constantFrom(...hosts),
      fc.array(segment, { maxLength: 8 }),
      fc.string({ maxLength: 20 }),
      body,
      (method, host, segs, query, json) => {
        const url = `https://${host}/${segs.join('/')}?${encodeURIComponent(query)}=1&service=git-receive-pack`;
        const r = recognize(requestOf({ method, url, json }));
        if (r.service) {
          services++;
          if (!effects.has(r.service.effect)) throw new Error(`bad effect ${r.service.effect} for ${method} ${url}`);
          if (typeof r.service.operation !== 'string' || !r.service.operation) throw new Error('no operation');
        }
        if (r.sql && !r.sql.parsed && !r.sql.destructive) throw new Error('unparsed SQL must be destructive');
      },
    ),
    { numRuns: 1500, seed: 10 },
  );
  t.ok(services > 500, `services recognized in ${services} runs`);
});

t.test('every adapter is listed once, with git (any host) last', async (t) => {
  const names = adapters.map((a) => a.name);
  t.equal(new Set(names).size, names.length);
  t.equal(names.at(-1), 'git');
});

t.test('a Gmail batch is its most dangerous call; a call it cannot read makes it admin', async (t) => {
  const rank: Record<string, number> = { read: 0, write: 1, send: 2, delete: 3, pay: 3, admin: 3 };
  const calls = [
    'GET /gmail/v1/users/me/messages/18c', 'GET /gmail/v1/users/me/threads?q=x', 'POST /gmail/v1/users/me/messages/18c/trash',
    'POST /gmail/v1/users/me/messages/send', 'DELETE /gmail/v1/users/me/messages/18c', 'PUT /gmail/v1/users/me/settings/autoForwarding',
    'POST /gmail/v1/users/me/drafts', 'PATCH /gmail/v1/users/me/labels/L1',
  ];
  // Calls that cannot be read one way: an override, a dot segment, an escaped slash, another API, an absolute target.
  const unreadable = [
    'POST /gmail/v1/users/me/messages/18c\r\nX-HTTP-Method-Override: DELETE', 'GET /gmail/v1/users/me/messages/%2e%2e/send',
    'GET /gmail/v1/users/me/messages/a%2Fb', 'GET /drive/v3/files', 'GET https://gmail.googleapis.com/gmail/v1/users/me/profile',
    'GET /gmail/v1/users/me/messages/18c?_method=DELETE',
  ];
  const batch = (lines: string[], eol: string): string =>
    `${lines.map((l) => `--b${eol}Content-Type: application/http${eol}${eol}${l.replaceAll('\r\n', eol)}${eol}${eol}`).join('')}--b--${eol}`;
  fc.assert(
    fc.property(fc.array(fc.constantFrom(...calls), { minLength: 1, maxLength: 6 }), fc.option(fc.constantFrom(...unreadable)), fc.nat(6), fc.constantFrom('\r\n', '\n'), (lines, bad, at, eol) => {
      const all = bad === null ? lines : [...lines.slice(0, at), bad, ...lines.slice(at)];
      const r = recognize(requestOf({ method: 'POST', url: 'https://gmail.googleapis.com/batch/gmail/v1', text: batch(all, eol), contentType: 'multipart/mixed; boundary=b' }));
      if (bad !== null) return r.service?.effect === 'admin';
      const worst = Math.max(...lines.map((l) => {
        const [method, target] = l.split(' ');
        return rank[recognize(requestOf({ method: method!, url: `https://gmail.googleapis.com${target}` })).service!.effect]!;
      }));
      return r.service?.operation === 'batch' && rank[r.service.effect] === worst;
    }),
    { numRuns: 300 },
  );
});
