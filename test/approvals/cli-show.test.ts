// `airlock approvals show` is what a person reads before `approve` in a terminal: it must name what
// the server will run, not a harmless-looking part of it (issue 17, held-out pass, the CLI side).
import t from 'tap';
import { details } from '../../cli/commands/approvals.ts';

type View = Parameters<typeof details>[0];

function view(request: Record<string, unknown>, extra: Record<string, unknown> = {}): View {
  return {
    id: 'ap_1', status: 'pending', agent: 'bot', risk: 'high', reason: 'writes need a human', created: '2026-01-01T00:00:00Z',
    expires: '2026-01-01T00:01:00Z', retry_until: '2026-01-01T01:00:00Z', summary: { method: 'POST', host: 'api.example', path: '/v1/x' },
    description: {
      request: { method: 'POST', url: 'https://api.example/v1/x', headers: {}, body: { size: 2, sha256: '', content_type: 'application/json', truncated: false, json: {} }, ...request },
      agent: { id: 'bot', labels: {} },
      ...extra,
    },
  } as unknown as View;
}

t.test('a JSON body past 4,000 characters is printed to its end', async (t) => {
  const json = { note: 'x'.repeat(6000), then: 'DROP TABLE users' };
  const out = details(view({ body: { size: 6100, sha256: '', content_type: 'application/json', truncated: false, json } }));
  t.match(out, /DROP TABLE users/);
});

t.test('every call of an MCP batch and its SQL are printed', async (t) => {
  const first = { method: 'tools/call', tool: 'list_tables' };
  const second = { method: 'tools/call', tool: 'execute_sql', sql: { parsed: true, destructive: true, statements: [{ kind: 'drop_table', tables: ['users'], destructive: true }] } };
  const out = details(view({}, { mcp: { ...first, batch: [first, second] } }));
  t.match(out, /execute_sql/);
  t.match(out, /drop_table users/);
});

t.test('a method override and a rewritten path are printed', async (t) => {
  const out = details(view({ method_override: { values: ['DELETE'], sources: ['header:x-http-method-override'], ambiguous: false }, headers: { 'x-original-url': ['/admin/delete-everything'] } }));
  t.match(out, /DELETE/);
  t.match(out, /\/admin\/delete-everything/);
});

t.test('a body servers read in more than one way says the preview is one reading', async (t) => {
  const body = { size: 60, sha256: '', content_type: 'application/json', truncated: false, json: { to: 'b' }, ambiguous: true, ambiguous_reasons: [{ code: 'json_duplicate_key', detail: 'duplicate key "to"' }] };
  t.match(details(view({ body })), /more than one way[\s\S]*duplicate key "to"/);
});
