// The CLI channel against a running Airlock: `airlock approvals list|show|approve|deny`, TOTP
// step-up with --totp, and `airlock limits`. The CLI logs in to the running studio with the admin
// token from the state folder, so the running proxy sees each resolution at once.
import t from 'tap';
import { TotpStore } from '../../state/totp.ts';
import { cli, cliInProcess, curl, run, startRunning, startUpstream, tempHome } from './helpers.ts';

const home = tempHome(t);
const up = await startUpstream(t);
const r = await startRunning(t, home, up);
const url = (p: string) => `http://api.example:${up.port}${p}`;
const arrived = (p: string) => up.received.filter((x) => x.url === p).length;
const where = ['--home', home, '--studio', r.studio.replace('http://', '')];
// The real binary (a node process per call) for the first approval; the same CLI code in this
// process for the rest, since each node start costs seconds on a busy machine.
const airlockBin = (...args: string[]) => run(process.execPath, [cli, ...args, ...where], { timeout: 30_000 });
const airlock = async (...args: string[]) => {
  const r = await cliInProcess([...args, ...where]);
  if (r.code !== 0) throw Object.assign(new Error(`airlock ${args.join(' ')} exited ${r.code}`), r);
  return r;
};

t.test('held request approved through the CLI arrives upstream once', async (t) => {
  const reply = curl(r, 'POST', url('/send/cli'), { body: '{"n":1}' });
  const [a] = await r.api.pending(1);
  const out = await airlockBin('approvals', 'approve', a!.id.slice(0, 10));
  t.match(out.stdout, new RegExp(`approved ${a!.id} .* the held request is on its way`), 'a unique prefix names it');
  const res = await reply;
  t.equal(res.status, 200);
  t.equal(arrived('/send/cli'), 1);
});

t.test('a held binary body, which `approvals show` does not print, is approved from the terminal only knowingly (fifteenth pass)', async (t) => {
  const reply = curl(r, 'POST', url('/send/binary'), { body: '\x01\x02\x03 binary' });
  const [a] = await r.api.pending(1);
  const refused = await cliInProcess(['approvals', 'approve', a!.id, ...where]);
  t.not(refused.code, 0, 'refused');
  t.match(refused.stderr, /bytes of binary, which the terminal does not print.*--accept-unseen-body/);
  t.equal(arrived('/send/binary'), 0, 'nothing went');
  await airlock('approvals', 'approve', a!.id, '--accept-unseen-body');
  t.equal((await reply).status, 200);
  t.equal(arrived('/send/binary'), 1, 'approved knowingly, it goes once');
});

t.test('denied through the CLI: never arrives, the message reaches the agent', async (t) => {
  const reply = curl(r, 'POST', url('/send/deny'), { body: '{}' });
  const [a] = await r.api.pending(1);
  await airlock('approvals', 'deny', a!.id, '--message', 'use the staging list');
  const res = await reply;
  t.equal(res.status, 403);
  t.match(res.json(), { type: 'https://airlock.dev/problems/approval-denied', approval_id: a!.id, message: 'use the staging list' });
  t.equal(arrived('/send/deny'), 0);
});

t.test('critical approval through the CLI: refused without a TOTP code, approved with one', async (t) => {
  const { secret } = await new TotpStore(home).enroll();
  const reply = curl(r, 'DELETE', url('/db/prod'));
  const [a] = await r.api.pending(1);
  const list = await airlock('approvals', 'list');
  t.match(list.stdout, new RegExp(`${a!.id} +pending +critical +bot +DELETE api\\.example/db/prod .*\\[held,totp\\]`), 'list shows it held and needing a code');
  const show = await airlock('approvals', 'show', a!.id);
  t.match(show.stdout, /risk +critical — approving needs --totp CODE/);
  const refused = await airlock('approvals', 'approve', a!.id).then(() => 'succeeded', (e: { stderr: string }) => e.stderr);
  t.match(refused, /needs a TOTP code: pass --totp CODE/, 'refused without a code, and told which flag takes it');
  t.equal(arrived('/db/prod'), 0);
  const out = await airlock('approvals', 'approve', a!.id, '--totp', TotpStore.codeFor(secret));
  t.match(out.stdout, /approved/);
  t.equal((await reply).status, 200);
  t.equal(arrived('/db/prod'), 1);
});

