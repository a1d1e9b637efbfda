// The approvals inbox under churn, in Debian's Chromium against a whole Airlock with curl as the
// agent: what happens when a card leaves while a person is busy with it. A deny message whose card
// was decided elsewhere while the person kept typing (the shortcut letters in the words must not act
// on another card); an action on a request another tab decided (the toast names it); a request
// that arrives while the list is loading (it must not vanish); the login in place after the session
// ended (focus does not come back onto an Approve button); a card whose hold ended after its body
// was read (approvable without "unseen"). And the API's binding: an action names the request and
// the body the person saw, and a mismatch is refused.
import t from 'tap';
import fs from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { look as lookAt, openInbox, startLiveAirlock } from './helpers.ts';
import type { ApprovalQueue } from '../../state/approvals.ts';
import { TotpStore } from '../../state/totp.ts';
import { stateFile } from '../../state/home.ts';

const policy = `package airlock

import rego.v1

default decision := {"action": "deny", "reason": "not allowed", "rule": "default"}

decision := {"action": "approve", "reason": "writes need a human", "rule": "write", "approval": {"risk": "high", "timeout": "60s"}} if input.request.method == "POST"

decision := {"action": "approve", "reason": "a short hold", "rule": "patch", "approval": {"risk": "medium", "timeout": "1s"}} if input.request.method == "PATCH"

decision := {"action": "approve", "reason": "a hold of 3 s", "rule": "put", "approval": {"risk": "medium", "timeout": "3s"}} if input.request.method == "PUT"

decision := {"action": "approve", "reason": "deleting needs step-up", "rule": "delete", "approval": {"risk": "critical", "timeout": "60s"}} if input.request.method == "DELETE"
`;

const live = await startLiveAirlock(t, policy);
const { airlock, curl, received } = live;
const queue = (airlock as unknown as { approvals: ApprovalQueue }).approvals;
const { context, page, consoleErrors } = await openInbox(t, live);

const card = (p: Page, pathname: string) => p.locator('[data-approval]').filter({ has: p.locator('.url', { hasText: new RegExp(`${pathname.replace(/[/.]/g, '\\$&')}$`) }) });
const status = (id: string) => queue.get(id).status;
const look = () => lookAt(page);

async function held(pathname: string, o: Parameters<typeof curl>[2] & { method?: string } = {}, p: Page = page) {
  const reply = curl(o.method ?? 'POST', pathname, { body: '{}', ...o });
  await card(p, pathname).waitFor();
  return { reply, id: (await card(p, pathname).getAttribute('data-approval'))! };
}

async function waitFor(ok: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !ok(); i++) await new Promise((r) => setTimeout(r, 25));
}

async function cleanup(...rs: Array<{ reply: Promise<unknown>; id: string }>) {
  for (const r of rs) if (status(r.id) === 'pending') await queue.deny(r.id, { by: 'test' });
  await Promise.all(rs.map((r) => r.reply));
}

t.test('typing on after the card was decided elsewhere approves nothing; the page says what happened', async (t) => {
  const other = await held('/v1/other');
  const mine = await held('/v1/typed-in');
  await look();
  await page.click(`[data-approval="${mine.id}"] input[name=message]`);
  await page.keyboard.type('no, ', { delay: 20 });
  // Someone else decides it (the CLI) while the person is in the middle of a sentence.
  await queue.deny(mine.id, { by: 'cli' });
  await page.locator(`[data-approval="${mine.id}"]`).waitFor({ state: 'detached' });
  // The hand keeps typing: "j" and "a" are the inbox's select-next and approve keys.
  await page.keyboard.type('just ask me again', { delay: 30 });
  await page.waitForTimeout(300);
  t.equal(status(other.id), 'pending', 'the words typed on did not approve the other card');
  t.equal(received.filter((r) => r.url === '/v1/other').length, 0, 'nothing reached the upstream');
  t.match(await page.locator('.toast').allTextContents(), [/Denied elsewhere \(by cli\): POST api\.example:\d+\/v1\/typed-in/], 'a toast names the request decided elsewhere');
  t.notMatch(await page.evaluate(() => document.activeElement?.closest('[data-approval]')?.getAttribute('data-approval') ?? ''), /ap_/, 'focus is on no approval');
  // Once the typing stopped, the shortcuts work again.
  await look();
  await page.keyboard.press('j');
  t.equal(await page.evaluate(() => (document.activeElement as HTMLElement).dataset.approval), other.id, 'J selects a card again');

  // The same while the card moves between the sections (its agent went away) under the typing.
  const leaving = curl('POST', '/v1/agent-leaves', { body: '{}', maxTime: 2 });
  await card(page, '/v1/agent-leaves').waitFor();
  const gone = (await card(page, '/v1/agent-leaves').getAttribute('data-approval'))!;
  await page.click(`[data-approval="${gone}"] input[name=message]`);
  await page.keyboard.type('ok ', { delay: 20 });
  await leaving;
  await page.waitForSelector(`[data-approval="${gone}"][data-section=waiting]`);
  await page.keyboard.type('just a moment', { delay: 30 });
  await page.waitForTimeout(300);
  t.equal(status(other.id), 'pending', 'typing on while the card moved approved nothing');

  // Typing, then choosing a card on purpose: D denies it with the message typed on it, at once.
  await page.click(`[data-approval="${other.id}"] input[name=message]`);
  await page.keyboard.type('not now', { delay: 20 });
  await page.focus(`[data-approval="${other.id}"]`);
  await page.keyboard.press('d');
  const denied = await other.reply;
  t.equal(denied.status, 403);
  t.match(denied.body, /not now/, 'the deliberate D denied with the message');
  await cleanup(other, mine, { reply: Promise.resolve(), id: gone });
});

