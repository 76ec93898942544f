// `airlock wrap --url`: the IDE side is stdio, the upstream is server-everything's streamable
// HTTP transport on loopback. Server→client requests and notifications travel over SSE there.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { CallToolResultSchema, CreateMessageRequestSchema, ElicitRequestSchema, ListRootsRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { AIRLOCK, Client, EVERYTHING, NODE, connect, deferred, env, within } from './lib.mjs';

const text = (r) => r.content.filter((c) => c.type === 'text').map((c) => c.text).join('\n');

function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer().listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); });
    s.on('error', reject);
  });
}

describe('airlock wrap --url to server-everything over streamable HTTP', { timeout: 60000 }, () => {
  let server, client, url;
  let unsupported = ''; // set while this airlock build says it cannot reach remote servers
  const rootsAsked = deferred();

  before(async () => {
    const port = await freePort();
    server = spawn(NODE, [EVERYTHING, 'streamableHttp'], { env: env({ PORT: String(port) }), stdio: ['ignore', 'ignore', 'pipe'] });
    const ready = deferred();
    let err = '';
    server.stderr.on('data', (d) => { err += d; if (/listening on port/.test(err)) ready.resolve(); });
    server.on('exit', (code) => ready.reject(new Error(`server-everything exited (${code}): ${err}`)));
    await within(ready.promise, 15000, 'server-everything to listen');
    url = `http://127.0.0.1:${port}/mcp`;

    client = new Client({ name: 'airlock-peer-test', version: '1.0.0' },
      { capabilities: { roots: { listChanged: true }, sampling: {}, elicitation: { form: {}, url: {} } } });
    client.setRequestHandler(ListRootsRequestSchema, async () => { rootsAsked.resolve(); return { roots: [{ uri: 'file:///tmp/remote-root', name: 'Remote' }] }; });
    client.setRequestHandler(CreateMessageRequestSchema, async () => ({ role: 'assistant', content: { type: 'text', text: 'REMOTE-SAMPLE' }, model: 'm' }));
    client.setRequestHandler(ElicitRequestSchema, async () => ({ action: 'accept', content: { name: 'Remote Ada' } }));
    const t = new StdioClientTransport({ command: AIRLOCK, args: ['wrap', '--name', 'everything-http', '--url', url], env: env(), stderr: 'pipe' });
    const chunks = [];
    t.stderr?.on('data', (d) => chunks.push(d));
    t.stderrText = () => Buffer.concat(chunks).toString();
    try {
      await connect(client, t);
    } catch (e) {
      if (!/remote servers are not supported in this build/.test(e.message)) throw e;
      unsupported = 'airlock says: remote servers are not supported in this build yet';
    }
  });
  after(async () => {
    await client?.close().catch(() => {});
    server?.kill('SIGINT');
  });

  test('initialize and tools/list (conditional tools included)', async (t) => {
    if (unsupported) return t.skip(unsupported);
    assert.equal(client.getServerVersion().name, 'mcp-servers/everything');
    const names = (await client.listTools()).tools.map((t) => t.name);
    for (const n of ['echo', 'get-roots-list', 'trigger-sampling-request', 'trigger-elicitation-request']) assert.ok(names.includes(n), n);
  });

  test('echo and progress over HTTP', async (t) => {
    if (unsupported) return t.skip(unsupported);
    assert.equal(text(await client.callTool({ name: 'echo', arguments: { message: 'über http' } })), 'Echo: über http');
    const seen = [];
    await client.callTool({ name: 'trigger-long-running-operation', arguments: { duration: 0.3, steps: 3 } },
      CallToolResultSchema, { onprogress: (p) => seen.push(p.progress) });
    assert.ok(seen.length >= 2 && seen.every((v, i) => v === i + 1), `progress ${seen}`);
  });

  test('server→client requests over SSE: roots, sampling, elicitation', async (t) => {
    if (unsupported) return t.skip(unsupported);
    await within(rootsAsked.promise, 15000, 'roots/list from the remote server');
    assert.match(text(await client.callTool({ name: 'get-roots-list', arguments: {} })), /Remote\s+URI: file:\/\/\/tmp\/remote-root/);
    assert.match(text(await client.callTool({ name: 'trigger-sampling-request', arguments: { prompt: 'x' } })), /REMOTE-SAMPLE/);
    assert.match(text(await client.callTool({ name: 'trigger-elicitation-request', arguments: {} })), /- Name: Remote Ada/);
  });
});
