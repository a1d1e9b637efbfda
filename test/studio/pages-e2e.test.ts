// The studio's other pages in a real browser (Debian's chromium through playwright-core): empty
// states and a heading on every page, agents (a name pattern that works, Copy for the one-time
// URL), the secrets name hint, accessibility (skip link, AA contrast), a narrow window, and a
// studio restart in the middle of an edit (login in place, unsaved buffers kept).
import t from 'tap';
import fs from 'node:fs';
import path from 'node:path';
import { openBrowser, startTestStudio } from './helpers.ts';
import { startStudio } from '../../studio/server.ts';

const artifacts = path.resolve('test-artifacts', 'studio');
fs.mkdirSync(artifacts, { recursive: true });

const { project, engine, studio } = await startTestStudio(t);

const { context, page } = await openBrowser(t);
const consoleErrors: string[] = [];
page.on('pageerror', (e) => consoleErrors.push(String(e)));
page.on('console', (m) => m.type() === 'error' && consoleErrors.push(m.text()));

const shot = (name: string) => page.screenshot({ path: path.join(artifacts, `${name}.png`) });

await page.goto(studio.loginUrl);
await page.waitForSelector('.cm-content');

t.test('other pages render their empty states; narrow window stays usable', async (t) => {
  for (const p of ['traffic', 'approvals', 'agents', 'secrets', 'limits']) {
    await page.click(`nav >> a[href="#/${p}"]`);
    await page.waitForSelector(`${p}-view .empty, ${p}-view table`);
    t.equal(await page.locator(`${p}-view h1`).count(), 1, `the ${p} page has a heading`);
    if (p === 'secrets') t.equal(await page.getAttribute('secrets-view input[name=name]', 'placeholder'), 'github_token', "the name hint is the default policy's");
    await shot(`08-${p}`);
  }
  // Agents: the name pattern works in the browser, the one-time URL has a Copy button.
  await page.click('nav >> a[href="#/agents"]');
  await page.fill('agents-view input[name=name]', '../evil');
  t.equal(await page.evaluate(() => (document.querySelector('agents-view input[name=name]') as HTMLInputElement).validity.patternMismatch), true, 'a bad name is refused by the form');
  await page.fill('agents-view input[name=name]', 'coder.1');
  t.equal(await page.evaluate(() => (document.querySelector('agents-view input[name=name]') as HTMLInputElement).validity.valid), true);
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: new URL(studio.url).origin });
  await page.click('agents-view button[type=submit]');
  await page.waitForSelector('[data-testid=agent-issued]');
  await page.click('#copy-url');
  await page.waitForSelector('[data-testid=agent-issued] [role=status] >> text=/Copied|Selected/');
  if (/Copied/.test((await page.textContent('[data-testid=agent-issued] [role=status]'))!)) {
    t.equal(await page.evaluate(() => navigator.clipboard.readText()), await page.textContent('#issued-url'), 'the URL is on the clipboard');
  }
  await shot('08a-agent-issued');

  // Accessibility: a skip link first, AA contrast for the badge colour and placeholders.
  await page.goto(`${studio.url}#/policy`);
  await page.waitForSelector('.cm-content');
  await page.keyboard.press('Tab');
  t.equal(await page.evaluate(() => document.activeElement?.textContent), 'Skip to content', 'the first Tab stop is the skip link');
  await page.keyboard.press('Enter');
  t.equal(await page.evaluate(() => document.activeElement?.tagName), 'MAIN');
  // (A string: tsx's transpiled functions use a helper the page doesn't have.)
  const ratios = (await page.evaluate(`(() => {
    const rgb = (c) => (c.match(/[\\d.]+/g) || []).slice(0, 3).map(Number);
    const lum = (c) => {
      const [r, g, b] = rgb(c).map((v) => { const x = v / 255; return x <= 0.03928 ? x / 12.92 : ((x + 0.055) / 1.055) ** 2.4; });
      return 0.2126 * r + 0.7152 * g + 0.0722 * b;
    };
    const ratio = (a, b) => { const [x, y] = [lum(a), lum(b)].sort((p, q) => q - p); return (x + 0.05) / (y + 0.05); };
    const badge = document.createElement('span');
    badge.className = 'badge';
    document.body.append(badge);
    const bs = getComputedStyle(badge);
    const input = document.querySelector('input[placeholder]');
    const ph = getComputedStyle(input, '::placeholder');
    const out = { badge: ratio(bs.color, bs.backgroundColor), placeholder: ratio(ph.color, getComputedStyle(input).backgroundColor) };
    badge.remove();
    return out;
  })()`)) as { badge: number; placeholder: number };
  t.ok(ratios.badge >= 4.5, `pending badge contrast ${ratios.badge.toFixed(2)}:1 (AA)`);
  t.ok(ratios.placeholder >= 4.5, `placeholder contrast ${ratios.placeholder.toFixed(2)}:1 (AA)`);

  await page.setViewportSize({ width: 420, height: 800 });
  await page.click('nav >> a[href="#/policy"]');
  await page.waitForSelector('.cm-content');
  await shot('09-narrow-policy');
  await page.setViewportSize({ width: 1280, height: 800 });
  t.same(consoleErrors.filter((e) => !/401|Failed to load resource/.test(e)), [], 'no script errors in the page');
});

