// End-to-end tests of the desktop app: the real window backend (`wails dev`, its embedded
// broker and Go bindings), the real proxy (`airlock wrap`), real MCP servers. A person's
// clicks are Playwright's, in Chromium on the dev server's URL. The tests run in order and
// share one page: the Activity test checks the decisions made by the tests before it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import {
  AIRLOCK_HOME, DANGER, FILESYSTEM, HERE, NODE, openApp, shot, text, within, wrapClient, wrapRaw,
} from './lib.mjs';

const CARD = '[data-testid="approval-card"]';
// The card-latency target (p95 at most 250 ms) is a speed target: the test measures and
// prints it always, and fails on it only when asked (scripts/bench-ui.sh sets the budget),
// so that a loaded CI machine does not turn a figure into a flaky test.
const LATENCY_BUDGET_MS = Number(process.env.AIRLOCK_UI_LATENCY_BUDGET_MS || 0);

let app; // { browser, page, errors, dialogs, status }
let page;
let root;
const clients = [];
const raws = [];

before(async () => {
  app = await openApp();
  page = app.page;
  // The page must be bound to the app started by run.sh, not to some other Airlock.
  assert.equal(app.status.mode, 'embedded', `app status: ${JSON.stringify(app.status)}`);
  assert.equal(app.status.socket, join(AIRLOCK_HOME, 'run', 'broker.sock'));
  root = realpathSync(mkdtempSync(join(tmpdir(), 'alui-root-')));
});

after(async () => {
  for (const c of clients) await c.client.close().catch(() => {});
  for (const r of raws) r.child.kill('SIGKILL');
  await app?.browser.close().catch(() => {});
  if (root) rmSync(root, { recursive: true, force: true });
});

/** The launch card for server NAME. */
const launchCard = (name) => page.locator(`${CARD}[data-kind="launch"]`).filter({ hasText: `Start server ${name}` });

/** Approves (or denies) the launch of a client's server, and waits for connect(). */
async function consentLaunch(name, argv, button, connecting, stderrText = () => '') {
  const card = launchCard(name);
  await card.waitFor({ state: 'visible', timeout: 20_000 });
  const shown = await card.getByTestId('launch-arg').allTextContents();
  assert.equal(shown.length, argv.length, `argv shown: ${JSON.stringify(shown)}`);
  argv.forEach((a, i) => assert.ok(shown[i].includes(a), `argument ${i}: ${JSON.stringify(shown[i])} should show ${a}`));
  await card.getByTestId(button).click();
  await card.waitFor({ state: 'detached', timeout: 10_000 });
  if (connecting) {
    try {
      await within(connecting, 30_000, `${name} to connect`);
    } catch (e) {
      e.message += `\n--- stderr of airlock wrap --name ${name}:\n${stderrText()}`;
      throw e;
    }
  }
}

test('1. launch consent, then write_file allowed once and denied with a reason', async () => {
  const argv = [NODE, FILESYSTEM, root];
  const fs = wrapClient('fs', argv);
  clients.push(fs);
  const connecting = fs.client.connect(fs.transport, { timeout: 60_000 });
  connecting.catch(() => {});
  await consentLaunch('fs', argv, 'allow-always', connecting, fs.stderrText);

  // Allow once: the file is written.
  const fileA = join(root, 'allowed.txt');
  const content = 'written after a person clicked Allow once\n';
  const callA = fs.client.callTool({ name: 'write_file', arguments: { path: fileA, content } }, undefined, { timeout: 60_000 });
  const cardA = page.locator(`${CARD}[data-tool="write_file"]`).filter({ hasText: 'allowed.txt' });
  await cardA.waitFor({ state: 'visible', timeout: 20_000 });
  assert.equal(await cardA.getByTestId('tier-badge').getAttribute('data-tier'), '3');
  assert.ok((await cardA.textContent()).includes(content.trim()), 'the card shows the content argument');
  await shot(page, 'approvals');
  await cardA.getByTestId('allow-once').click();
  const resA = await within(callA, 20_000, 'write_file result');
  assert.ok(!resA.isError, `write_file failed: ${text(resA)}\n${fs.stderrText()}`);
  assert.equal(readFileSync(fileA, 'utf8'), content);
  await cardA.waitFor({ state: 'detached', timeout: 10_000 });

  // Deny with a reason: the agent gets the reason, nothing is written.
  const fileB = join(root, 'denied.txt');
  const reason = 'UI test: not this file, please';
  const callB = fs.client.callTool({ name: 'write_file', arguments: { path: fileB, content: 'must not exist' } }, undefined, { timeout: 60_000 });
  const cardB = page.locator(`${CARD}[data-tool="write_file"]`).filter({ hasText: 'denied.txt' });
  await cardB.waitFor({ state: 'visible', timeout: 20_000 });
  await cardB.getByTestId('deny-reason').fill(reason);
  await cardB.getByTestId('deny').click();
  const resB = await within(callB, 20_000, 'denied write_file result');
  assert.equal(resB.isError, true, `expected a refusal, got ${JSON.stringify(resB)}`);
  assert.ok(text(resB).includes(reason), `refusal should carry the reason: ${text(resB)}`);
  assert.equal(existsSync(fileB), false, 'the denied file must not exist');
});