t.test('`airlock limits` shows the buckets of the running Airlock', async (t) => {
  for (let i = 0; i < 3; i++) t.equal((await curl(r, 'GET', url(`/r/${i}`))).status, 200);
  t.equal((await curl(r, 'GET', url('/r/3'))).status, 429);
  const out = await airlock('limits');
  t.match(out.stdout, /reads:bot +requests +0\/3 +3600s/);
  t.notMatch(out.stdout, /state file/, 'read live from the running Airlock');
});

t.test('a body the CLI cannot show whole is approved only knowingly (--accept-unseen-body)', async (t) => {
  const { ApprovalQueue } = await import('../../state/approvals.ts');
  const off = tempHome(t); // no Airlock runs with this state folder: the CLI works on the file
  const q = await ApprovalQueue.open(off, { sweepMs: 0 });
  const description = {
    request: {
      id: 'r1', time: '2026-01-01T00:00:00Z', method: 'POST', url: 'https://api.example/upload', scheme: 'https', host: 'api.example', port: 443,
      path: '/upload', segments: ['upload'], query: {}, headers: {}, egress_bytes: 5_000_000,
      body: { size: 5_000_000, sha256: 'abc', content_type: 'text/plain', text: 'x'.repeat(4096), truncated: true },
    },
    agent: { id: 'bot', labels: {} }, placeholders: [], grants: [],
  };
  const a = await q.create(description as never, { action: 'approve', reason: 'uploads need a human', approval: { risk: 'high' }, policy_version: 'v', decision_us: 1 } as never);
  await q.close();
  const refused = await cliInProcess(['approvals', 'approve', a.id, '--home', off]);
  t.not(refused.code, 0);
  t.match(refused.stderr, /larger than the capture cap[\s\S]*--accept-unseen-body/, 'says what cannot be seen and how to approve it anyway');
  const ok = await cliInProcess(['approvals', 'approve', a.id, '--home', off, '--accept-unseen-body']);
  t.equal(ok.code, 0, ok.stderr);
  t.match(ok.stdout, /approved/);
});

t.test('approvals list and show --json print what the agent chose as escapes a terminal does not act on, the same JSON (sixteenth pass)', async (t) => {
  // JSON.stringify leaves C1 controls (U+009B is a CSI to terminals reading 8-bit controls), bidi
  // overrides and zero-width characters raw: `--json` on a terminal drew them.
  const note = 'ok\u009b2J\u202eevil\u200b\u{e0041}\u2028';
  const reply = curl(r, 'POST', url('/send/json-out'), { body: JSON.stringify({ note }) });
  const [a] = await r.api.pending(1);
  for (const args of [['approvals', 'list', '--json'], ['approvals', 'show', a!.id, '--json']]) {
    const out = (await airlock(...args)).stdout;
    t.notMatch(out, /[\u0080-\u009f\u202e\u200b\u2028]|\u{e0041}/u, `${args.slice(0, 2).join(' ')}: none raw`);
    t.match(out, /\\u009b2J\\u202eevil\\u200b\\udb40\\udc41\\u2028/, 'written as escapes');
    const parsed = JSON.parse(out) as unknown;
    const shown = Array.isArray(parsed) ? parsed.find((x: { id: string }) => x.id === a!.id) : parsed;
    t.equal((shown as { description: { request: { body: { json: { note: string } } } } }).description.request.body.json.note, note, 'the same value');
  }
  await airlock('approvals', 'deny', a!.id);
  t.equal((await reply).status, 403);
});

t.test('`approvals grants` names what each grant is tied to: its risk, scope and place (twenty-second pass)', async (t) => {
  const reply = curl(r, 'POST', url('/send/grant-list'), { body: '{"to":"alice@corp.example","text":"hi"}' });
  const [a] = await r.api.pending(1);
  await airlock('approvals', 'approve', a!.id, '--grant-minutes', '5', '--grant-high');
  t.equal((await reply).status, 200);
  const list = await airlock('approvals', 'grants');
  t.match(list.stdout, /POST api\.example \/send\/grant-list .*\n {4}up to high risk; at args\(json\.to=alice@corp\.example[;)]/, 'the place it covers is listed under the grant');
});
