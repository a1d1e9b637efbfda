// Eighteenth pass, in Debian's Chromium against a whole Airlock, curl as the agent: the studio's
// window brought to the front by another page while the person types or clicks there (keys and clicks
// of a run that began before the window came up were aimed at the other window, and are not taken as
// actions on a card); cookies that say whose account a request acts in, whose values the card cannot
// show, are not approved at a click.
import t from 'tap';
import http from 'node:http';
import { GUARD_MS, look as lookAt, openInbox, startLiveAirlock } from './helpers.ts';
import type { ApprovalQueue } from '../../state/approvals.ts';

const policy = `package airlock

import rego.v1

default decision := {"action": "deny", "reason": "not allowed", "rule": "default"}

decision := {"action": "approve", "reason": "writes need a human", "rule": "write", "approval": {"risk": "high", "timeout": "60s"}} if input.request.method == "POST"
`;

const live = await startLiveAirlock(t, policy);
const { airlock, curl, received } = live;
const queue = (airlock as unknown as { approvals: ApprovalQueue }).approvals;
const { context, page, consoleErrors } = await openInbox(t, live);
const look = () => lookAt(page);
const status = (id: string) => queue.get(id).status;

async function held(pathname: string, o: Parameters<typeof curl>[2] = {}) {
  const reply = curl('POST', pathname, { body: '{}', ...o });
  const card = page.locator('[data-approval]').filter({ has: page.locator('.url', { hasText: new RegExp(`${pathname.replace(/[/.?+*()[\]{}|^$\\]/g, '\\$&')}$`) }) });
  await card.waitFor();
  return { reply, id: (await card.getAttribute('data-approval'))! };
}

t.test('keys typed for another window that brought the studio up are not shortcuts (eighteenth pass)', async (t) => {
  // A page the agent serves (a dev server the person opens) brings the studio's window up
  // (window.open) while the person types a sentence there. The front guard ignores actions for
  // 700 ms; the typing went on: "please wait just a moment" held a J that selected the first card
  // and, 1.7 s after the window came up, an A that approved it.
  const one = await held('/v1/typed-into', { body: '{"amount": 5}' });
  await look();
  const before = queue.list({ status: 'pending' }).map((a) => a.id);
  await page.locator('#approval-list').focus();
  await page.evaluate(() => window.dispatchEvent(new FocusEvent('focus')));
  await page.keyboard.type('please wait just a moment', { delay: 100 });
  const hint = await page.locator('.hint-line', { hasText: 'came to the front while keys were being typed' }).textContent({ timeout: 3000 }).catch(() => '');
  await page.waitForTimeout(300);
  t.same(before.map((id) => status(id)), before.map(() => 'pending'), 'no card was approved or denied by the typing');
  t.equal(received.filter((r) => r.url === '/v1/typed-into').length, 0, 'nothing reached the upstream');
  t.match(hint, /not shortcuts/, 'the hint says why');
  // Control: after a pause, J and A are shortcuts again.
  await page.waitForTimeout(1400);
  await page.locator(`[data-approval="${one.id}"]`).focus();
  await page.keyboard.press('a');
  t.equal((await one.reply).status, 200, 'A after a pause approves the selected card');
});

t.test('clicks of a run that began before the studio came to the front are not taken (eighteenth pass)', async (t) => {
  // The mouse's form of the same: a page asking for rapid clicks ("click as fast as you can")
  // brings the studio up with a card's Approve under the pointer; the front guard ignored the
  // clicks of its first 700 ms, and the ones after approved the card.
  const one = await held('/v1/clicked-into', { body: '{"amount": 5}' });
  await look();
  const button = page.locator(`[data-approval="${one.id}"] [data-action=approve]`);
  await button.scrollIntoViewIfNeeded();
  const box = (await button.boundingBox())!;
  await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
  await page.evaluate(() => window.dispatchEvent(new FocusEvent('focus')));
  for (let i = 0; i < 12; i++) {
    await page.mouse.down();
    await page.mouse.up();
    await page.waitForTimeout(150);
  }
  const said = await page.locator(`[data-approval="${one.id}"] [data-testid=card-error]`, { hasText: 'while clicks were coming' }).textContent({ timeout: 3000 }).catch(() => '');
  await page.waitForTimeout(300);
  t.equal(status(one.id), 'pending', 'no click of the run approved the card');
  t.equal(received.filter((r) => r.url === '/v1/clicked-into').length, 0, 'nothing reached the upstream');
  t.match(said, /after a pause/, 'the card says why');
  // Control: after a pause, a click is taken.
  await page.waitForTimeout(GUARD_MS + 200);
  await button.click();
  t.equal((await one.reply).status, 200, 'a click after a pause approves');
});