test('2. launch card highlights sudo; Deny makes the proxy refuse its first request', async () => {
  const raw = wrapRaw('sudo-test', ['sudo', '-n', 'true']);
  raws.push(raw);
  const first = raw.next();
  raw.send({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'airlock-ui-test', version: '1.0.0' } } });

  const card = launchCard('sudo-test');
  await card.waitFor({ state: 'visible', timeout: 20_000 });
  const arg0 = card.getByTestId('launch-arg').first();
  const hl = arg0.locator('[data-testid="span-highlight"][data-category="privilege"]');
  assert.equal(await hl.count(), 1, 'argument 0 has one privilege highlight');
  // The highlighted text, without the span's reference number (<sup>1</sup>).
  const marked = await hl.evaluate((el) => { const c = el.cloneNode(true); c.querySelectorAll('sup').forEach((s) => s.remove()); return c.textContent; });
  assert.equal(marked, 'sudo');
  assert.ok(await hl.isVisible());
  await shot(page, 'launch');
  await card.getByTestId('deny').click();

  const msg = await within(first, 20_000, `the proxy's answer (stderr: ${raw.stderr()})`);
  assert.equal(msg.id, 1);
  assert.ok(msg.error, `expected an error, got ${JSON.stringify(msg)}`);
  assert.match(msg.error.message, /launch was not approved/);
  raw.child.stdin.end();
});

test('3. an injection payload in arguments renders as text', async () => {
  const argv = [NODE, DANGER];
  const c = wrapClient('danger', argv);
  clients.push(c);
  const connecting = c.client.connect(c.transport, { timeout: 60_000 });
  connecting.catch(() => {});
  await consentLaunch('danger', argv, 'allow-once', connecting, c.stderrText);

  const args = { note: '<img src=x onerror=window.__pwned=1>', html: '<script>window.__pwned=2</script>' };
  const call = c.client.callTool({ name: 'delete_everything', arguments: args }, undefined, { timeout: 60_000 });
  const card = page.locator(`${CARD}[data-tool="delete_everything"]`).filter({ hasText: '__pwned' });
  await card.waitFor({ state: 'visible', timeout: 20_000 });
  assert.equal(await card.getByTestId('tier-badge').getAttribute('data-tier'), '3');
  const shown = await card.textContent();
  assert.ok(shown.includes(args.note), `card should show ${args.note} literally: ${shown}`);
  assert.ok(shown.includes(args.html), `card should show ${args.html} literally: ${shown}`);
  assert.equal(await card.locator('img').count(), 0, 'no <img> in the card');
  assert.equal(await page.locator('img[src="x"]').count(), 0, 'no <img src=x> anywhere');
  assert.equal(await card.locator('script').count(), 0, 'no <script> in the card');
  assert.equal(await page.evaluate(() => typeof window.__pwned), 'undefined');
  await card.getByTestId('deny').click();
  const res = await within(call, 20_000, 'delete_everything result');
  assert.equal(res.isError, true);
  // Still nothing ran after the card went away.
  assert.equal(await page.evaluate(() => typeof window.__pwned), 'undefined');
  assert.deepEqual(app.dialogs, [], 'no dialog was opened');
});