t.test('a studio restart in the middle of an edit: log in again in place, nothing lost', async (t) => {
  await page.click('nav >> a[href="#/policy"]');
  await page.click('[data-file="airlock.rego"]');
  await page.click('.cm-content');
  await page.keyboard.press('Control+End');
  await page.keyboard.insertText('\n# an edit not saved yet\n');
  await page.waitForFunction(() => document.querySelector('.file-name')?.textContent?.includes('unsaved'));
  await studio.close();
  await page.waitForSelector('.banner.warn >> text=reconnecting');
  t.match(await page.textContent('[data-testid=conn]'), /reconnecting/);
  await shot('10-reconnecting');

  // The studio comes back (sessions live in memory: this browser's is gone).
  const again = await startStudio({ home: project.home, policyDir: project.policy, engine }, { port: studio.port, log: () => undefined, projectRoot: project.root });
  t.teardown(() => again.close());
  await page.waitForSelector('#relogin[open]');
  t.match(await page.textContent('#relogin'), /session ended/);
  await shot('10a-relogin');
  await page.fill('#relogin-token', new URL(studio.loginUrl).hash.replace('#token=', ''));
  await page.click('#relogin button[type=submit]');
  await page.waitForSelector('#relogin', { state: 'detached' });
  await page.waitForFunction(() => document.querySelector('[data-testid=conn]')?.textContent?.includes('live'));
  t.match(await page.textContent('.cm-content'), /an edit not saved yet/, 'the edit is still in the editor');
  t.match(await page.textContent('.file-name'), /unsaved/);

  // Even a reload (or a closed tab) keeps it: the buffer is restored from this browser's storage.
  page.once('dialog', (d) => void d.accept());
  await page.reload();
  await page.waitForSelector('.cm-content');
  await page.waitForSelector('.toast >> text=Restored unsaved edits to airlock.rego');
  t.match(await page.textContent('.cm-content'), /an edit not saved yet/);
  t.match(await page.textContent('.file-name'), /airlock\.rego \(unsaved\)/);
  const stored = await page.evaluate(() => localStorage.getItem('airlock.unsaved.v1') ?? '');
  t.notMatch(stored, new RegExp(new URL(studio.loginUrl).hash.replace('#token=', '')), 'no token in browser storage');
  await page.click('.cm-content');
  await page.keyboard.press('Control+s');
  await page.waitForFunction(() => !document.querySelector('.file-name')?.textContent?.includes('unsaved'));
  t.equal(await page.evaluate(() => localStorage.getItem('airlock.unsaved.v1')), null, 'saved: nothing left in storage');
});