t.test('an action on a request another tab decided says so, naming the request', async (t) => {
  const other = await context.newPage();
  t.teardown(() => other.close());
  await other.goto(`${live.studioBase}/#/approvals`);
  await other.waitForFunction(() => document.querySelector('[data-testid=conn]')?.textContent?.includes('live'));
  const r = await held('/v1/contested');
  await card(other, '/v1/contested').waitFor();
  await look();
  // Tab 2 presses Deny; tab 1's approval lands first (before tab 2's request reaches the studio).
  await page.route('**/api/approvals/*/deny', async (route) => {
    await other.click(`[data-approval="${r.id}"] [data-action=approve]`);
    await other.locator(`[data-approval="${r.id}"]`).waitFor({ state: 'detached' });
    await route.continue();
  });
  await page.fill(`[data-approval="${r.id}"] input[name=message]`, 'stop');
  await page.click(`[data-approval="${r.id}"] [data-action=deny]`);
  t.equal((await r.reply).status, 200, 'the other tab approved it');
  await page.waitForSelector('.toast.error');
  t.match(await page.textContent('.toast.error'), /Not denied: POST api\.example:\d+\/v1\/contested \(agent bot\) was already approved \(by studio/, 'the toast names the request and what happened');
  t.match(await other.textContent('.toast.ok'), /Approved once: POST api\.example:\d+\/v1\/contested/);
  await page.unroute('**/api/approvals/*/deny');
  await page.locator(`[data-approval="${r.id}"]`).waitFor({ state: 'detached' });
});

t.test('logging in again in another tab leaves this tab able to act, and live', async (t) => {
  const other = await context.newPage();
  t.teardown(() => other.close());
  // The login URL opened again in a second tab: a new session replaces the cookie both tabs share.
  await other.goto(`${live.studioBase}/#token=${live.adminToken}`);
  await other.waitForFunction(() => document.querySelector('[data-testid=conn]')?.textContent?.includes('live'));
  const r = await held('/v1/after-other-login');
  await look();
  await page.click(`[data-approval="${r.id}"] [data-action=approve]`);
  t.equal((await r.reply).status, 200, 'this tab approved it');
  t.match(await page.textContent('.toast.ok'), /Approved once: POST api\.example:\d+\/v1\/after-other-login/);
  t.equal(await page.locator('#relogin').count(), 0, 'no login asked for');
  const next = await held('/v1/still-live'); // arrives over this tab's feed
  t.ok(next.id, 'this tab still receives new approvals');
  await cleanup(next);
});

t.test('a double click on a toast over a card does not land on the button beneath', async (t) => {
  const r = await held('/v1/under-toast');
  for (let i = 0; i < 10 && (await page.locator('.toast').count()); i++) await page.locator('.toast').first().click(); // earlier tests' toasts
  await look();
  const box = (await page.locator(`[data-approval="${r.id}"] [data-action=approve]`).boundingBox())!;
  // A toast sits over the card's "Approve once" (the test puts it there: where toasts show is
  // the corner of the window, over whatever card is there).
  await page.evaluate((b) => {
    window.dispatchEvent(new CustomEvent('airlock-toast', { detail: { message: 'Approved once: something else', kind: 'ok' } }));
    const bar = document.querySelector<HTMLElement>('.toasts')!;
    Object.assign(bar.style, { left: `${b.x - 20}px`, top: `${b.y - 10}px`, right: 'auto', bottom: 'auto' });
  }, box);
  await page.waitForSelector('.toast');
  await page.waitForTimeout(300); // the toast is on screen a while before the person clicks it
  await page.mouse.dblclick(box.x + box.width / 2, box.y + box.height / 2);
  await page.waitForTimeout(300);
  t.equal(status(r.id), 'pending', 'the second click of the double click approved nothing');
  t.match(await page.textContent(`[data-approval="${r.id}"] [data-testid=card-error]`), /changed just now/);
  await page.evaluate(() => document.querySelector<HTMLElement>('.toasts')!.removeAttribute('style'));
  await cleanup(r);
});

t.test('a request that arrives while the list loads is not lost', async (t) => {
  let arrived: { reply: Promise<{ status: number }>; id: string } | undefined;
  await page.route('**/api/approvals', async (route) => {
    const stale = await route.fetch(); // the list as it was before the arrival
    arrived = await held('/v1/during-load');
    await route.fulfill({ response: stale });
  });
  const listed = page.waitForResponse((r) => new URL(r.url()).pathname === '/api/approvals', { timeout: 30_000 });
  await page.reload();
  await page.waitForFunction(() => document.querySelector('[data-testid=conn]')?.textContent?.includes('live'));
  await listed; // answered with the list from before the arrival
  await waitFor(() => !!arrived);
  await page.waitForTimeout(400); // the page has applied that list
  await page.unroute('**/api/approvals');
  t.ok(arrived, 'a request arrived during the load');
  t.equal(await page.locator(`[data-approval="${arrived!.id}"]`).count(), 1, 'its card is still there');
  t.equal(await page.textContent('[data-testid=pending-badge]'), '1', 'and counted');
  await cleanup(arrived!);
});

t.test('an approval that arrived while the live feed was down is announced when it comes back', async (t) => {
  let drop = false;
  let toPage: { close(o?: { code?: number; reason?: string }): Promise<void> } | undefined;
  await page.routeWebSocket(/\/api\/ws/, (ws) => {
    const server = ws.connectToServer();
    server.onMessage((m) => !drop && ws.send(m));
    toPage = ws;
  });
  await page.reload();
  await page.waitForFunction(() => document.querySelector('[data-testid=conn]')?.textContent?.includes('live'));
  drop = true; // the feed is down: nothing reaches the page
  const r = curl('POST', '/v1/while-away', { body: '{}' });
  await waitFor(() => queue.list({ status: 'pending' }).some((a) => a.summary.path === '/v1/while-away'));
  drop = false;
  await toPage!.close({ code: 1011, reason: 'gone' }); // the page reconnects and reloads the list
  await card(page, '/v1/while-away').waitFor();
  await page.waitForFunction(() => /New approval needed: .*\/v1\/while-away/.test(document.querySelector('[data-testid=announcer]')?.textContent ?? ''), undefined, { timeout: 5000 });
  t.pass('announced');
  await page.unrouteAll();
  await cleanup({ reply: r, id: queue.list({ status: 'pending' }).find((a) => a.summary.path === '/v1/while-away')!.id });
});

t.test('after logging in again, focus is not back on an Approve button', async (t) => {
  const r = await held('/v1/before-relogin');
  await look();
  await page.focus(`[data-approval="${r.id}"] [data-action=approve]`);
  // The session ends (a studio restart does the same): the login opens over the page.
  await page.evaluate(async () => {
    const csrf = localStorage.getItem('airlock-session-token') ?? '';
    await fetch('/api/logout', { method: 'POST', headers: { 'x-airlock-csrf': csrf } });
  });
  await page.waitForSelector('#relogin-token');
  await page.fill('#relogin-token', live.adminToken);
  // Enter logs in; the hand's second Enter lands after the dialog closed.
  await page.keyboard.press('Enter');
  await page.waitForSelector('#relogin', { state: 'detached' });
  await page.keyboard.press('Enter');
  await page.waitForTimeout(300);
  t.equal(status(r.id), 'pending', 'the Enter after the login approved nothing');
  t.notMatch(await page.evaluate(() => document.activeElement?.closest('[data-approval]')?.getAttribute('data-approval') ?? ''), /ap_/, 'focus is on no approval');
  await cleanup(r);
});

t.test('a card whose hold ended after its body was read is approved without "unseen"', async (t) => {
  const tmp = fs.mkdtempSync(path.join(live.root, 'seen-'));
  const binFile = path.join(tmp, 'blob.bin');
  fs.writeFileSync(binFile, Buffer.from([0, 1, 2, 0xff, 0x41, 0x42, 0x43, 0x0a, 0x80]));
  // The record keeps no text of a binary body: only the held bytes show it.
  const first = curl('PATCH', '/v1/binary-later', { file: binFile, type: 'application/octet-stream' });
  await card(page, '/v1/binary-later').waitFor();
  const id = (await card(page, '/v1/binary-later').getAttribute('data-approval'))!;
  await page.waitForSelector(`[data-approval="${id}"] .hex`);
  t.equal((await first).status, 403, 'the hold ended (approval-timeout)');
  await page.waitForSelector(`[data-approval="${id}"][data-section=waiting]`);
  await look();
  await page.click(`[data-approval="${id}"] [data-action=approve]`);
  await page.locator(`[data-approval="${id}"]`).waitFor({ state: 'detached', timeout: 5000 }).catch(() => undefined);
  t.equal(status(id), 'approved', 'the body the person read was enough');
  const retry = await curl('PATCH', '/v1/binary-later', { file: binFile, type: 'application/octet-stream', headers: [`Airlock-Approval: ${id}`] });
  t.equal(retry.status, 200, "the agent's identical retry passes");
});

t.test("the agent's retry while the approval is open brings the card back to \"Held now\"", async (t) => {
  const first = await curl('PUT', '/v1/retry-held', { body: '{"v":1}' });
  t.equal(first.status, 403, 'the hold ended');
  const id = (JSON.parse(first.body) as { approval_id: string }).approval_id;
  await page.waitForSelector(`[data-approval="${id}"][data-section=waiting]`);
  const retry = curl('PUT', '/v1/retry-held', { body: '{"v":1}', headers: [`Airlock-Approval: ${id}`] });
  await page.waitForSelector(`[data-approval="${id}"][data-section=held]`, { timeout: 5000 });
  await page.waitForSelector(`[data-approval="${id}"] header >> text=held again · the agent retried`, { timeout: 3000 });
  await look();
  await page.click(`[data-approval="${id}"] [data-action=approve]`);
  t.equal((await retry).status, 200, 'the held retry goes through');
});

t.test('a request larger than the record keeps: the card shows all of it, or says it cannot', async (t) => {
  // A JSON body of ~40 KB and a URL of ~9 KB: the approval record keeps a 16 KiB copy of the
  // description. The part that matters is at the end of each.
  const json = JSON.stringify({ items: Array.from({ length: 600 }, (_, i) => ({ n: i, v: 'harmless value' })), last: 'DROP_EVERYTHING' });
  const query = `?q=${'a'.repeat(9000)}&then=EXFILTRATE`;
  const first = await curl('PATCH', `/v1/large${query}`, { body: json });
  t.equal(first.status, 403, 'the hold ended: only the record is left');
  const id = (JSON.parse(first.body) as { approval_id: string }).approval_id;
  t.equal(queue.get(id).description_complete, false, 'the record holds a shortened copy');
  // A person opens the studio now (a reload: nothing loaded while it was held).
  await page.reload();
  const sel = `[data-approval="${id}"]`;
  await page.waitForSelector(`${sel} .url >> text=then=EXFILTRATE`, { timeout: 5000 });
  await page.waitForSelector(`${sel} .body-box >> text=DROP_EVERYTHING`, { timeout: 5000 });
  t.notMatch(await page.textContent(`${sel} .url`), /more characters/, 'the whole URL is on the card');
  await look();
  // The whole description came from the studio: approving it needs nothing more.
  await page.click(`${sel} .body-box [data-action=expand-body]`).catch(() => undefined);
  await page.waitForSelector(`${sel} .approve-blocked`, { state: 'detached', timeout: 3000 }).catch(() => undefined);
  await look();
  await page.click(`${sel} [data-action=approve]`);
  await page.locator(sel).waitFor({ state: 'detached', timeout: 5000 });
  t.equal(status(id), 'approved');
  // Through the API, without having read the whole description, the same record is "not shown".
  const again = await curl('PATCH', '/v1/large2', { body: json }); // the URL is short: only the body is cut
  const id2 = (JSON.parse(again.body) as { approval_id: string }).approval_id;
  const login = await fetch(`${live.studioBase}/api/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token: live.adminToken }) });
  const cookie = login.headers.getSetCookie()[0]!.split(';')[0]!;
  const { csrf } = (await login.json()) as { csrf: string };
  const r = await fetch(`${live.studioBase}/api/approvals/${id2}/approve`, { method: 'POST', headers: { cookie, 'x-airlock-csrf': csrf, 'content-type': 'application/json' }, body: '{}' });
  t.equal(r.status, 403, 'a body cut in the record is not approved unseen');
  t.match(await r.json(), { code: 'body-not-shown' });
  // The whole description gone from storage: the bounded copy is never passed off as whole.
  fs.rmSync(path.join(stateFile(live.home, 'approvalRecords'), `${id2}.request.json`));
  const lost = await fetch(`${live.studioBase}/api/approvals/${id2}`, { headers: { cookie, 'x-airlock-csrf': csrf } });
  t.equal(lost.status, 503, 'no whole description: 503, not the shortened copy as whole');
  t.match(await lost.json(), { code: 'description-unavailable' });
  await queue.deny(id2, { by: 'test' });
});

t.test('TOTP enrolled while a critical card is on screen: the code field comes to the card', async (t) => {
  const r = curl('DELETE', '/v1/critical-before-enroll');
  await card(page, '/v1/critical-before-enroll').waitFor();
  const id = (await card(page, '/v1/critical-before-enroll').getAttribute('data-approval'))!;
  const sel = `[data-approval="${id}"]`;
  await page.waitForSelector(`${sel} >> text=no TOTP is enrolled`);
  const totp = new TotpStore(live.home);
  const { secret } = await totp.enroll(); // `airlock totp enroll` in another terminal
  t.teardown(() => totp.unenroll());
  await look();
  await page.click(`${sel} [data-action=approve]`);
  await page.waitForSelector(`${sel} input[name=totp]`, { timeout: 5000 });
  t.match(await page.textContent(`${sel} [data-testid=card-error]`), /needs a TOTP code/, 'said on the card');
  t.equal(await page.evaluate((s) => document.activeElement === document.querySelector(`${s} input[name=totp]`), sel), true, 'the code field has focus');
  t.equal(status(id), 'pending');
  await look();
  await page.keyboard.type(TotpStore.codeFor(secret));
  await page.keyboard.press('Enter');
  t.equal((await r).status, 200, 'approved with the code');
});

t.test('the API refuses an action on anything but the request and body the person saw', async (t) => {
  const login = await fetch(`${live.studioBase}/api/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token: live.adminToken }) });
  const cookie = login.headers.getSetCookie()[0]!.split(';')[0]!;
  const { csrf } = (await login.json()) as { csrf: string };
  const post = async (url: string, body: unknown) => {
    const res = await fetch(`${live.studioBase}${url}`, { method: 'POST', headers: { cookie, 'x-airlock-csrf': csrf, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    return { status: res.status, body: (await res.json()) as { code?: string; error?: string } };
  };
  const a = await held('/v1/api-a', { body: '{"n":1}' });
  const b = await held('/v1/api-b', { body: '{"n":2}' });
  const ra = queue.get(a.id);
  const rb = queue.get(b.id);
  // The request the person saw was A; the id names B (a mixed-up id): refused, nothing happens.
  for (const kind of ['approve', 'deny', 'grant']) {
    const r = await post(`/api/approvals/${b.id}/${kind}`, { request_hash: ra.request_hash, minutes: 5 });
    t.equal(r.status, 409, `${kind} with another request's hash`);
    t.equal(r.body.code, 'not-what-was-seen');
  }
  const body = await post(`/api/approvals/${b.id}/approve`, { request_hash: rb.request_hash, body_sha256: ra.description.request.body.sha256 });
  t.equal(body.status, 409, "approve with another body's hash", { got: body });
  t.equal(body.body.code, 'not-what-was-seen');
  t.equal(status(b.id), 'pending', { res: queue.get(b.id).resolution, used: queue.get(b.id).used_at });
  // A prefix with the right hash works (the CLI names approvals by prefix).
  const ok = await post(`/api/approvals/${b.id.slice(0, 10)}/approve`, { request_hash: rb.request_hash, body_sha256: rb.description.request.body.sha256 });
  t.equal(ok.status, 200);
  t.equal((await b.reply).status, 200);
  const denied = await post(`/api/approvals/${a.id}/deny`, { request_hash: ra.request_hash });
  t.equal(denied.status, 200);
  t.equal((await a.reply).status, 403);
  t.same(consoleErrors, [], 'no script errors in the page');
});
