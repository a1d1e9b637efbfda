// `airlock approvals show` is what a person reads before `approve` in a terminal: it must name what
// the server will run, not a harmless-looking part of it (issue 17, held-out pass, the CLI side).
import fc from 'fast-check';
import t from 'tap';
import { details, heldUnseen, listText } from '../../cli/commands/approvals.ts';
import { bodyVisibility } from '../../state/approval-body.ts';
import { formatExplanation } from '../../engine/explain.ts';
import { grantScopeText } from '../../studio/app/grant-scope.ts';

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

t.test('the query is printed as servers read it: escapes undone, and split at ";" as Rack 2 does (fourteenth pass)', async (t) => {
  const out = details(view({ url: 'https://api.example/v1/send?to=boss@corp.example;to=%64rop@attacker.example' }));
  t.match(out, /^query +to = boss@corp\.example;to=drop@attacker\.example$/m);
  t.match(out, /^rack query to = boss@corp\.example, to = drop@attacker\.example \(Rack 2/m);
  t.notMatch(details(view({ url: 'https://api.example/v1/send?to=boss@corp.example' })), /^(?:rack )?query /m, 'a plain query is the request line alone');
  t.match(details(view({ url: 'https://api.example/v1/send?to=%u0064rop@attacker.example' })), /^iis query +to = drop@attacker\.example \(classic ASP\.NET/m, '%u undone as IIS does');
  const payload = Buffer.from('{"to": "drop@attacker.example"}').toString('base64url');
  t.match(details(view({ url: `https://api.example/v1/send?payload=${payload}`, query: { payload: [payload] } })), /the query as the server reads it \(base64 values decoded\):\n── \.payload\[0\]: base64, decoded\n\{"to": "drop@attacker\.example"\}/, 'a base64 query value is printed decoded');
});

t.test('the query is printed with the names PHP and ASP.NET register its parameters under, and the value each uses (fifteenth pass)', async (t) => {
  // PHP reads `mail.to` (and ` mail to`, `mail to`) as `mail_to` and uses the last; the card read two parameters.
  const php = details(view({ url: 'https://api.example/v1/send?mail_to=boss@corp.example&mail.to=drop@attacker.example' }));
  t.match(php, /^php query +mail_to = drop@attacker\.example \(PHP/m);
  t.match(details(view({ url: 'https://api.example/v1/send?to=boss@corp.example&%20to=drop@attacker.example' })), /^php query +to = drop@attacker\.example /m, 'a blank before the name is dropped');
  t.match(details(view({ url: 'https://api.example/v1/send?to=boss@corp.example&to[]=drop@attacker.example' })), /^php query +to\[\] = drop@attacker\.example /m, 'an array under the name replaces its value');
  t.match(details(view({ url: 'https://api.example/v1/send?to=boss@corp.example&[to]=drop@attacker.example' })), /^rack names to = drop@attacker\.example \(Rack 2/m, 'Rack 2 drops the brackets around a name');
  t.match(details(view({ url: 'https://api.example/v1/send?to=boss@corp.example&TO=drop@attacker.example' })), /^asp query +to = boss@corp\.example,drop@attacker\.example \(ASP\.NET/m, 'ASP.NET reads names in any case as one');
  const plain = details(view({ url: 'https://api.example/v1/send?expand[]=a&expand[]=b&to=boss@corp.example&to=cfo@corp.example' }));
  t.notMatch(plain, /php query|asp query/, 'names every server reads as sent add no line');
  const fc = (await import('fast-check')).default;
  const spelling = fc.tuple(fc.nat({ max: 2 }), fc.constantFrom('_', '.', ' '), fc.boolean()).map(([blanks, sep, nul]) => `${' '.repeat(blanks)}mail${sep}to${nul ? '\0x' : ''}`);
  fc.assert(
    fc.property(spelling, spelling, (first, second) => {
      const search = new URLSearchParams([[first, 'boss@corp.example'], [second, 'drop@attacker.example']]).toString();
      const out = details(view({ url: `https://api.example/v1/send?${search}` }));
      if (first === 'mail_to' && second === 'mail_to') return !/php query/.test(out);
      return /^php query +mail_to = drop@attacker\.example \(PHP/m.test(out);
    }),
    { numRuns: 60 },
  );
});

t.test('the page\'s copy of PHP\'s name mangling gives the answer describe/ gives, for any name', async (t) => {
  const { phpName: described } = await import('../../describe/body.ts');
  const { phpName: onPage } = await import('../../studio/app/param-names.ts');
  const piece = fc.constantFrom(' ', '.', '[', ']', '\0', '_', 'a', 'to', 'x');
  fc.assert(fc.property(fc.array(piece, { maxLength: 12 }).map((p) => p.join('')), (name) => described(name) === onPage(name)), { numRuns: 300 });
  t.equal(described('a[b.c d[e'), 'a_b_c_d_e', 'PHP 8: what follows an unclosed [ is mangled too');
});

t.test('a kept form whose field names PHP or ASP.NET read as one is not the body shown whole: the order sent decides the value (fifteenth pass)', async (t) => {
  const form = (f: Record<string, string[]>) => ({ size: 60, sha256: '', content_type: 'application/x-www-form-urlencoded', truncated: false, form: f });
  const fc = (await import('fast-check')).default;
  // Another spelling of `mail_to` beside it: a blank before, `.` or a blank inside, a NUL after, another case, an array of it.
  const php = fc.tuple(fc.nat({ max: 2 }), fc.constantFrom('_', '.', ' '), fc.constantFrom('', '\0x', '[]', '[0]'))
    .map(([blanks, sep, tail]) => `${' '.repeat(blanks)}mail${sep}to${tail}`);
  const asp = fc.array(fc.boolean(), { minLength: 7, maxLength: 7 }).map((up) => [...'mail_to'].map((c, i) => (up[i] ? c.toUpperCase() : c)).join(''));
  const rack = fc.tuple(fc.constantFrom('', '[', ']', '[['), fc.constantFrom('', ']', ']]')).map(([a, b]) => `${a}mail_to${b}`);
  const spelling = fc.oneof(php, asp, rack).filter((n) => n !== 'mail_to');
  fc.assert(
    fc.property(spelling, fc.boolean(), (other, first) => {
      const f = first ? { mail_to: ['boss@corp.example'], [other]: ['drop@attacker.example'] } : { [other]: ['drop@attacker.example'], mail_to: ['boss@corp.example'] };
      const b = form(f);
      const out = details(view({ body: b }));
      return bodyVisibility(b) === 'partial' && /^warning +the kept copy of this form groups its fields by name, while PHP, Rack 2 or ASP\.NET read .* as one field .*approving it needs --accept-unseen-body/m.test(out);
    }),
    { numRuns: 60 },
  );
  const controls: Array<Record<string, string[]>> = [{ 'user[name]': ['a'], 'user[email]': ['b'] }, { 'ids[]': ['1', '2'], limit: ['3'] }, { to: ['boss@corp.example', 'cfo@corp.example'] }, { mail_to: ['a'], subject: ['b'] }];
  for (const f of controls) {
    t.equal(bodyVisibility(form(f)), 'whole', `${JSON.stringify(f)}: every server reads these names as sent`);
  }
});

t.test('a parameter the server may read from a cookie is printed, and approving it needs --accept-unseen-body (fifteenth pass)', async (t) => {
  const out = details(view({ url: 'https://api.example/v1/send?to=boss@corp.example', headers: { cookie: ['[redacted]'] }, cookie_params: ['to'] }));
  t.match(out, /^reads +to from a cookie, maybe \(PHP's \$_REQUEST/m);
  t.match(out, /^warning +the request carries a cookie named like its parameter "to".*approving it needs --accept-unseen-body/m);
  t.notMatch(details(view({ url: 'https://api.example/v1/send?to=boss@corp.example', headers: { cookie: ['[redacted]'] } })), /from a cookie/, 'no such cookie, no line');
});

t.test('each cookie is named, and while held the values of those not named as a session are printed (sixteenth pass)', async (t) => {
  const r = { url: 'https://api.example/v1/report', headers: { cookie: ['session=[redacted]; org=[redacted]'] } };
  const held = details({ ...view(r), held: true, held_cookies: [['org', 'acct_1Attacker']] } as View);
  t.match(held, /^header +cookie: session=\[redacted\]; org=\[redacted\]$/m);
  t.match(held, /^cookies +org=acct_1Attacker \(values while held/m);
  t.notMatch(details(view(r)), /^cookies/m, 'none once the hold ended');
});

t.test('cookie values a card cannot show make approving need --accept-unseen-body: the hold ended, or past the values shown (eighteenth pass)', async (t) => {
  const r = { url: 'https://api.example/v1/report', headers: { cookie: ['session=[redacted]; account_id=[redacted]'] } };
  // Airlock stopped (the record alone): no value was ever shown.
  t.match(details(view(r)), /^warning +the request carries cookies \("account_id"\) whose values.*approving it needs --accept-unseen-body/m);
  // Running: the studio's view says why, or nothing when every value is shown.
  t.match(details({ ...view(r), held: false, cookies_unseen: 'the request carries cookies ("account_id") whose values …' } as View), /^warning +the request carries cookies \("account_id"\)/m);
  t.notMatch(details({ ...view(r), held: true, held_cookies: [['account_id', 'acct_1Mine']] } as View), /^warning/m, 'every value shown while held: no warning');
  t.notMatch(details(view({ url: 'https://api.example/v1/report', headers: { cookie: ['session=[redacted]; auth_token=[redacted]'] } })), /^warning/m, 'cookies named as a session or credential are never shown: no warning');
});

t.test('a held binary body, which the terminal does not print, is not approved from it unseen (fifteenth pass)', async (t) => {
  const held = { size: 3, captured: 3, truncated: false, content_type: 'application/octet-stream', sha256: 'x', base64: 'AAEC' };
  const out = details({ ...view({ body: { size: 3, sha256: 'x', content_type: 'application/octet-stream', truncated: false } }), held: true } as View, held);
  t.match(out, /^warning +the body is 3 bytes of binary, which the terminal does not print.*approving it needs --accept-unseen-body/m);
  t.match(heldUnseen(held), /binary/, 'approve refuses it without --accept-unseen-body');
  t.equal(heldUnseen({ ...held, base64: undefined, text: 'to: boss@corp.example' }), undefined, 'a text body is printed whole');
});

t.test('approvals list says which waiting requests look alike and in what one differs (fifteenth pass)', async (t) => {
  // Two harmless charges and a third with the attacker's Stripe-Account: three list lines that read alike.
  const charge = (id: string, headers: Record<string, string[]>, hash: string): View => {
    const v = view({ url: 'https://api.stripe.com/v1/charges', path: '/v1/charges', host: 'api.stripe.com', headers, body: { size: 12, sha256: 'b', content_type: 'application/x-www-form-urlencoded', truncated: false, form: { amount: ['500'] } } });
    return { ...v, id, request_hash: hash, description_complete: true, summary: { method: 'POST', host: 'api.stripe.com', path: '/v1/charges' } } as View;
  };
  const out = listText([charge('ap_a', {}, 'h1'), charge('ap_b', {}, 'h1'), charge('ap_c', { 'stripe-account': ['acct_1Attacker'] }, 'h2')]);
  const entries = out.split(/\n(?=ap_)/);
  t.equal(entries.length, 3);
  t.match(entries[2], /LOOK-ALIKE: 2 other waiting requests of this agent go to the same method, host and path, and this one is unlike every one of them in header stripe-account: read it before approving \(airlock approvals show ap_c\)/);
  t.match(entries[0], /look-alike: 2 other waiting requests .*1 of them is this very request/);
  t.notMatch(entries[0], /LOOK-ALIKE/, 'a twin is no warning');
  t.notMatch(listText([charge('ap_a', {}, 'h1')]), /look-alike/i, 'one request alone: no note');
  const resolved = { ...charge('ap_d', { 'stripe-account': ['acct_1Attacker'] }, 'h3'), status: 'approved' } as View;
  t.notMatch(listText([charge('ap_a', {}, 'h1'), resolved]), /look-alike/i, 'only waiting requests are compared');
});

t.test('approvals list groups as look-alikes the spellings of one route servers run alike (sixteenth pass)', async (t) => {
  // `/v1/charges.json` runs the action of `/v1/charges` (Rails' `(.:format)`, Django REST's suffixes),
  // and so do its escaped, doubled-slash and host-with-a-dot spellings: each was listed as a request of its own.
  const charge = (id: string, path: string, host = 'api.stripe.com', headers: Record<string, string[]> = {}): View => {
    const v = view({ url: `https://${host}${path}`, path, host, headers, body: { size: 12, sha256: 'b', content_type: 'application/x-www-form-urlencoded', truncated: false, form: { amount: ['500'] } } });
    return { ...v, id, request_hash: `h-${id}`, description_complete: true, summary: { method: 'POST', host, path } } as View;
  };
  const spellings: Array<[string, string?]> = [['/v1/charges.json'], ['/v1/%63harges'], ['/v1//charges'], ['/V1/Charges.xml'], ['/v1/charges', 'api.stripe.com.'], ['/v1/charges;x=1/']];
  for (const [path, host] of spellings) {
    const out = listText([charge('ap_a', '/v1/charges'), charge('ap_b', '/v1/charges'), charge('ap_c', path, host, { 'stripe-account': ['acct_1Attacker'] })]);
    const entries = out.split(/\n(?=ap_)/);
    t.match(entries[2], /LOOK-ALIKE: 2 other waiting requests of this agent go to the same method, host and path, and this one is unlike every one of them in .*header stripe-account/, `${host ?? ''}${path}`);
  }
  const apart = listText([charge('ap_a', '/v1/charges'), charge('ap_b', '/v1/refunds'), charge('ap_c', '/v1/charges/ch_1')]);
  t.notMatch(apart, /look-alike/i, 'other routes are not look-alikes');
});

t.test('a method override and a rewritten path are printed', async (t) => {
  const out = details(view({ method_override: { values: ['DELETE'], sources: ['header:x-http-method-override'], ambiguous: false }, headers: { 'x-original-url': ['/admin/delete-everything'] } }));
  t.match(out, /DELETE/);
  t.match(out, /\/admin\/delete-everything/);
});

t.test('a forwarding header naming another host and every GraphQL operation are printed (eleventh pass)', async (t) => {
  const out = details(view({ host: 'api.example', port: 443, headers: { 'x-forwarded-host': ['admin.internal.example'] } }, { graphql: { parsed: true, batch: 2, operations: [{ type: 'query', name: null, fields: ['viewer'] }, { type: 'mutation', name: null, fields: ['deleteRepository'] }] } }));
  t.match(out, /^acts for +host admin\.internal\.example/m);
  t.match(out, /^graphql +a batch of 2: query \(viewer\); mutation \(deleteRepository\)$/m);
  const own = details(view({ host: 'api.example', port: 443, headers: { 'x-forwarded-host': ['api.example'] } }, { graphql: { parsed: false, operations: [], error: 'persisted queries are not visible' } }));
  t.notMatch(own, /acts for/, 'the request\'s own host is no warning');
  t.match(own, /what the server runs is not in the request \(persisted queries are not visible\)/);
});

t.test('every header that reaches the server is printed, one per line', async (t) => {
  const out = details(view({ headers: { 'stripe-account': ['acct_1Attacker'], 'content-length': ['2'], authorization: ['Bearer [redacted]'] } }));
  t.match(out, /^header +stripe-account: acct_1Attacker$/m);
  t.match(out, /^header +authorization: Bearer \[redacted\]$/m);
  t.notMatch(out, /content-length/, 'framing Airlock sets itself is left out');
});

t.test('whose credentials: a secret Airlock adds, and a credential of the agent\'s own', async (t) => {
  const headers = { authorization: ['Bearer [redacted]'], 'x-api-key': ['[redacted]'], 'x-note': ['hi'] };
  const theirs = details(view({ headers }));
  t.match(theirs, /^own cred +authorization, x-api-key: the agent's own credential/m, 'redacted credentials no directive writes are the agent\'s own');
  const yours = details({ ...view({ headers }), credentials: [{ secret: 'github_token', in: 'header', name: 'Authorization' }] } as View);
  t.match(yours, /^secret +github_token → header Authorization \(yours, added by Airlock\)$/m);
  t.match(yours, /^own cred +x-api-key:/m, 'the header the directive writes is not the agent\'s');
  // Twelfth pass: a credential header the description does not redact, and credentials in the query.
  const shown = { 'x-shopify-access-token': ['shpat_1'], 'idempotency-key': ['k1'], 'sec-websocket-key': ['k2'] };
  const query = { access_token: ['ghp_1'], key: ['AIza1'], q: ['token'] };
  t.match(details(view({ headers: shown, query })), /^own cred +x-shopify-access-token, query parameter access_token, query parameter key:/m, 'named as credentials, in headers and the query');
  const injected = details({ ...view({ headers: {}, query }), credentials: [{ secret: 'github_token', in: 'header', name: 'Authorization' }] } as View);
  t.match(injected, /^own cred +query parameter key:/m, 'with a secret injected, Airlock takes access_token out (proxy/credential-placement.ts); key goes out');
});

t.test('a body servers read in more than one way says the preview is one reading', async (t) => {
  const body = { size: 60, sha256: '', content_type: 'application/json', truncated: false, json: { to: 'b' }, ambiguous: true, ambiguous_reasons: [{ code: 'json_duplicate_key', detail: 'duplicate key "to"' }] };
  t.match(details(view({ body })), /more than one way[\s\S]*duplicate key "to"/);
});

t.test('a held body is printed as sent and as its server reads it (escapes, transfer encodings, charsets undone)', async (t) => {
  const raw = '--b\r\nContent-Disposition: form-data; name="mail"\r\nContent-Transfer-Encoding: base64\r\n\r\ndG86IGRyb3BAYXR0YWNrZXIuZXhhbXBsZQ==\r\n--b--\r\n';
  const held = { size: raw.length, captured: raw.length, truncated: false, content_type: 'multipart/form-data', sha256: '', text: raw, reading: { how: 'each part with its transfer encoding and charset undone', text: '── part 1: form-data; name="mail"; base64, decoded\nto: drop@attacker.example' } };
  const out = details(view({ body: { size: raw.length, sha256: '', content_type: 'multipart/form-data', truncated: false } }), held);
  t.match(out, /body as sent:[\s\S]*dG86IGRyb3BAYXR0YWNrZXIuZXhhbXBsZQ==/);
  t.match(out, /as the server reads it \(each part[^)]*\):\n[\s\S]*to: drop@attacker\.example/);
  const utf7 = details(view({}), { size: 9, captured: 9, truncated: false, content_type: 'application/json', sha256: '', text: '{"a":"+AEA-"}', reading_error: 'the server reads this body in its declared charset, which the studio cannot: unknown charset "utf-7"' });
  t.match(utf7, /warning +the server reads this body in its declared charset[^\n]*utf-7/);
});

t.test('airlock explain prints a reason that quotes the agent (escape sequences, bidi) escaped, as approvals show does', async (t) => {
  const reason = 'runs the tool read_file\x1b[2K\r\u202eoper_eteled';
  const out = formatExplanation({ decision: { action: 'approve', reason, rule: 'tool' }, verdicts: [{ action: 'approve', rule: 'tool', reason }], rules: [], notes: [] } as unknown as Parameters<typeof formatExplanation>[0]);
  t.notMatch(out, /[\x1b\r\u202e]/, 'nothing that moves the cursor or reorders text reaches the terminal');
  t.match(out, /read_file\\x1b\[2K\\x0d\\u202eoper_eteled/);
});

t.test('airlock explain keeps a long rule head apart from its location', async (t) => {
  const head = 'credentials contains {"secret": secret, "in": "header", "name": "Authorization", "format": "Bearer {}"} if {';
  const rules = [{ file: 'services/github.rego', line: 22, head, applied: true, kind: 'decision' }, { file: 'airlock.rego', line: 9, head: 'x', rule: 'effect.read', applied: true, kind: 'decision' }];
  const out = formatExplanation({ decision: { action: 'allow', reason: 'r', rule: 'effect.read' }, rules, notes: [] } as unknown as Parameters<typeof formatExplanation>[0]);
  t.match(out, /\n {2}credentials contains \{[^\n]*"Bearer \{\}"\}\n {33}services\/github\.rego:22\n/, 'the head on its own line (without its "if {"), the location under the column');
  t.match(out, /\n {2}effect\.read {20}airlock\.rego:9\n/, 'a short id stays in its column');
});

t.test('base64 strings of the record\'s parsed body are printed decoded (a Gmail raw message)', async (t) => {
  const raw = Buffer.from('To: drop@attacker.example\r\n\r\nhi').toString('base64url');
  const out = details(view({ body: { size: 60, sha256: '', content_type: 'application/json', truncated: false, json: { raw } } }));
  t.match(out, /as the server reads it \(base64 strings decoded\):\n── \.raw: base64, decoded\nTo: drop@attacker\.example/);
});

t.test('a parsed JSON copy whose integers a float cannot hold is not the body shown whole (property)', async (t) => {
  const fc = (await import('fast-check')).default;
  const { bodyVisibility, unseenBodyText } = await import('../../state/approval-body.ts');
  const { summarizeBody } = await import('../../describe/body.ts');
  fc.assert(
    fc.property(fc.bigInt({ min: -(10n ** 25n), max: 10n ** 25n }), fc.constantFrom('id', 'to_account', 'amount'), fc.boolean(), (n, key, nested) => {
      const text = nested ? `{"data":[{"${key}":${n}}]}` : `{"${key}":${n}}`;
      const body = summarizeBody({ body: Buffer.from(text), truncated: false, headers: { 'content-type': ['application/json'] }, previewBytes: 4096 }).summary;
      const exact = BigInt(Number(n)) === n && Number.isSafeInteger(Number(n));
      // The copy reads another number than the one sent: the record does not show it whole.
      if (BigInt(Number(n)) !== n) return bodyVisibility(body) !== 'whole' && /past 2\^53/.test(unseenBodyText(body, undefined) ?? '');
      return !exact || bodyVisibility(body) === 'whole';
    }),
    { numRuns: 200 },
  );
  t.match(details(view({ body: { size: 40, sha256: '', content_type: 'application/json', truncated: false, json: { to_account: 9007199254740992 } } })), /^warning +the preview below holds 9007199254740992, an integer past 2\^53/m, '`approvals show` says so too');
});

t.test('a multipart body\'s form holds its fields, not its uploads: the record does not show it whole (twelfth pass)', async (t) => {
  const { bodyVisibility } = await import('../../state/approval-body.ts');
  const { summarizeBody } = await import('../../describe/body.ts');
  const text = '--XB\r\nContent-Disposition: form-data; name="channel"\r\n\r\nC0TEAM\r\n--XB\r\nContent-Disposition: form-data; name="sql"\r\n\r\nSELECT 1\r\n'
    + '--XB\r\nContent-Disposition: form-data; name="file"; filename="notes.txt"\r\nContent-Type: text/plain\r\n\r\nwhat the card never showed\r\n--XB--\r\n';
  const body = summarizeBody({ body: Buffer.from(text), truncated: false, headers: { 'content-type': ['multipart/form-data; boundary=XB'] }, previewBytes: 4096 }).summary;
  t.same(body.form, { channel: ['C0TEAM'], sql: ['SELECT 1'] }, 'the fields are read as a form; the upload is not one');
  t.not(bodyVisibility(body), 'whole', 'the upload is not in the record\'s copy');
});

t.test('look-alike letters of another script inside Latin words are escaped, a word in one script is not', async (t) => {
  const out = details(view({ url: 'https://api.example/v1/send?cc=ceo@corp.\u0441om', body: { size: 60, sha256: '', content_type: 'application/json', truncated: false, json: { to: 'boss@c\u043erp.com', name: '\u0418\u0432\u0430\u043d' } } }));
  t.match(out, /cc=ceo@corp\.\\u0441om/, 'the URL line');
  t.match(out, /"boss@c\\u043erp\.com"/, 'the body preview');
  t.match(out, /"\u0418\u0432\u0430\u043d"/, 'a Cyrillic name stays as it is');
  // Thirteenth pass: letters passing for ASCII within Latin (or no) script.
  const ascii = details(view({ url: 'https://api.example/v1/send?cc=ceo@\u1D04orp.com', body: { size: 60, sha256: '', content_type: 'application/json', truncated: false, json: { to: 'b\u0131ll@co\u0323rp.com', amount: '\u{1D7E3}2', fee: '5\u0660\u0660', note: 'caf\u00e9' } } }));
  t.match(ascii, /cc=ceo@\\u1d04orp\.com/, 'a small capital in the URL line');
  t.match(ascii, /"b\\u0131ll@co\\u0323rp\.com"/, 'a dotless i and a dot below in the body');
  t.match(ascii, /"\\u\{1d7e3\}2"/, 'a mathematical digit');
  t.match(ascii, /"caf\u00e9"/, 'an accented word stays as it is');
  t.match(ascii, /"5\\u0660\\u0660"/, 'Arabic-Indic zeros beside an ASCII digit (Python\'s int() reads 50000)');
});

t.test('a text preview the describe step cut is never the body shown whole, whatever its decoded length (fourteenth pass, property)', async (t) => {
  const fc = (await import('fast-check')).default;
  const zlib = await import('node:zlib');
  const { bodyVisibility, unseenBodyText } = await import('../../state/approval-body.ts');
  const { summarizeBody } = await import('../../describe/body.ts');
  const summary = (body: Buffer, headers: Record<string, string[]>) => summarizeBody({ body, truncated: false, headers, previewBytes: 4096 }).summary;
  // 4,096 characters whose UTF-8 is as long as the whole body (charset or content coding undone):
  // the old check took the preview's length for proof it covered every byte.
  const hidden = fc.string({ minLength: 1, maxLength: 40 }).map((s) => `\nDROP TABLE users; -- ${s.replace(/[^\x20-\x7e]/g, '.')}\n`);
  fc.assert(
    fc.property(hidden, fc.constantFrom('windows-1252', 'iso-8859-1', 'utf-16le', 'utf-16be'), (tail, charset) => {
      // Each preview character is 2 (é) or 3 (한) bytes in UTF-8; the rest of the body fills it out.
      const wide = charset.startsWith('utf-16');
      const head = wide ? Buffer.from('한'.repeat(4096), 'utf16le') : Buffer.alloc(4096, 0xe9);
      if (charset === 'utf-16be') head.swap16();
      const size = wide ? 3 * 4096 : 2 * 4096;
      const rest = Buffer.from(tail.padStart((size - head.length) / (wide ? 2 : 1), ' '), wide ? 'utf16le' : 'latin1');
      if (charset === 'utf-16be') rest.swap16();
      const body = summary(Buffer.concat([head, rest]), { 'content-type': [`text/plain; charset=${charset}`] });
      return Buffer.byteLength(body.text!) === body.size && body.text_truncated === true && bodyVisibility(body) === 'partial' && /only a preview/.test(unseenBodyText(body, undefined) ?? '');
    }),
    { numRuns: 12 },
  );
  // A gzip body whose compressed size is the preview's length: searched for, bounded.
  let found: Buffer | undefined;
  for (let start = 1; start < 40 && !found; start++) {
    // Random printable padding grows the compressed size about a byte a character: stop at 4,096 or past it.
    let seed = start;
    const pad = Array.from({ length: 6000 }, () => String.fromCharCode(33 + ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) % 90))).join('');
    let lo = 0;
    let hi = pad.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (zlib.gzipSync(Buffer.from(`${'a'.repeat(4096)}\nDROP TABLE users;\n${pad.slice(0, mid)}`)).length < 4096) lo = mid + 1;
      else hi = mid;
    }
    const z = zlib.gzipSync(Buffer.from(`${'a'.repeat(4096)}\nDROP TABLE users;\n${pad.slice(0, lo)}`));
    if (z.length === 4096) found = z;
  }
  t.ok(found, 'a gzip body of exactly 4,096 bytes');
  const gz = summary(found!, { 'content-type': ['text/plain'], 'content-encoding': ['gzip'] });
  t.equal(Buffer.byteLength(gz.text!), gz.size);
  t.equal(bodyVisibility(gz), 'partial', 'its 4,096-character preview is not the body');
  t.match(details(view({ body: gz })), /body preview \(its first 4096 characters; the rest is not in the record\):/, '`approvals show` says the preview is cut');
  t.match(details(view({ body: gz })), /^warning +only a preview of the 4096-byte body is kept .*: approving it needs --accept-unseen-body$/m, 'and that approving it needs the explicit choice');
  const whole = summary(Buffer.from('é'.repeat(100), 'latin1'), { 'content-type': ['text/plain; charset=windows-1252'] });
  t.equal(whole.text_truncated, undefined, 'the control: a short text in a charset is kept whole');
});

t.test('an XML body its parser reads otherwise (character references, its own entities) is not shown whole by the record (fourteenth pass)', async (t) => {
  const { bodyVisibility } = await import('../../state/approval-body.ts');
  const { summarizeBody } = await import('../../describe/body.ts');
  const read = (text: string, type: string) => bodyVisibility(summarizeBody({ body: Buffer.from(text), truncated: false, headers: { 'content-type': [type] }, previewBytes: 4096 }).summary);
  t.equal(read('<m><to>&#100;rop@attacker.example</to></m>', 'application/xml'), 'partial', 'a character reference');
  t.equal(read('<?xml version="1.0"?><!DOCTYPE m [<!ENTITY w "x">]><m>&w;</m>', 'text/xml'), 'partial', 'an entity of its own');
  t.equal(read('<methodCall><methodName>&#x77;p.deletePost</methodName></methodCall>', 'text/plain'), 'partial', 'an XML-RPC call under another type');
  t.equal(read('<m><to>boss@corp.example</to></m>', 'application/xml'), 'whole', 'plain XML is shown whole');
  t.equal(read('a &#38; b', 'text/plain'), 'whole', 'text that is not XML');
  t.equal(read('mail:\n  <<: *d\n', 'application/yaml'), 'partial', 'YAML: the record keeps the text, not what its parsers read');
});

t.test('a JSON body read in a declared non-Unicode charset is not shown whole by the record: UTF-8 servers read its text otherwise (fourteenth pass, property)', async (t) => {
  const fc = (await import('fast-check')).default;
  const { bodyVisibility, unseenBodyText } = await import('../../state/approval-body.ts');
  const { summarizeBody } = await import('../../describe/body.ts');
  fc.assert(
    fc.property(fc.constantFrom('shift_jis', 'gbk', 'big5', 'windows-1252', 'iso-8859-1', 'koi8-r', 'utf-8'), fc.constantFrom('佐藤', 'café', 'Иван', 'boss', '€5'), fc.boolean(), (charset, name, asKey) => {
      const text = asKey ? `{"${name}": "boss@corp.example"}` : `{"name": "${name}", "to": "boss@corp.example"}`;
      const body = summarizeBody({ body: Buffer.from(text), truncated: false, headers: { 'content-type': [`application/json; charset=${charset}`] }, previewBytes: 4096 }).summary;
      if (body.json === undefined || body.ambiguous) return true; // not read as JSON, or held as ambiguous already
      // The control: ASCII text, or UTF-8 as declared, reads the same to every server.
      const same = charset === 'utf-8' || /^[\x00-\x7f]*$/.test(name);
      return same ? bodyVisibility(body) === 'whole' : bodyVisibility(body) === 'partial' && /read in .* servers that read JSON as UTF-8/.test(unseenBodyText(body, undefined) ?? '');
    }),
    { numRuns: 60 },
  );
  t.pass('the charset reading of non-ASCII text is never the body shown whole');
});

t.test('a YAML body too long to parse here, or whose aliases expand past a bound, is a reading error (fourteenth pass)', async (t) => {
  const { serverReading } = await import('../../studio/body-reading.ts');
  const read = (text: string) => serverReading(Buffer.from(text), { 'content-type': ['application/yaml'] }, text);
  t.match(read('a: b\n'.repeat(20_000)), { error: /longer than the 64 KiB the studio parses/ });
  const laughs = 'a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: [*c, *c, *c, *c, *c, *c, *c, *c, *c]\n';
  t.match(read(laughs), { error: /aliases expand past/ });
  t.equal(read('name: web\nimage: nginx\n'), undefined, 'plain YAML reads as written');
});

t.test('a long host keeps its end in approvals list and show, which say whose name it is (sixteenth pass)', async (t) => {
  // `api.github.com.aaaa…(60).bbbb…(60).evil.example` wrapped on the terminal with `api.github.com.` in sight.
  const host = `api.github.com.${'a'.repeat(60)}.${'b'.repeat(60)}.evil.example`;
  const v = { ...view({ url: `https://${host}/v1/long`, host, path: '/v1/long' }), summary: { method: 'POST', host, path: '/v1/long' } } as View;
  const listed = listText([v]);
  t.match(listed, /POST …b+\.evil\.example\/v1\/long/, 'the list line keeps the end');
  t.notMatch(listed, /api\.github\.com/, 'not the start alone');
  t.match(details(v), /^host ends +evil\.example \(the host is a name of evil\.example/m);
  t.notMatch(details(view({ url: 'https://api.github.com/x', host: 'api.github.com' })), /^host ends/m, 'a short host needs no line');
});

t.test('look-alikes held now name the cookie whose value tells them apart (sixteenth pass)', async (t) => {
  const charge = (id: string, org: string, hash: string, held = true): View => {
    const v = view({ url: 'https://api.example/v1/report', path: '/v1/report', host: 'api.example', headers: { cookie: ['session=[redacted]; org=[redacted]'] } });
    return { ...v, id, held, held_cookies: [['org', org]], request_hash: hash, description_complete: true, summary: { method: 'POST', host: 'api.example', path: '/v1/report' } } as View;
  };
  const entries = listText([charge('ap_a', 'acct_person', 'h1'), charge('ap_b', 'acct_person', 'h1'), charge('ap_c', 'acct_1Attacker', 'h2')]).split(/\n(?=ap_)/);
  t.match(entries[2], /LOOK-ALIKE: .* unlike every one of them in cookie org: read it/, 'the cookie is named');
  const once = listText([charge('ap_a', 'acct_person', 'h1'), charge('ap_c', 'acct_1Attacker', 'h2', false)]).split(/\n(?=ap_)/);
  t.match(once[1], /unlike it in a value the card shows redacted \(header cookie\)/, 'one no longer held: its value is not at hand, and the difference is still said');
});

t.test('approvals show says why a human is needed: every request that brought the label, or that the timeline no longer reaches back (sixteenth pass)', async (t) => {
  // The terminal printed the policy's reason alone, which names the first (harmless) page; the card
  // lists the later one that injected the agent.
  const session = { id: 'se_1', labels: { untrusted: { request_id: 'r1', host: 'docs.python.org', time: '2026-01-01T00:00:00Z' } } };
  const v = { ...view({}, { session }), because: ['r1'], session: 'se_1', created: '2026-01-01T00:10:00Z' } as unknown as View;
  const entry = (id: string, url: string, labels: string[] = []) => ({ id, time: `2026-01-01T00:0${id.slice(1)}:00Z`, method: 'GET', url, host: 'x', outcome: 'forwarded', labels_added: labels });
  const full = details(v, undefined, [entry('r1', 'https://docs.python.org/3/'), entry('r2', 'https://evil.example/page', ['untrusted']), entry('r3', 'https://api.example/x')]);
  t.match(full, /^why +untrusted first from request r1 to docs\.python\.org/m);
  t.match(full, /^ +untrusted again from GET https:\/\/evil\.example\/page at/m, 'the later page that brought it');
  const cut = details(v, undefined, [entry('r8', 'https://api.example/flood'), entry('r9', 'https://api.example/flood')]);
  t.match(cut, /untrusted: the session keeps only its last 2 requests \(from .*\): any between the first one and those may have brought it again/, 'a timeline that no longer reaches the first request is said');
  t.notMatch(cut, /no later request/);
  t.match(details(v), /untrusted again: later requests may have brought it; read them with airlock sessions show se_1/, 'without the timeline, where to read them');
});

t.test('approvals show says what --grant-minutes would let through, as the card does (sixteenth pass)', async (t) => {
  // On a route Airlock reads no operation on, a grant lets through every later body and header to the path.
  const out = details(view({ url: 'https://hooks.example/send', host: 'hooks.example', path: '/send' }));
  t.match(out, /^grant +--grant-minutes N would let through, for N minutes: every POST request of agent bot to hooks\.example\/send — this exact path, .*whatever else its query, body and headers say/m);
  t.match(details(view({}), undefined), /^grant/m);
  t.match(details({ ...view({}), risk: 'critical' } as View), /^grant +none: this request is approved one at a time/m);
  t.notMatch(details({ ...view({}), status: 'approved' } as View), /^grant/m, 'only while it waits');
});

t.test('approvals show says a waiting approval looks like others, as list does (sixteenth pass)', async (t) => {
  // Given an id (a notification, the webhook's message), a person reads `show` and approves: the
  // look-alike note was only under `list`.
  const { showText } = await import('../../cli/commands/approvals.ts');
  const charge = (id: string, headers: Record<string, string[]>, hash: string): View => {
    const v = view({ url: 'https://api.stripe.com/v1/charges', path: '/v1/charges', host: 'api.stripe.com', headers });
    return { ...v, id, request_hash: hash, description_complete: true, summary: { method: 'POST', host: 'api.stripe.com', path: '/v1/charges' } } as View;
  };
  const odd = charge('ap_c', { 'stripe-account': ['acct_1Attacker'] }, 'h2');
  const out = showText(odd, [charge('ap_a', {}, 'h1'), charge('ap_b', {}, 'h1'), odd]);
  t.match(out, /^alike +LOOK-ALIKE: 2 other waiting requests of this agent go to the same method, host and path, and this one is unlike every one of them in header stripe-account/m);
  t.notMatch(showText(odd, [odd]), /^alike/m, 'alone: no note');
});

t.test('approvals show warns that approving a WebSocket handshake opens what is never shown (sixteenth pass)', async (t) => {
  const out = details(view({ method: 'GET', url: 'wss://api.example/socket', upgrade: 'websocket', body: { size: 0, sha256: '', content_type: '', truncated: false } }));
  t.match(out, /^warning +approving opens a WebSocket: every message the agent then sends over it.*approving it needs --accept-unseen-body/m);
  t.notMatch(details(view({})), /opens a/, 'a plain request: no line');
});

t.test('what "Allow similar" lets through names what a grant compares: switches and account cookies, and for a change its query and object id', async (t) => {
  const at = (method: string, effective?: string) => grantScopeText({ agent: 'bot', risk: 'medium', description: { request: { method, ...(effective ? { effective_method: effective } : {}), host: 'api.example', path: '/items/5' } } } as never)!;
  t.match(at('GET'), /same switches \(dry run, preview, mode\) and sent with the same credentials and account cookies .*whatever else its query, body and headers say/);
  t.notMatch(at('GET'), /object id/);
  for (const [m, e] of [['DELETE'], ['PUT'], ['patch'], ['POST', 'DELETE']] as const) {
    t.match(at(m, e), /with the same query and the same object id in its body, .*whatever else its body and headers say/, `${m}${e ? ` as ${e}` : ''}`);
  }
  // (Twenty-fifth pass) An MCP call: its endpoint's URL query and its session are compared too.
  const mcp = (request: Record<string, unknown>) => grantScopeText({ agent: 'bot', risk: 'high', description: { mcp: { method: 'tools/call', tool: 'delete_row' }, request: { method: 'POST', host: 'mcp.example', path: '/mcp', ...request } } } as never)!;
  t.match(mcp({ headers: { 'mcp-session-id': ['s-1'] } }), /this exact path and URL query, .*in the same MCP session \(a new session asks again\)/);
  t.match(mcp({ query: { sessionId: ['s-1'] } }), /in the same MCP session/);
  t.notMatch(mcp({}), /MCP session/, 'a stateless server: no session named');
  t.notMatch(at('POST'), /URL query|MCP session/, 'a plain request: neither');
});

t.test('header names a CGI-style server reads as one header are said to be one, in the order sent (twenty-sixth pass)', async (t) => {
  const out = details(view({ headers: { 'x-account': ['acct_platform'], 'accept': ['*/*'], 'x_account': ['acct_evil'], 'x.account': ['acct_other'] } }));
  t.match(out, /^one header x-account and x_account and x\.account \(CGI, PHP-FPM/m, 'the three spellings are named as one header, in the order sent');
  t.notMatch(out, /one header .*accept/, 'a header of its own is not');
  t.notMatch(details(view({ headers: { 'x-account': ['a', 'b'], 'x-request-id': ['1'] } })), /one header/, 'one name sent twice, and names servers key apart: nothing said');
});
