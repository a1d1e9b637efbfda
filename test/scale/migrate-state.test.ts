// `airlock migrate-state --from DIR --to postgres://…`: an embedded state folder moved into the
// shared store, through the CLI, and read back through the shared stores: the same token
// authenticates, the same master key opens the secrets, approvals, grants and audit records are
// there, and a second run adds nothing.
import crypto from 'node:crypto';
import fs from 'node:fs';
import t from 'tap';
import { AgentStore } from '../../state/agents.ts';
import { ApprovalQueue } from '../../state/approvals.ts';
import { AuditLog } from '../../state/audit-log.ts';
import { SecretStore } from '../../state/secrets/store.ts';
import { PgAgents } from '../../state/postgres/agents.ts';
import { PgApprovals } from '../../state/postgres/approvals.ts';
import { auditLines } from '../../state/postgres/audit.ts';
import { PgState } from '../../state/postgres/db.ts';
import { PgSessions } from '../../state/postgres/sessions.ts';
import { JournalSessionStore } from '../../state/sessions.ts';
import { InjectionJournal } from '../../state/injected-places.ts';
import { PgSecretVault } from '../../state/postgres/secrets.ts';
import type { RequestDescription } from '../../describe/types.ts';
import type { EngineDecision } from '../../engine/decision.ts';
import { cli, run } from '../approvals/helpers.ts';
import { missingPostgres, startPostgres } from '../helpers/pg-redis.ts';
import { tempDir } from '../temp-dir.ts';

const missing = missingPostgres();
if (missing) {
  t.comment(`SKIPPING migrate-state: ${missing}`);
  t.pass('skipped: no PostgreSQL binaries');
} else {
  t.test('an embedded state folder moves into PostgreSQL', async (t) => {
    const key = crypto.randomBytes(32).toString('hex');
    process.env.AIRLOCK_MASTER_KEY = key;
    t.teardown(() => { delete process.env.AIRLOCK_MASTER_KEY; });
    const home = tempDir(t, 'al-mig-');
    const agents = await AgentStore.open(home);
    const { token } = await agents.add('bot', { labels: { team: 'a' } });
    const secrets = await SecretStore.open(home);
    await secrets.set('github_token', 'ghp_MigratedValue000000000');
    const queue = await ApprovalQueue.open(home, { sweepMs: 0 });
    const d = { agent: { id: 'bot', labels: {} }, request: { method: 'POST', url: 'https://api.example/x', host: 'api.example', path: '/x', port: 443, scheme: 'https', query: {}, headers: {}, time: new Date().toISOString(), body: { size: 0, sha256: 'x', truncated: false }, egress_bytes: 1 } } as unknown as RequestDescription;
    const a = await queue.create(d, { action: 'approve', reason: 'r', approval: { risk: 'low' } } as unknown as EngineDecision, 'h');
    await queue.approve(a.id, { by: 'cli', grantMinutes: 10 });
    await queue.close();
    const audit = new AuditLog(home);
    for (let i = 0; i < 5; i++) audit.append({ time: new Date().toISOString(), id: `r${i}`, agent: 'bot', host: 'api.example', outcome: 'forwarded' });
    await audit.close();
    // A damaged log (edited by hand, restored from a broken copy): values PostgreSQL refuses in a
    // text or timestamp column must not stop the move or lose the good records around them.
    const now = new Date().toISOString();
    fs.appendFileSync(audit.file, [
      JSON.stringify({ time: now, id: 'nul\u0000id', agent: 'bot\u0000x', host: 'h\u0000.example', outcome: 'forwarded\u0000' }),
      JSON.stringify({ time: '-271821-04-20T00:00:00.000Z', id: 'ancient', agent: 'bot', outcome: 'forwarded' }),
      JSON.stringify({ time: '+275760-09-13T00:00:00.000Z', id: 'far', agent: 'bot', outcome: 'forwarded' }),
      'null',
      '{"torn": ',
      JSON.stringify({ time: now, id: 'last', agent: 'bot', host: 'api.example', outcome: 'forwarded' }),
    ].join('\n') + '\n');
    const journal = JournalSessionStore.open(home, { flushMs: 0 });
    const entered = await journal.enter('bot', 'tok1', new Date().toISOString());
    await journal.addLabels(entered.session.id, ['untrusted'], { request_id: 'r0', host: 'issues.example', time: new Date().toISOString() });
    journal.addLinks(entered.session.id, { request_id: 'r0', host: 'issues.example' }, ['https://news.example/a']);
    await journal.close();
    const injected = await InjectionJournal.open(home);
    await injected.record([{ place: 'api.example', secret: 'github_token', form: 'value' }]);
    await injected.close();

    const pg = await startPostgres(t);
    const url = await pg.createDatabase('migrate');
    const env = { ...process.env, AIRLOCK_MASTER_KEY: key };
    const first = await run(process.execPath, [cli, 'migrate-state', '--from', home, '--to', url], { env });
    t.match(first.stdout, /1 agents, 1 secrets .*1 approvals, 1 grants, 0 policy versions, 1 sessions, 1 injected places, 7 audit records \(4 damaged lines left out/);
    const again = await run(process.execPath, [cli, 'migrate-state', '--from', home, '--to', url], { env });
    t.match(again.stdout, /0 agents, 0 secrets .*0 approvals, 0 grants, 0 policy versions, 0 sessions, 0 injected places, 0 audit records/, 'a second run adds nothing');

    const db = await PgState.open(url, { listen: false });
    t.teardown(() => db.close());
    t.same((await (await PgAgents.open(db)).authenticate('bot', token))?.labels, { team: 'a' }, 'the old token authenticates');
    const vault = await PgSecretVault.open(db, tempDir(t));
    await vault.unlock();
    t.equal(vault.reveal('github_token'), 'ghp_MigratedValue000000000', 'the same master key opens the moved secret');
    const shared = await PgApprovals.open(db, { sweepMs: 0 });
    t.equal(shared.get(a.id).status, 'approved');
    t.equal(shared.grants().length, 1);
    await shared.close();
    const sessions = await PgSessions.open(db, { flushMs: 0 });
    const moved = await sessions.enter('bot', 'tok1', new Date().toISOString(), { url: 'https://news.example/a', host: 'news.example' });
    t.equal(moved.session.id, entered.session.id, "the token's live session continues in PostgreSQL");
    t.equal(moved.session.labels.untrusted?.request_id, 'r0', 'with its labels');
    t.same(moved.seen, { request_id: 'r0', host: 'issues.example' }, 'and the links it was served');
    await sessions.close();
    const places = (await db.query('SELECT place, secret, form FROM injected_places')).rows;
    t.same(places, [{ place: 'api.example', secret: 'github_token', form: 'value' }], 'where the secret was injected moves too');
    let n = 0;
    for await (const _ of auditLines(db, { agent: 'bot' })) n++;
    t.equal(n, 6, "the agent's audit records are in the shared log");
    const ids: string[] = [];
    for await (const line of auditLines(db, {})) ids.push((JSON.parse(line) as { id: string }).id);
    t.ok(ids.includes('nul\u0000id') && ids.includes('last'), 'its line as written, and the record after the damaged ones');
  });
}
