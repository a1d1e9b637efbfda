// `airlock sessions list|show|clear|reset`: against a running Airlock (through its studio, so the
// running proxy sees each change at once) and on the state folder when Airlock is stopped. Clears
// and resets are in the audit log either way; mistakes get a clear error and change nothing.
import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { cli, cliInProcess } from '../approvals/helpers.ts';
import { tempDir } from '../temp-dir.ts';
import { policyCopy, run, startSessionAirlock, startWeb, viaCurl } from './helpers.ts';

t.test('sessions through the CLI, running and stopped', async (t) => {
  const web = await startWeb(t);
  const home = tempDir(t, 'al-sess-cli-');
  const airlock = await startSessionAirlock(t, home, policyCopy(t), web);
  const { token, id: tokenId } = await airlock.agents.add('bot');
  const proxy = airlock.proxyUrl('bot', token);
  const where = ['--home', home, '--studio', `127.0.0.1:${airlock.studioAddress!.port}`];
  const airlockCli = async (...args: string[]) => cliInProcess([...args, ...where]);

  await viaCurl(proxy, 'GET', `${web.origin('news.test')}/today`);
  await viaCurl(proxy, 'GET', `${web.origin('db.test')}/customers/1`);

  const list = await airlockCli('sessions', 'list');
  t.equal(list.code, 0, list.stderr);
  const row = list.stdout.split('\n').find((l) => l.includes(' bot '));
  t.match(row, /^s_[0-9a-f]{16} +bot +live +private,untrusted +2 /, 'the list shows the live session, its labels and requests');
  const id = row!.split(' ')[0]!;

  const show = await airlockCli('sessions', 'show', id.slice(0, 8));
  t.equal(show.code, 0, show.stderr);
  t.match(show.stdout, new RegExp(`session ${id} +agent bot +token ${tokenId} +live`), 'a unique prefix names the session');
  t.match(show.stdout, /untrusted +since request \S+ to news\.test/);
  t.match(show.stdout, /private +since request \S+ to db\.test/);
  t.match(show.stdout, /GET http:\/\/news\.test:\d+\/today → allow .*\+untrusted/, 'the timeline shows which request brought which label');

  const json = JSON.parse((await airlockCli('sessions', 'show', id, '--json')).stdout) as { labels: Record<string, { host: string }> };
  t.equal(json.labels.private!.host, 'db.test');

  const held = await viaCurl(proxy, 'POST', `${web.origin('hooks.test')}/send`, '{"a":1}', { prefer: 'respond-async' });
  t.equal(held.status, 202, 'the trifecta holds the POST');

  const wrong = await airlockCli('sessions', 'clear', id, 'secret');
  t.not(wrong.code, 0, 'clearing a label the session does not hold fails');
  t.match(wrong.stderr, /does not hold the label "secret" \(it holds private, untrusted\)/);

  const cleared = await airlockCli('sessions', 'clear', id, 'untrusted', '--reason', 'I read the page');
  t.equal(cleared.code, 0, cleared.stderr);
  t.match(cleared.stdout, new RegExp(`label untrusted cleared from session ${id} \\(now: private\\)`));
  t.equal((await viaCurl(proxy, 'POST', `${web.origin('hooks.test')}/send`, '{"a":2}')).status, 200, 'the running proxy saw the clear at once');

  t.equal((await airlockCli('sessions', 'reset', id, '--reason', 'new task')).code, 0);
  await viaCurl(proxy, 'GET', `${web.origin('news.test')}/today`);
  const after = (await airlockCli('sessions', 'list', '--json')).stdout;
  const sessions = JSON.parse(after) as Array<{ id: string; ended?: unknown; labels: Record<string, unknown> }>;
  t.equal(sessions.length, 2, 'the token\'s next request started a new session');
  t.ok(sessions.find((s) => s.id === id)!.ended, 'the old one is ended');
  t.same(Object.keys(sessions.find((s) => s.id !== id)!.labels), ['untrusted'], 'the new one starts empty and gains what it reads');
  const newId = sessions.find((s) => s.id !== id)!.id;

  // Stopped: the CLI works on the state folder (the real binary once).
  await airlock.close();
  const stopped = await run(process.execPath, [cli, 'sessions', 'list', '--live', ...where], { timeout: 30_000 });
  t.match(stopped.stdout, new RegExp(`${newId} +bot +live +untrusted`), 'sessions are listed from the journal');
  t.notMatch(stopped.stdout, id, '--live leaves ended sessions out');
  t.equal((await airlockCli('sessions', 'clear', newId, 'untrusted')).code, 0);
  const again = await airlockCli('sessions', 'reset', id);
  t.not(again.code, 0);
  t.match(again.stderr, /already ended/);
  t.match((await airlockCli('sessions', 'show', 'nope')).stderr, /too short/);

  const audit = fs.readFileSync(path.join(home, 'audit.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { outcome: string; session_event?: { session: string; by: string; reason?: string; label?: string } });
  const human = audit.filter((r) => r.outcome.startsWith('session-')).map((r) => [r.outcome, r.session_event!.session, r.session_event!.by, r.session_event!.label ?? '', r.session_event!.reason ?? '']);
  t.same(human, [
    ['session-label-cleared', id, 'cli', 'untrusted', 'I read the page'],
    ['session-reset', id, 'cli', '', 'new task'],
    ['session-label-cleared', newId, 'cli', 'untrusted', ''],
  ], 'every clear and reset is in the audit log, running or stopped');
});
