// End to end in a real browser (Debian's chromium through playwright-core): log in with the
// login URL, edit a policy and see the inline error, fix it, save, search and replace, evaluate
// (described by the proxy's describe step), a broken data file, Run tests, publish (the running
// engine reloads), compare versions, roll back with a note. Replay is in replay-e2e.test.ts, the
// other pages and a studio restart in pages-e2e.test.ts.
// Screenshots go to test-artifacts/.
import t, { type Test } from 'tap';
import fs from 'node:fs';
import http from 'node:http';
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
  t.match(await page.evaluate(() => localStorage.getItem('airlock-session-token')), /^[A-Za-z0-9_-]{30,}$/, 'the session token is kept per origin (reloads and the studio\'s other tabs keep it)');
  // A server on another port of this host (a dev server an agent started, opened by the person)
  // receives the session cookie: browsers do not isolate cookies by port. Its pages cannot read
  // the token, and the studio answers nothing without it (test/approvals/e2e.test.ts).
  const cookiesSeen: string[] = [];
  const other = await neighbourPage(t, (req, res) => cookiesSeen.push(req.headers.cookie ?? ''));
  t.match(cookiesSeen[0], /airlock_session=/, 'the other port received the studio\'s cookie');
  t.equal(await other.evaluate(() => localStorage.getItem('airlock-session-token')), null, 'but not the token');
  await other.close();
});

t.test('cookies another port of this host planted (a session cookie, a cookie bomb) do not log the studio out (seventeenth pass)', async (t) => {
  // Cookies are not isolated by port either way: a page on another port of 127.0.0.1 can set
  // `airlock_session` for the studio too. With a longer Path the browser sends it first, and the
  // studio read only the first: every API call and the live feed were refused, a new login too.
  const other = await neighbourPage(t, (_req, res) => {
    // And a cookie bomb: five 4 KB cookies make every request head to the studio's API past Node's 16 KiB.
    const bomb = Array.from({ length: 6 }, (_, i) => `bomb${i}=${'b'.repeat(4000)}; Path=/api`);
    res.setHeader('set-cookie', ['airlock_session=planted; Path=/api; SameSite=Strict', 'airlock_session=planted2; Path=/api/approvals', ...bomb]);
  });
  await other.close();
  t.equal((await context.cookies()).filter((c) => c.name === 'airlock_session').length, 3, 'the studio now gets three cookies of its name');
  // What the page does on every call and on (re)connecting its live feed, with the browser's cookies.
  const seen = await page.evaluate(async () => {
    const token = localStorage.getItem('airlock-session-token') ?? '';
    const api = (await fetch('/api/approvals', { headers: { 'x-airlock-csrf': token } })).status;
    const live = await new Promise<string>((resolve) => {
      const ws = new WebSocket(`ws://${location.host}/api/ws`, ['airlock', `airlock-csrf.${token}`]);
      ws.onmessage = () => (ws.close(), resolve('open'));
      ws.onerror = () => resolve('refused');
    });
    return { api, live };
  });
  t.same(seen, { api: 200, live: 'open' }, 'the API and the live feed answer under the longer paths too');
  await context.clearCookies({ name: 'airlock_session', path: '/api' });
  await context.clearCookies({ name: 'airlock_session', path: '/api/approvals' });
  await context.clearCookies({ name: /^bomb/ });
});