test('4. Activity lists the decisions and the log verifies', async () => {
  await page.getByTestId('nav-activity').click();
  const rows = page.getByTestId('activity-row');
  const want = [
    // [server, text in the row, outcome]
    ['fs', 'Server launch', 'allowed'],
    ['fs', 'write_file', 'allowed'],
    ['fs', 'write_file', 'denied'],
    ['sudo-test', 'Server launch', 'denied'],
    ['danger', 'Server launch', 'allowed'],
    ['danger', 'delete_everything', 'denied'],
  ];
  let cells = [];
  const deadline = Date.now() + 15_000;
  for (;;) {
    cells = await rows.evaluateAll((trs) => trs.map((tr) => [...tr.cells].map((td) => td.textContent.replace(/\s+/g, ' ').trim())));
    const missing = want.filter(([s, what, out]) => !cells.some((c) => c[1] === s && c[2].includes(what) && c[4].includes(out)));
    if (!missing.length) break;
    if (Date.now() > deadline) assert.fail(`activity rows missing ${JSON.stringify(missing)}; rows: ${JSON.stringify(cells)}`);
    await page.waitForTimeout(250);
  }
  const timeline = page.locator('section.panel', { hasText: 'Last 24 hours' });
  assert.ok(await timeline.isVisible(), 'timeline panel visible');

  await page.getByTestId('verify-log').click();
  const result = page.getByTestId('verify-result');
  await result.waitFor({ state: 'visible', timeout: 10_000 });
  assert.match(await result.getAttribute('class'), /\bok\b/);
  assert.match(await result.textContent(), /Log intact: \d+ rows? verified/);
  await shot(page, 'activity');
});

test('5. card latency: proxy receives a tier-3 call → card visible', async () => {
  const c = clients.find((x) => x.transport && x.client.getServerVersion()?.name === 'danger-fixture');
  assert.ok(c, 'the danger client from test 3');
  await page.getByTestId('nav-approvals').click();
  // The client's send time: when the SDK hands the request to the transport (stdin of the proxy).
  const sent = new Map();
  const send = c.transport.send.bind(c.transport);
  c.transport.send = (msg, opts) => {
    const label = msg?.params?.arguments?.counter;
    if (label) sent.set(label, performance.timeOrigin + performance.now());
    return send(msg, opts);
  };
  const now = () => performance.timeOrigin + performance.now();
  const rafMs = [];
  const selMs = [];
  for (let i = 1; i <= 20; i++) {
    const label = `latency-probe-${String(i).padStart(2, '0')}`;
    const sel = `${CARD}[data-tool="delete_everything"]:has-text("${label}")`;
    const call = c.client.callTool({ name: 'delete_everything', arguments: { counter: label } }, undefined, { timeout: 60_000 });
    // Two clocks on the same card. page.waitForSelector re-queries over CDP at 0, 20, 50,
    // 100, 100… ms, so it can see a card up to ~100 ms late; a function polled on every
    // animation frame inside the page sees it in the first frame it is drawn visible.
    let tSel = 0;
    let tRaf = 0;
    await Promise.all([
      page.waitForSelector(sel, { state: 'visible', timeout: 10_000 }).then(() => { tSel = now(); }),
      page.waitForFunction((l) => [...document.querySelectorAll('[data-testid="approval-card"][data-tool="delete_everything"]')]
        .some((el) => el.textContent.includes(l) && el.checkVisibility({ opacityProperty: true, visibilityProperty: true })),
      label, { polling: 'raf', timeout: 10_000 }).then(() => { tRaf = now(); }),
    ]);
    rafMs.push(tRaf - sent.get(label));
    selMs.push(tSel - sent.get(label));
    await page.locator(sel).getByTestId('deny').click();
    const res = await within(call, 20_000, `${label} result`);
    assert.equal(res.isError, true);
    await page.waitForSelector(sel, { state: 'detached', timeout: 10_000 });
  }
  const pctOf = (xs, p) => { const s = [...xs].sort((a, b) => a - b); return s[Math.ceil((p / 100) * s.length) - 1]; };
  const pct = (p) => pctOf(rafMs, p);
  const line = `card latency: p50=${pct(50).toFixed(0)} ms p95=${pct(95).toFixed(0)} ms`;
  const detail = `card latency via page.waitForSelector polling: p50=${pctOf(selMs, 50).toFixed(0)} ms p95=${pctOf(selMs, 95).toFixed(0)} ms`;
  console.log(line);
  console.log(detail);
  writeFileSync(join(HERE, 'latency.txt'),
    `${line}\n# ${rafMs.length} sequential tier-3 calls (delete_everything), from the MCP client handing the request to\n` +
    `# airlock wrap's stdin to the first animation frame in which the card is visible (page.waitForFunction, raf polling).\n` +
    `# ${new Date().toISOString()}; samples ms: ${rafMs.map((s) => s.toFixed(0)).join(' ')}\n` +
    `# ${detail}\n# samples ms: ${selMs.map((s) => s.toFixed(0)).join(' ')}\n`);
  if (LATENCY_BUDGET_MS > 0) {
    assert.ok(pct(95) <= LATENCY_BUDGET_MS, `${line}: p95 over the ${LATENCY_BUDGET_MS} ms target`);
  }
});
