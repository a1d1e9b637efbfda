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
  await shot('05-replay');

  // The same with a HAR file uploaded from disk (browser devtools / mitmproxy export).
  await page.check('input[name=kind] >> nth=1');
  await page.setInputFiles('replay-view input[type=file]', path.resolve('fixtures', 'traffic', 'agent-session.har'));
  await page.click('#replay-run');
  // The fixtures report said "of 3"; wait for the HAR's.
  await page.waitForFunction(() => Number(/of (\d+) in/.exec(document.querySelector('[data-testid=replay-report]')?.textContent ?? '')?.[1] ?? 0) > 3);
  const decided = Number(/of (\d+) in/.exec((await page.textContent('[data-testid=replay-report]'))!)?.[1]);
  t.ok(decided > 10, `the HAR entries were replayed (${decided})`);
  await shot('05b-replay-har');
  t.same(consoleErrors, [], 'no script errors in the page');
});