t.test('Space or Enter typed for another window does not press a focused Approve (eighteenth pass)', async (t) => {
  // Focus was left on a card's Approve (the person had tabbed to it) when they went to another
  // window. A page there brings the studio up while they type: a Space of the sentence past the
  // first 700 ms pressed the button.
  const one = await held('/v1/spaced-into', { body: '{"amount": 5}' });
  await look();
  await page.focus(`[data-approval="${one.id}"] [data-action=approve]`);
  await page.evaluate(() => window.dispatchEvent(new FocusEvent('focus')));
  await page.keyboard.type('ok then, sending it now', { delay: 100 });
  await page.keyboard.press('Enter');
  const said = await page.locator(`[data-approval="${one.id}"] [data-testid=card-error]`, { hasText: 'while keys were coming' }).textContent({ timeout: 3000 }).catch(() => '');
  await page.waitForTimeout(300);
  t.equal(status(one.id), 'pending', 'no Space or Enter of the typing approved the card');
  t.equal(received.filter((r) => r.url === '/v1/spaced-into').length, 0, 'nothing reached the upstream');
  t.match(said, /after a pause/, 'the card says why');
  // Control: after a pause, Enter on the focused button approves.
  await page.waitForTimeout(1400);
  await page.focus(`[data-approval="${one.id}"] [data-action=approve]`);
  await page.keyboard.press('Enter');
  t.equal((await one.reply).status, 200, 'Enter after a pause approves');
});

