// Replay in a real browser: a fixtures file and an uploaded HAR file, decided by the draft and the
// live policy side by side; the changed decisions table and a row's details.
import t from 'tap';
import fs from 'node:fs';
import path from 'node:path';
import { basePolicy, openBrowser, startTestStudio } from './helpers.ts';

const artifacts = path.resolve('test-artifacts', 'studio');
fs.mkdirSync(artifacts, { recursive: true });

const { project, studio } = await startTestStudio(t);
// The draft allows POST too (the live policy only GET).
fs.writeFileSync(path.join(project.home, 'draft', 'airlock.rego'), basePolicy.replace('input.request.method == "GET"', 'input.request.method in {"GET", "POST"}'));

const { page } = await openBrowser(t);
const consoleErrors: string[] = [];
page.on('pageerror', (e) => consoleErrors.push(String(e)));
page.on('console', (m) => m.type() === 'error' && consoleErrors.push(m.text()));

const shot = (name: string) => page.screenshot({ path: path.join(artifacts, `${name}.png`) });

t.test('replay a fixtures file and an uploaded HAR, see the changed decisions', async (t) => {
  await page.goto(studio.loginUrl);
  await page.waitForSelector('nav');
  await page.click('nav >> text=Replay');
  await page.waitForSelector('#replay-fixture option[value="fixtures/sample.jsonl"]', { state: 'attached' }).catch(async (err) => {
    await shot('05-replay-failed');
    throw new Error(`${err.message}\n${await page.innerHTML('replay-view')}`);
  });
  await page.click('#replay-run');
  await page.waitForSelector('[data-testid=changed-table] tbody tr');
  t.equal(await page.textContent('[data-testid=count-changed]'), '1');
  t.equal(await page.textContent('[data-testid=count-allow]'), '2');
  const row = page.locator('[data-testid=changed-table] tbody tr').first();
  t.match(await row.textContent(), /POST https:\/\/api\.github\.com\/repos\/acme\/app\/issues/);
  await row.click();
  await page.waitForSelector('tr.detail .input-json');
  t.match(await page.textContent('tr.detail'), /"method": "POST"/);
  t.equal(await page.textContent('[data-testid=delta-allow]'), '+1', 'the count cards say what changed');
  t.equal(await page.textContent('[data-testid=delta-deny]'), '−1');
  t.match(await page.textContent('[data-testid=replayed-draft]'), /the saved draft/);
  await page.check('#group-by-rule');
  t.match(await page.textContent('[data-testid=rule-group]'), /default → read\s*\(1\)/, 'grouped by rule change');
  await shot('05-replay');
  const [json] = await Promise.all([page.waitForEvent('download'), page.click('#export-json')]);
  const rows = JSON.parse(fs.readFileSync((await json.path())!, 'utf8')) as Array<Record<string, string>>;
  t.match(rows, [{ method: 'POST', url: 'https://api.github.com/repos/acme/app/issues', live_action: 'deny', draft_action: 'allow', draft_rule: 'read' }]);
  const [csv] = await Promise.all([page.waitForEvent('download'), page.click('#export-csv')]);
  const lines = fs.readFileSync((await csv.path())!, 'utf8').split('\r\n');
  t.equal(lines[0], 'source,method,url,agent,live_action,live_rule,draft_action,draft_rule,draft_reason,changes,what_changed');
  t.match(lines[1], /^[^,]+,POST,https:\/\/api\.github\.com\/repos\/acme\/app\/issues,bot,deny,default,allow,read,reads are fine,/);

  // Unsaved edits in the editor are replayed too, and the page says so.
  await page.click('nav >> text=Policy');
  await page.waitForSelector('.cm-content');
  await page.click('[data-file="airlock.rego"]');
  await page.click('.cm-content');
  await page.keyboard.press('Control+a');
  await page.keyboard.insertText(basePolicy.replace('input.request.method == "GET"', 'input.request.method in {"GET", "POST", "DELETE"}'));
  await page.click('nav >> text=Replay');
  await page.waitForSelector('replay-view >> text=with your unsaved edits to airlock.rego');
  await page.click('#replay-run');
  await page.waitForFunction(() => document.querySelector('[data-testid=replayed-draft]')?.textContent?.includes('unsaved edits to airlock.rego'));
  t.equal(await page.textContent('[data-testid=count-changed]'), '2', 'the unsaved edit decided');
  // A draft that does not compile: the problem's place opens the editor there (twelfth pass).
  await page.click('nav >> text=Policy');
  await page.click('.cm-content');
  await page.keyboard.press('Control+End');
  await page.keyboard.insertText('\nbroken_rule := @ + 1\n');
  await page.click('nav >> text=Replay');
  await page.click('#replay-run');
  await page.click('[data-testid=replay-problems] .problem-link >> nth=0');
  await page.waitForFunction(() => location.hash === '#/policy' && document.activeElement?.closest('.cm-editor') !== null);
  t.match(await page.textContent('.cm-activeLine'), /broken_rule/, 'the editor is on the line the problem names');
  await page.keyboard.press('Control+z');
  await page.keyboard.press('Control+z');
  await page.click('nav >> text=Replay');

  // The same with a HAR file uploaded from disk (browser devtools / mitmproxy export).
  await page.check('input[name=kind] >> nth=1');
  await page.setInputFiles('replay-view input[type=file]', path.resolve('fixtures', 'traffic', 'agent-session.har'));
  await page.click('#replay-run');
  // The fixtures report said "of 3"; wait for the HAR's.
  await page.waitForFunction(() => Number(/of (\d+) in/.exec(document.querySelector('[data-testid=replay-report]')?.textContent ?? '')?.[1] ?? 0) > 3);
  const decided = Number(/of (\d+) in/.exec((await page.textContent('[data-testid=replay-report]'))!)?.[1]);
  t.ok(decided > 10, `the HAR entries were replayed (${decided})`);
  await shot('05b-replay-har');
  // (the draft that does not compile is a 422 answer, which the browser reports)
  t.same(consoleErrors.filter((e) => !/status of 422/.test(e)), [], 'no script errors in the page');
});