t.test('a neighbour that replaces the session cookie (Path=/) or pushes it out of the cookie jar does not log the studio out (nineteenth pass)', async (t) => {
  // Cookies are not isolated by port for setting: a page on another port of 127.0.0.1 can set
  // `airlock_session` under the studio's own Path=/, which replaces the studio's, or set 200
  // cookies of its own, past the 180 a browser keeps for one host, which evicts it. Either logged
  // the person out until they found the token again; held requests waited meanwhile.
  const replaced = await neighbourPage(t, (_req, res) => res.setHeader('set-cookie', 'airlock_session=planted; Path=/; SameSite=Strict'));
  await replaced.close();
  t.same((await context.cookies()).filter((c) => c.name === 'airlock_session').map((c) => c.value), ['planted'], 'the neighbour replaced the studio\'s cookie');
  await page.reload();
  await page.waitForFunction(() => document.querySelector('[data-testid=conn]')?.textContent?.includes('live'));
  t.equal(await page.locator('#login-token, #relogin-token').count(), 0, 'no login asked for: the page resumed its session');
  t.notSame((await context.cookies()).filter((c) => c.name === 'airlock_session').map((c) => c.value), ['planted'], 'the studio set its cookie again');

  // The neighbour opens the login URL with a wrong token (a login that fails): the page's key stays.
  const wrong = await context.newPage();
  const refused = wrong.waitForResponse((r) => r.url().endsWith('/api/login') && r.status() === 401);
  await wrong.goto(`${studio.url}#token=not-the-token-not-the-token-not-the-token`);
  await refused;
  await wrong.close();
  const evicting = await neighbourPage(t, (_req, res) => res.setHeader('set-cookie', Array.from({ length: 200 }, (_, i) => `jar${i}=1; Path=/`)));
  await evicting.close();
  t.equal((await context.cookies()).filter((c) => c.name === 'airlock_session').length, 0, 'the neighbour pushed the studio\'s cookie out');
  // The page's own next call (the limits page loading), not a reload.
  const listed = page.waitForResponse((r) => r.url().includes('/api/limits') && r.status() === 200, { timeout: 10_000 });
  await page.click('nav >> text=Limits');
  await listed;
  t.equal(await page.locator('#login-token, #relogin-token').count(), 0, 'no login asked for: the call resumed the session');
  t.equal((await context.cookies()).filter((c) => c.name === 'airlock_session').length, 1, 'the studio set its cookie again');
  await context.clearCookies({ name: /^jar/ });
  await page.click('nav >> text=Policy');
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

t.test("evaluate a request described by the proxy's describe step against the draft", async (t) => {
  await page.click('role=tab[name="Evaluate"]');
  await page.click('#sample');
  await page.click('#evaluate');
  await page.waitForSelector('[data-testid=decision]');
  t.match(await page.textContent('.decisions'), /allow/);
  t.match(await page.inputValue('#eval-input'), /"service": \{\s*"name": "github",\s*"operation": "repos.get"/, 'the sample went through describe: service block included');
  await page.click('[data-testid=explain-run]');
  await page.waitForSelector('[data-testid=explain-rule]');
  t.match(await page.textContent('[data-testid=explain]'), /allow/, 'the explain section shows the decision and the rules behind it');
  await shot('04-evaluate');

  // A request of one's own, described the same way.
  await page.click('text=Describe a request (as the proxy would)');
  await page.selectOption('evaluate-pane select[aria-label=Method]', 'DELETE');
  await page.fill('evaluate-pane input[aria-label=URL]', 'https://api.github.com/repos/acme/app');
  await page.click('#describe');
  await page.waitForFunction(() => (document.querySelector('#eval-input') as HTMLTextAreaElement).value.includes('repos.delete'));
  await page.click('#evaluate');
  await page.waitForSelector('.decisions >> text=default deny');
  // A broken input clears the old answer: no decision stays next to a question it does not answer.
  await page.fill('#eval-input', '{ not json');
  await page.click('#evaluate');
  await page.waitForSelector('[data-testid=eval-error]');
  t.equal(await page.locator('[data-testid=decision]').count(), 0, 'the old result is gone');
  // The wider pane.
  const narrow = (await page.locator('.side-pane').boundingBox())!.width;
  await page.click('.wide-toggle');
  t.ok((await page.locator('.side-pane').boundingBox())!.width > narrow + 100, 'the side pane is wider');
  await page.click('.wide-toggle');
});

t.test('a broken data file is reported as you type, at file:line:col', async (t) => {
  await page.click('button[title="New file"]');
  await page.fill('#new-file-name', 'config/data.json');
  await page.press('#new-file-name', 'Enter');
  await page.waitForSelector('.file-name >> text=config/data.json');
  await page.click('.cm-content');
  // An emoji before the error is one column, as OPA counts them, and the mark is on the comma (twelfth pass).
  await page.keyboard.insertText('{\n  "agents": {\n    "bot\u{1F389}": ["github",]\n  }\n}\n');
  await page.click('role=tab[name=/Problems/]');
  await page.waitForSelector('[data-testid=problems] >> text=config/data.json:3:22');
  t.match(await page.textContent('[data-testid=compile-status]'), /does not compile/);
  await page.waitForSelector('.cm-lintRange-error');
  t.equal(await page.textContent('.cm-lintRange-error'), ',', 'the inline mark is on the trailing comma');
  await shot('03a-data-file-error');
  // Fixed, then removed again (the other tests expect the original draft).
  await page.click('.cm-content');
  await page.keyboard.press('Control+a');
  await page.keyboard.insertText('{"agents": {}}\n');
  await page.waitForFunction(() => document.querySelector('[data-testid=compile-status]')?.textContent?.includes('The draft compiles'));
  page.once('dialog', (d) => void d.accept());
  await page.click('button[aria-label="Delete config/data.json"]');
  await page.waitForSelector('[data-file="config/data.json"]', { state: 'detached' });
  await page.click('[data-file="airlock.rego"]');
});

t.test('Run tests runs what airlock test runs; a failure links to its file and line', async (t) => {
  await page.click('[data-file="airlock_test.rego"]');
  await page.click('.cm-content');
  await page.keyboard.press('Control+End');
  await page.keyboard.insertText('\ntest_this_fails if {\n\tfalse\n}\n');
  await page.click('#run-tests');
  await page.waitForSelector('[data-testid=test-summary]', { timeout: 90_000 });
  t.match(await page.textContent('[data-testid=test-summary]'), /3 passed, 1 failed/, 'Rego tests and the traffic tests of fixtures/tests/');
  const failure = page.locator('[data-testid=test-failures] button').first();
  t.match(await failure.textContent(), /airlock_test\.rego:1[0-9][\s\S]*test_this_fails/);
  await shot('04a-tests');
  await failure.click();
  await page.waitForFunction(() => document.querySelector('.cm-activeLine')?.textContent?.includes('test_this_fails'));
  t.pass('the editor is on the failing test');
  await page.keyboard.press('Control+z');
  await page.waitForFunction(() => !document.querySelector('.file-name')?.textContent?.includes('unsaved'));
  await page.click('[data-file="airlock.rego"]');
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
  await page.waitForSelector('[data-testid=publish-ok], [data-testid=publish-error]', { timeout: 90_000 });
  const publishError = page.locator('[data-testid=publish-error]');
  if (await publishError.count()) t.fail(`publish failed: ${await publishError.textContent()}`);
  await shot('06-published');
  await page.waitForFunction(() => document.querySelector('[data-testid=unpublished]')?.textContent === 'draft = live');
  t.not(engine.version, before, 'engine hot-reloaded');
  await page.click('#publish-dialog >> text=Close');
  await page.click('role=tab[name="Versions"]');
  await page.waitForSelector('[data-testid=history] li');
  t.match(await page.textContent('[data-testid=history]'), /allow POST/);
  t.match(await page.textContent('[data-testid=history] li:last-child'), /initial[\s\S]*the policy as first loaded[\s\S]*Roll back to this/, 'the policy as first loaded can be rolled back to');
  const first = engine.version;

  // A second version, then one-click rollback to the first.
  await page.click('.cm-content');
  await page.keyboard.press('Control+End');
  // A comment pasted with bidi controls CodeMirror does not mark by itself (RLE, FSI: "Trojan
  // Source" reorders what a reviewer reads): the editor marks them, and so does every diff.
  await page.keyboard.insertText('\nsecond := 2 # \u202b\u2068 note\n');
  t.equal(await page.locator('.cm-line:has-text("second := 2") .cm-specialChar').count(), 2, 'the editor marks both controls');
  await page.keyboard.press('Control+s');
  await page.waitForFunction(() => !document.querySelector('.file-name')?.textContent?.includes('unsaved'));
  await page.click('#publish');
  await page.click('#publish-confirm');
  await page.waitForSelector('[data-testid=publish-ok]', { timeout: 90_000 });
  await page.click('#publish-dialog >> text=Close');
  t.not(engine.version, first);
  await page.waitForFunction(() => document.querySelectorAll('[data-testid=history] li').length === 3);
  // Compare any two versions: the first published one with the one just published.
  await page.selectOption('#compare-from', first!);
  await page.selectOption('#compare-to', engine.version!);
  await page.click('#compare');
  await page.waitForSelector('[data-testid=version-diff] >> text=second := 2');
  t.match(await page.textContent('[data-testid=version-diff]'), /second := 2 # ⟨U\+202B⟩⟨U\+2068⟩ note/, 'the diff shows them as code points');
  await page.click(`[data-rollback="${first}"]`);
  await page.fill('#rollback-note', 'the second rule was a mistake');
  await page.click('#rollback-confirm');
  await page.waitForFunction(() => document.querySelectorAll('[data-testid=history] li').length === 4);
  t.equal(engine.version, first, 'rolled back in the running engine');
  t.match(await page.textContent('[data-testid=history] li'), /rollback[\s\S]*the second rule was a mistake/, 'with its note');
  t.equal((await page.textContent('[data-testid=history]'))!.match(/allow POST/g)?.length, 1, 'the note belongs to its own version only');
  await shot('07-versions');
});

t.test('a lone CR is shown where OPA reads it: inside the line, not as a line break (twelfth pass)', async (t) => {
  // OPA reads "# note\rextra := true" as one comment (a CR is a blank to it): CodeMirror broke the
  // line there by default and showed a rule that never runs on its own line.
  const content = 'package airlock\n\nimport rego.v1\n\n# a note\rcr_rule := true\n';
  await page.evaluate(async (content) => {
    await fetch('/api/policy/file', { method: 'PUT', headers: { 'content-type': 'application/json', 'x-airlock-csrf': localStorage.getItem('airlock-session-token')! }, body: JSON.stringify({ path: 'cr.rego', content }) });
  }, content);
  await page.click('[data-file="cr.rego"]');
  await page.waitForSelector('.cm-line:has-text("# a note")');
  t.equal(await page.locator('.cm-line').count(), 6, 'as many lines as line feeds');
  t.equal(await page.locator('.cm-line:has-text("# a note"):has-text("cr_rule") .cm-specialChar').count(), 1, 'the rule is on the comment\'s line, after a marked CR');
  t.notMatch(await page.textContent('.file-name'), /unsaved/, 'the buffer is the file as it is');
  await page.evaluate(async () => {
    await fetch('/api/policy/file?path=cr.rego', { method: 'DELETE', headers: { 'x-airlock-csrf': localStorage.getItem('airlock-session-token')! } });
  });
});

t.test('a reload keeps the session; logging out forgets its token', async (t) => {
  await page.reload();
  await page.waitForFunction(() => document.querySelector('[data-testid=conn]')?.textContent?.includes('live'));
  t.equal(await page.locator('#login-token').count(), 0, 'no login asked for after a reload');
  await page.click('button:has-text("Log out")');
  await page.waitForSelector('#login-token');
  t.equal(await page.evaluate(() => localStorage.getItem('airlock-session-token')), null, 'the token is gone');
  await page.reload();
  await page.waitForSelector('#login-token');
  t.pass('a reload after logging out shows the login');
});

t.test('no script errors in the page', async (t) => {
  t.same(consoleErrors.filter((e) => !/401|Failed to load resource/.test(e)), []);
});

/**
 * A page of a dev server on another port of this host (its `seen` sees each request and may set
 * headers), opened in the studio's browser context: browsers do not isolate cookies by port.
 */
async function neighbourPage(t: Test, seen: (req: http.IncomingMessage, res: http.ServerResponse) => void) {
  const neighbour = http.createServer((req, res) => {
    seen(req, res);
    res.setHeader('content-type', 'text/html');
    res.end('<p>a dev server</p>');
  });
  await new Promise<void>((r) => neighbour.listen(0, '127.0.0.1', r));
  t.teardown(() => neighbour.close());
  const other = await context.newPage();
  await other.goto(`http://127.0.0.1:${(neighbour.address() as { port: number }).port}/`);
  return other;
}