t.test('an account cookie the card cannot show is not approved at a click: past the shown cookies, or once the hold ended (eighteenth pass)', async (t) => {
  // The card shows a held request's cookie values (an account beside the session) from memory, at
  // most 50 of them: `account_id=acct_1Attacker` put 51st read "1 more cookie not shown", and an agent
  // that hung up once held left a card waiting for its retry with every value redacted. Both were
  // approved at a click; the agent's retry charged the attacker's account.
  const padding = Array.from({ length: 50 }, (_, i) => `pref${i}=dark`).join('; ');
  const past = await held('/v1/cookie-past', { body: '{"amount": 5}', headers: [`Cookie: ${padding}; account_id=acct_1Attacker`] });
  const hangUp = new AbortController();
  const gone = curl('POST', '/v1/cookie-gone', { body: '{"amount": 5}', headers: ['Cookie: account_id=acct_1Attacker'], signal: hangUp.signal });
  const goneCard = page.locator('[data-approval]').filter({ has: page.locator('.url', { hasText: /\/v1\/cookie-gone$/ }) });
  await goneCard.waitFor();
  const goneId = (await goneCard.getAttribute('data-approval'))!;
  await page.waitForSelector(`[data-approval="${goneId}"][data-section=held]`);
  hangUp.abort();
  await gone;
  await page.waitForSelector(`[data-approval="${goneId}"][data-section=waiting]`);
  await look();
  for (const [id, why] of [[past.id, /more cookies than the card shows/], [goneId, /shown only while it is held, by the Airlock holding it/]] as const) {
    await page.waitForSelector(`[data-approval="${id}"] .approve-blocked`);
    t.match(await page.textContent(`[data-approval="${id}"] .approve-blocked`), why, 'the card says what it cannot show');
    t.ok(await page.isDisabled(`[data-approval="${id}"] [data-action=approve]`), 'Approve once waits for the explicit choice');
    const login = await fetch(`${live.studioBase}/api/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token: live.adminToken }) });
    const cookie = login.headers.getSetCookie()[0]!.split(';')[0]!;
    const { csrf } = (await login.json()) as { csrf: string };
    const refused = await fetch(`${live.studioBase}/api/approvals/${id}/approve`, { method: 'POST', headers: { cookie, 'x-airlock-csrf': csrf, 'content-type': 'application/json' }, body: '{}' });
    t.match(await refused.json(), { code: 'body-not-shown' }, 'the API refuses it unseen');
    t.equal(status(id), 'pending');
  }
  t.equal(received.filter((r) => r.url.startsWith('/v1/cookie-')).length, 0, 'nothing reached the upstream');
  // Control: the account cookie among the 50 shown, while held, is approved at a click.
  await queue.deny(past.id, { by: 'test' });
  await queue.deny(goneId, { by: 'test' });
  await past.reply;
  const shown = await held('/v1/cookie-shown', { body: '{"amount": 5}', headers: ['Cookie: pref=dark; account_id=acct_1Mine'] });
  await look();
  await page.waitForSelector(`[data-approval="${shown.id}"] [data-testid=held-cookies] >> text=acct_1Mine`);
  await page.click(`[data-approval="${shown.id}"] [data-action=approve]`);
  t.equal((await shown.reply).status, 200, 'a held request whose cookies are all on the card is approved at a click');
});

t.test('keys going on while a page opens the studio in a new window are not actions (nineteenth pass)', async (t) => {
  // A page the agent serves opens the studio in a window of its own (window.open) while the person
  // types a sentence there (or clicks rapidly: the same guard). A freshly loaded studio had never
  // "come to the front" (no focus event reaches the inbox, which is made after the session
  // resumes), so the guards of the eighteenth pass had nothing to measure from: J selected the
  // first card and A approved it (rapid clicks on Approve's place approved it too).
  const one = await held('/v1/opened-into', { body: '{"amount": 5}' });
  await look();
  const neighbour = http.createServer((_req, res) => res.end('<p>a dev server</p>'));
  await new Promise<void>((r) => neighbour.listen(0, '127.0.0.1', r));
  t.teardown(() => neighbour.close());
  const other = await context.newPage();
  await other.goto(`http://127.0.0.1:${(neighbour.address() as { port: number }).port}/`);
  const opened = context.waitForEvent('page');
  await other.evaluate((url) => void window.open(url), `${live.studioBase}/#/approvals`);
  const studio = await opened;
  await studio.keyboard.type('please wait, just a moment, just a moment', { delay: 100 });
  await studio.waitForTimeout(300);
  t.equal(status(one.id), 'pending', 'no card was approved or denied by the typing');
  t.equal(received.filter((r) => r.url === '/v1/opened-into').length, 0, 'nothing reached the upstream');
  // Control: in the window that opened, a click after a pause is taken.
  await studio.waitForTimeout(GUARD_MS + 200);
  await studio.locator(`[data-approval="${one.id}"] [data-action=deny]`).click();
  t.equal((await one.reply).status, 403, 'a click after a pause denies');
  await studio.close();
  await other.close();
});

t.test('a click pressed while the page was too busy to show a shift is not taken once it is handled (twentieth pass)', async (t) => {
  // The change guard measured from when the page's script moved the cards to when it handled the
  // click, both by the clock at handling. A card decided elsewhere moves the next one under the
  // pointer; the page is busy (a flood of rows, a large card) and shows the new places only after:
  // a click the person pressed on what they saw, 200 ms after the move, was handled 1.5 s after
  // it and approved the card that had slid under the pointer, which they had never seen there.
  const cards = [];
  for (const name of ['stall-a', 'stall-b', 'stall-c']) cards.push(await held(`/v1/${name}`, { body: '{"amount": 5}' }));
  const [first, second, third] = cards as [typeof cards[0], typeof cards[0], typeof cards[0]];
  await look();
  const button = page.locator(`[data-approval="${second.id}"] [data-action=approve]`);
  await button.scrollIntoViewIfNeeded();
  await look();
  const box = (await button.boundingBox())!;
  await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
  // As a busy page does: the task that moves the cards goes on for 1.5 s before anything is painted.
  await page.evaluate((gone) => {
    const watch = new MutationObserver(() => {
      if (document.querySelector(`[data-approval="${gone}"]`)) return;
      watch.disconnect();
      const until = performance.now() + 1500;
      while (performance.now() < until) { /* busy */ }
    });
    watch.observe(document.body, { childList: true, subtree: true });
  }, first.id);
  await queue.deny(first.id, { by: 'test' });
  await new Promise((r) => setTimeout(r, 200));
  await page.mouse.down();
  await page.mouse.up();
  await first.reply;
  await page.waitForTimeout(300);
  t.same([second.id, third.id].map((id) => status(id)), ['pending', 'pending'], 'neither card was approved by the click pressed before the move was shown');
  t.equal(received.filter((r) => r.url.startsWith('/v1/stall-')).length, 0, 'nothing reached the upstream');
  // Control: a click after a look is taken.
  await look();
  await page.click(`[data-approval="${second.id}"] [data-action=deny]`);
  t.equal((await second.reply).status, 403, 'a click after a look denies');
  await queue.deny(third.id, { by: 'test' });
  await third.reply;
});

t.test("an agent holding and letting go of its own card in a loop does not keep the person from acting on another card (twentieth pass)", async (t) => {
  // A pending card moves between "Held now" and "Waiting for a retry" as its request holds and lets
  // go, and the cards after it move with it: an agent retrying its own approval and hanging up every
  // 400 ms kept every card "changed just now", so no click approved or denied any of them.
  const firstHangUp = new AbortController();
  const flipper = await held('/v1/flip-own', { body: '{"amount": 1}', signal: firstHangUp.signal });
  const victim = await held('/v1/flip-victim', { body: '{"amount": 7}' });
  firstHangUp.abort();
  await flipper.reply.catch(() => undefined);
  await page.waitForSelector(`[data-approval="${flipper.id}"][data-section=waiting]`);
  let stop = false;
  const loop = (async () => {
    for (let i = 0; i < 100 && !stop; i++) {
      const hangUp = new AbortController();
      const reply = curl('POST', '/v1/flip-own', { body: '{"amount": 1}', headers: [`Airlock-Approval: ${flipper.id}`], signal: hangUp.signal });
      await new Promise((r) => setTimeout(r, 150));
      hangUp.abort();
      await reply.catch(() => undefined);
      await new Promise((r) => setTimeout(r, 250));
    }
  })();
  await page.waitForTimeout(1500);
  let done = false;
  for (let attempt = 0; attempt < 3 && !done; attempt++) {
    await look();
    await page.click(`[data-approval="${victim.id}"] [data-action=deny]`);
    done = await page.locator(`[data-approval="${victim.id}"]`).waitFor({ state: 'detached', timeout: 1500 }).then(() => true, () => false);
  }
  stop = true;
  await loop;
  t.ok(done, 'the person denied the other card within three looks');
  if (!done) await queue.deny(victim.id, { by: 'test' });
  t.equal((await victim.reply).status, 403);
  await queue.deny(flipper.id, { by: 'test' });
});

t.test('no script errors in the page', async (t) => {
  t.same(consoleErrors, []);
});
