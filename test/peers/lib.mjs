// Shared helpers for the real-peer tests. Not a test file itself (no .test. in the name).
import { mkdtempSync, writeFileSync, existsSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';

export const HERE = dirname(fileURLToPath(import.meta.url));
export const NODE = process.execPath;
export const EVERYTHING = join(HERE, 'node_modules/@modelcontextprotocol/server-everything/dist/index.js');
export const FILESYSTEM = join(HERE, 'node_modules/@modelcontextprotocol/server-filesystem/dist/index.js');

export const AIRLOCK = process.env.AIRLOCK;
if (!AIRLOCK) throw new Error('set AIRLOCK to the airlock binary (test/peers/run.sh does)');

// Airlock keeps its config and decision log under AIRLOCK_HOME: give the tests their own.
export const AIRLOCK_HOME = process.env.AIRLOCK_HOME || mkdtempSync(join(tmpdir(), 'airlock-peers-'));

export function env(extra = {}) {
  return { ...process.env, AIRLOCK_HOME, ...extra };
}

// These tests check the relay, not consent: a policy that allows every tool call, so no call
// waits for a person (or is turned into an elicitation the tests' handlers would see).
const POLICY = join(AIRLOCK_HOME, 'policy.toml');
if (!existsSync(POLICY)) {
  writeFileSync(POLICY, `# Written by test/peers: every tool call is allowed (relay tests, not consent tests).
[[rules]]
tool = "*"
action = "allow"
reason = "real-peer relay tests"
`);
}

/**
 * Pre-approves (pins) the launch of server NAME as `argv`, the way a person would from a
 * terminal, so that `airlock wrap --name NAME argv…` starts it without an approver.
 */
export function trust(name, argv, extraEnv = {}) {
  try {
    execFileSync(AIRLOCK, ['trust', '--name', name, '--', ...argv], { env: env(extraEnv), stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (e) {
    throw new Error(`airlock trust --name ${name} -- ${argv.join(' ')} failed: ${e.stderr ?? ''}${e.stdout ?? ''}`);
  }
}

/** A promise plus its resolver, for awaiting events instead of sleeping. */
export function deferred() {
  let resolve, reject;
  const promise = new Promise((res, rej) => { resolve = res; reject = rej; });
  return { promise, resolve, reject };
}

/** Rejects after ms with a message naming what we were waiting for (a guard, not a sleep). */
export function within(promise, ms, what) {
  let t;
  const timeout = new Promise((_, rej) => { t = setTimeout(() => rej(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms); });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(t));
}

/**
 * A transport to server CMD ARGS: through airlock (via=true) or spawned directly.
 * stderr is collected so that failures can show what the proxy/server said.
 */
export function transportFor(via, command, args, name) {
  if (via) trust(name, [command, ...args]);
  const t = via
    ? new StdioClientTransport({ command: AIRLOCK, args: ['wrap', '--name', name, command, ...args], env: env(), stderr: 'pipe' })
    : new StdioClientTransport({ command, args, env: env(), stderr: 'pipe' });
  const chunks = [];
  t.stderr?.on('data', (d) => { chunks.push(d); });
  t.stderrText = () => Buffer.concat(chunks).toString('utf8');
  return t;
}

/**
 * Connects; afterwards every message the client receives is also appended to transport.raw
 * (in arrival order), so tests can check what crossed the wire independently of SDK handlers.
 */
export async function connect(client, transport) {
  try {
    await client.connect(transport);
  } catch (e) {
    e.message += `\n--- stderr ---\n${transport.stderrText()}`;
    await transport.close().catch(() => {}); // or the child keeps the test process alive
    throw e;
  }
  transport.raw = [];
  const deliver = transport.onmessage;
  transport.onmessage = (msg, extra) => { transport.raw.push(msg); deliver(msg, extra); };
  return client;
}

export { Client };
