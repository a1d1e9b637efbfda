// End to end in a real browser (Debian's chromium through playwright-core): log in with the
// login URL, edit a policy and see the inline error, fix it, save, search and replace, evaluate,
// publish (the running engine reloads), roll back. Replay is in replay-e2e.test.ts.
// Screenshots go to test-artifacts/.
import t from 'tap';
import fs from 'node:fs';
import path from 'node:path';
import { openBrowser, startTestStudio } from './helpers.ts';

const artifacts = path.resolve('test-artifacts', 'studio');
fs.mkdirSync(artifacts, { recursive: true });

const { project, engine, studio } = await startTestStudio(t);

const { context, page } = await openBrowser(t);
const consoleErrors: string[] = [];
page.on('pageerror', (e) => consoleErrors.push(String(e)));
page.on('console', (m) => m.type() === 'error' && consoleErrors.push(m.text()));

const shot = (name: string) => page.screenshot({ path: path.join(artifacts, `${name}.png`) });

t.test('without the token the login screen shows', async (t) => {
  await page.goto(studio.url);
  await page.waitForSelector('#login-token');
  await page.fill('#login-token', 'not-the-token-not-the-token-not-the-token');
  await page.click('button[type=submit]');
  await page.waitForSelector('.login .error');
  t.match(await page.textContent('.login .error'), /not right/);
  await shot('01-login');
});

t.test('the login URL logs in and removes the token from the address bar', async (t) => {
  await page.goto(studio.loginUrl);
  await page.waitForSelector('.cm-content');
  t.notMatch(page.url(), /token=/);
  await page.waitForSelector('[data-file="airlock.rego"]');
  await page.waitForFunction(() => document.querySelector('[data-testid=compile-status]')?.textContent?.includes('The draft compiles'));
  await page.waitForFunction(() => document.querySelector('[data-testid=conn]')?.textContent?.includes('live'));
  await shot('02-editor');
  const cookies = await context.cookies();
  const session = cookies.find((c) => c.name === 'airlock_session');
  t.ok(session?.httpOnly, 'session cookie is HttpOnly');
  t.equal(session?.sameSite, 'Strict');
  t.equal(await page.evaluate(() => document.cookie), '', 'scripts cannot read the session');
});

t.test('an error typed in the editor shows inline and in the problems list; fixing it clears both', async (t) => {
  await page.click('.cm-content');
  await page.keyboard.press('Control+End');
  await page.keyboard.insertText('\nbroken := "unterminated\n');
  await page.waitForSelector('.cm-lintRange-error');
  await page.waitForSelector('[data-testid=problems] li');
  const problem = await page.textContent('[data-testid=problems] li');
  t.match(problem, /airlock\.rego:1[01]:11/);
  t.match(problem, /non-terminated string/);
  t.equal(await page.locator('[data-testid=problems] li').count(), 2, 'each problem once (opa repeats "illegal token")');
  t.match(await page.textContent('[data-testid=compile-status]'), /problem/);
  await page.waitForSelector('.cm-lint-marker-error');
  await shot('03-inline-error');

  // Fix it: close the string.
  await page.keyboard.press('ArrowUp');
  await page.keyboard.press('End');
  await page.keyboard.insertText('"\n\n\n');
  await page.waitForFunction(() => document.querySelector('[data-testid=compile-status]')?.textContent?.includes('The draft compiles'));
  t.equal(await page.locator('.cm-lintRange-error').count(), 0, 'no inline error left');
  await page.keyboard.press('Control+s');
  await page.waitForFunction(() => !document.querySelector('.file-name')?.textContent?.includes('unsaved'));
  const saved = fs.readFileSync(path.join(project.home, 'draft', 'airlock.rego'), 'utf8');
  t.match(saved, /broken := "unterminated"/, 'saved to the draft');
  t.notMatch(saved, /\n\n\n/, 'formatted with opa fmt on save');
});

t.test('evaluate a description against the draft', async (t) => {
  await page.click('role=tab[name="Evaluate"]');
  await page.click('text=Sample');
  await page.click('#evaluate');
  await page.waitForSelector('[data-testid=decision]');
  t.match(await page.textContent('.decisions'), /allow/);
  await page.click('[data-testid=explain-run]');
  await page.waitForSelector('[data-testid=explain-rule]');
  t.match(await page.textContent('[data-testid=explain]'), /allow/, 'the explain section shows the decision and the rules behind it');
  await shot('04-evaluate');
});

