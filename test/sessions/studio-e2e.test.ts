// The studio's side of sessions in a real browser (Debian's chromium through playwright-core): the
// approval card of a trifecta hold says which earlier requests made it need a human and offers no
// grant; the Sessions page shows the labels and the timeline, and a human clears a label there
// (with a reason, in the audit log), after which the agent's request passes.
import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { openBrowser } from '../studio/helpers.ts';
import { tempDir } from '../temp-dir.ts';
import { policyCopy, startSessionAirlock, startWeb, viaCurl } from './helpers.ts';

t.test('approval card and Sessions page', async (t) => {
  const web = await startWeb(t);
  const home = tempDir(t, 'al-sess-ui-');
  const airlock = await startSessionAirlock(t, home, policyCopy(t), web);
  const { token } = await airlock.agents.add('bot');
  const proxy = airlock.proxyUrl('bot', token);
  const page1 = await viaCurl(proxy, 'GET', `${web.origin('news.test')}/today`);
  await viaCurl(proxy, 'GET', `${web.origin('db.test')}/customers/1`);
  const held = await viaCurl(proxy, 'POST', `${web.origin('hooks.test')}/send`, '{"rows":1}', { prefer: 'respond-async' });
  t.equal(held.status, 202);
  t.equal(page1.status, 200);

  const { page } = await openBrowser(t);
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  const studio = `http://127.0.0.1:${airlock.studioAddress!.port}`;
  await page.goto(`${studio}/#token=${fs.readFileSync(path.join(home, 'studio-token'), 'utf8').trim()}`);
  await page.click('nav >> a[href="#/approvals"]');

  // The card names the two requests that completed the trifecta, and grants are off.
  const why = page.locator('article.approval [data-testid=why]');
  await why.waitFor();
  const text = (await why.textContent())!.replace(/\s+/g, ' ');
  t.match(text, /untrusted first from request \S+ to news\.test/, 'the card names the request that brought untrusted content');
  t.match(text, /private first from request \S+ to db\.test/, 'and the one that brought private data');
  t.equal(await page.locator('article.approval button[data-action=grant]').isDisabled(), true, 'no "allow similar" for a hold the session caused');

  // The session link on the card opens the Sessions page on that session.
  await why.locator('a').click();
  await page.waitForSelector('sessions-view .session-detail');
  t.equal(await page.locator('sessions-view table.sessions tbody tr').count(), 1);
  t.match((await page.textContent('sessions-view table.sessions'))!, /private\s+untrusted\s+trifecta/, 'the list marks the trifecta');
  const timeline = (await page.textContent('sessions-view .timeline'))!.replace(/\s+/g, ' ');
  t.match(timeline, /GET http:\/\/news\.test:\d+\/today → allow .*\+untrusted/, 'the timeline shows the request and the label it brought');
  t.match(timeline, /label untrusted arrived \(request \S+ to news\.test\)/);

  // A human clears "untrusted", saying why.
  page.once('dialog', (d) => void d.accept('I read the page myself'));
  await page.click('sessions-view button[data-clear=untrusted]');
  await page.waitForSelector('sessions-view .timeline >> text=/label untrusted cleared by studio: I read the page myself/');
  t.equal(await page.locator('sessions-view button[data-clear]').count(), 1, 'only private is left to clear');
  t.equal((await viaCurl(proxy, 'POST', `${web.origin('hooks.test')}/send`, '{"rows":2}')).status, 200, 'the agent\'s next POST passes');
  const audit = fs.readFileSync(path.join(home, 'audit.jsonl'), 'utf8');
  t.match(audit, /"outcome":"session-label-cleared".*"by":"studio","reason":"I read the page myself"/, 'the clear is in the audit log');
  t.same(errors, [], 'no page errors');
});
