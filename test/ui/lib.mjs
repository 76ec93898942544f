// Shared helpers for the desktop-app tests. Not a test file itself (no .test. in the name).
// run.sh starts `wails dev` (the real app, its embedded broker and Go bindings) and sets:
//   AIRLOCK        the airlock CLI binary (go build of this repo), used as the proxy
//   AIRLOCK_HOME   the home the app's broker uses; proxies started here use it too, so they
//                  talk to the app over $AIRLOCK_HOME/run/broker.sock
//   APP_URL        where `wails dev` serves the UI with working bindings
//   CHROMIUM       the browser playwright-core drives
import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';

export const HERE = dirname(fileURLToPath(import.meta.url));
export const REPO = resolve(HERE, '../..');
export const NODE = process.execPath;
export const FILESYSTEM = join(REPO, 'test/peers/node_modules/@modelcontextprotocol/server-filesystem/dist/index.js');
export const DANGER = join(HERE, 'fixtures/danger-server.mjs');
export const DOCS = join(REPO, 'docs');

function need(name) {
  const v = process.env[name];
  if (!v) throw new Error(`set ${name} (test/ui/run.sh does)`);
  return v;
}
export const AIRLOCK = need('AIRLOCK');
export const AIRLOCK_HOME = need('AIRLOCK_HOME');
export const APP_URL = process.env.APP_URL || 'http://localhost:34115';
export const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
export const SCREENSHOTS = process.env.AIRLOCK_SCREENSHOTS === '1';

export const env = (extra = {}) => ({ ...process.env, AIRLOCK_HOME, ...extra });

/** Opens the app in Chromium: 1280×800, light theme, bindings connected. */
export async function openApp() {
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--disable-quic'],
  });
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, colorScheme: 'light' });
  await context.addInitScript(() => { try { localStorage.setItem('airlock.theme', 'light'); } catch { /* ignore */ } });
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  // Every dialog (alert from an injected payload, say) is recorded and dismissed.
  const dialogs = [];
  page.on('dialog', (d) => { dialogs.push(d.message()); d.dismiss().catch(() => {}); });
  await page.goto(APP_URL);
  await page.waitForFunction(() => typeof window.go?.desktop?.App?.Status === 'function', null, { timeout: 60_000 });
  const status = await page.evaluate(() => window.go.desktop.App.Status());
  return { browser, page, errors, dialogs, status };
}

/** An MCP client on `airlock wrap --name NAME -- argv…`; connect() is not awaited here. */
export function wrapClient(name, argv) {
  const transport = new StdioClientTransport({
    command: AIRLOCK, args: ['wrap', '--name', name, '--', ...argv], env: env(), stderr: 'pipe',
  });
  const chunks = [];
  transport.stderr?.on('data', (d) => chunks.push(d));
  const client = new Client({ name: 'airlock-ui-test', version: '1.0.0' });
  return { client, transport, stderrText: () => Buffer.concat(chunks).toString('utf8') };
}

/** Spawns `airlock wrap --name NAME -- argv…` with pipes, for raw JSON-RPC. */
export function wrapRaw(name, argv) {
  const child = spawn(AIRLOCK, ['wrap', '--name', name, '--', ...argv], { env: env(), stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  const waiters = [];
  child.stdout.on('data', (d) => {
    out += d.toString('utf8');
    let i;
    while ((i = out.indexOf('\n')) >= 0) {
      const line = out.slice(0, i);
      out = out.slice(i + 1);
      if (!line.trim()) continue;
      const msg = JSON.parse(line);
      waiters.shift()?.(msg);
    }
  });
  child.stderr.on('data', (d) => { err += d.toString('utf8'); });
  return {
    child,
    stderr: () => err,
    send: (msg) => child.stdin.write(JSON.stringify(msg) + '\n'),
    next: () => new Promise((res) => waiters.push(res)),
  };
}

/** Rejects after ms with a message naming what we were waiting for (a guard, not a sleep). */
export function within(promise, ms, what) {
  let t;
  const timeout = new Promise((_, rej) => { t = setTimeout(() => rej(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms); });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(t));
}

/** Saves docs/NAME.png of the viewport when AIRLOCK_SCREENSHOTS=1. */
export async function shot(page, name) {
  if (!SCREENSHOTS) return;
  mkdirSync(DOCS, { recursive: true });
  // Let transitions and the arm delay (buttons enabled) settle before the picture.
  await page.waitForTimeout(900);
  await page.screenshot({ path: join(DOCS, `${name}.png`) });
}

export const text = (r) => (r?.content ?? []).filter((c) => c.type === 'text').map((c) => c.text).join('\n');