t.test('search and replace in the editor, then save', async (t) => {
  // Change the draft so POST is allowed too.
  await page.click('.cm-content');
  await page.keyboard.press('Control+Home');
  await page.keyboard.press('Control+f');
  await page.waitForSelector('.cm-search input[name=search]');
  await page.fill('.cm-search input[name=search]', '== "GET"');
  await page.fill('.cm-search input[name=replace]', 'in {"GET", "POST"}');
  await page.click('.cm-search button[name=replaceAll]');
  await page.keyboard.press('Escape');
  await page.keyboard.press('Control+s');
  await page.waitForFunction(() => !document.querySelector('.file-name')?.textContent?.includes('unsaved'));
  t.match(fs.readFileSync(path.join(project.home, 'draft', 'airlock.rego'), 'utf8'), /in \{"GET", "POST"\}/);

});

t.test('publish makes the draft live in the running engine; history shows it', async (t) => {
  const before = engine.version;
  await page.click('nav >> text=Policy');
  await page.waitForFunction(() => document.querySelector('[data-testid=unpublished]')?.textContent === '1 unpublished');
  await page.click('#publish');
  await page.waitForSelector('[data-testid=publish-diff] details');
  t.match(await page.textContent('[data-testid=publish-diff]'), /changed\s+airlock\.rego/);
  await page.click('[data-testid=publish-diff] summary');
  await page.fill('#publish-note', 'allow POST');
  await shot('06a-publish-diff');
  await page.click('#publish-confirm');
  await page.waitForSelector('[data-testid=publish-ok], [data-testid=publish-error]');
  const publishError = page.locator('[data-testid=publish-error]');
  if (await publishError.count()) t.fail(`publish failed: ${await publishError.textContent()}`);
  await shot('06-published');
  await page.waitForFunction(() => document.querySelector('[data-testid=unpublished]')?.textContent === 'draft = live');
  t.not(engine.version, before, 'engine hot-reloaded');
  await page.click('#publish-dialog >> text=Close');
  await page.click('role=tab[name="Versions"]');
  await page.waitForSelector('[data-testid=history] li');
  t.match(await page.textContent('[data-testid=history]'), /allow POST/);
  const first = engine.version;

  // A second version, then one-click rollback to the first.
  await page.click('.cm-content');
  await page.keyboard.press('Control+End');
  await page.keyboard.insertText('\nsecond := 2\n');
  await page.keyboard.press('Control+s');
  await page.waitForFunction(() => !document.querySelector('.file-name')?.textContent?.includes('unsaved'));
  await page.click('#publish');
  await page.click('#publish-confirm');
  await page.waitForSelector('[data-testid=publish-ok]');
  await page.click('#publish-dialog >> text=Close');
  t.not(engine.version, first);
  await page.waitForFunction(() => document.querySelectorAll('[data-testid=history] li').length === 2);
  page.once('dialog', (d) => void d.accept());
  await page.click('[data-testid=history] >> text=Roll back to this');
  await page.waitForFunction(() => document.querySelectorAll('[data-testid=history] li').length === 3);
  t.equal(engine.version, first, 'rolled back in the running engine');
  t.match(await page.textContent('[data-testid=history] li'), /rollback/);
  t.equal((await page.textContent('[data-testid=history]'))!.match(/allow POST/g)?.length, 1, 'the note belongs to its own version only');
  await shot('07-versions');
});

t.test('other pages render their empty states; narrow window stays usable', async (t) => {
  for (const p of ['traffic', 'approvals', 'agents', 'secrets', 'limits']) {
    await page.click(`nav >> a[href="#/${p}"]`);
    await page.waitForSelector(`${p}-view .empty, ${p}-view table`);
    await shot(`08-${p}`);
  }
  await page.setViewportSize({ width: 420, height: 800 });
  await page.click('nav >> a[href="#/policy"]');
  await page.waitForSelector('.cm-content');
  await shot('09-narrow-policy');
  await page.setViewportSize({ width: 1280, height: 800 });
  t.same(consoleErrors.filter((e) => !/401|Failed to load resource/.test(e)), [], 'no script errors in the page');
});

t.test('when the studio goes away the page says it is reconnecting', async (t) => {
  await page.click('nav >> a[href="#/policy"]');
  await studio.close();
  await page.waitForSelector('.banner.warn >> text=reconnecting');
  t.match(await page.textContent('[data-testid=conn]'), /reconnecting/);
  await shot('10-reconnecting');
});
