// Real-peer tests: the official TypeScript SDK client talks to server-everything through
// `airlock wrap`, and (where behaviour is the server's to decide) the same calls go to the
// server directly so that both answers can be compared.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import {
  CallToolResultSchema, CreateTaskResultSchema, ListRootsRequestSchema, CreateMessageRequestSchema,
  ElicitRequestSchema, McpError, ErrorCode,
} from '@modelcontextprotocol/sdk/types.js';
import { InMemoryTaskStore } from '@modelcontextprotocol/sdk/experimental/tasks';
import { Client, NODE, EVERYTHING, HERE, transportFor, connect, deferred, within } from './lib.mjs';

const FULL_CAPS = {
  roots: { listChanged: true },
  sampling: {},
  elicitation: { form: {}, url: {} },
  tasks: {
    list: {},
    cancel: {},
    requests: { sampling: { createMessage: {} }, elicitation: { create: {} } },
  },
};
const CONDITIONAL_TOOLS = [
  'get-roots-list', 'trigger-elicitation-request', 'trigger-url-elicitation', 'trigger-sampling-request',
  'simulate-research-query', 'trigger-sampling-request-async', 'trigger-elicitation-request-async',
];
const BASE_TOOLS = [
  'echo', 'get-annotated-message', 'get-env', 'get-resource-links', 'get-resource-reference',
  'get-structured-content', 'get-sum', 'get-tiny-image', 'gzip-file-as-resource', 'toggle-simulated-logging',
  'toggle-subscriber-updates', 'trigger-long-running-operation',
];
const WAIT = 15000; // guard for awaited events; never a sleep

/**
 * One client session to server-everything, through airlock (via) or direct.
 * Handlers for server→client requests delegate to `hooks`, which tests replace.
 */
async function session(via, { caps = FULL_CAPS, roots = [{ uri: 'file:///tmp/airlock-root-a', name: 'Root A' }] } = {}) {
  const s = {
    via, roots, notes: [], waiters: [], rootsCalls: 0, rootsAsked: deferred(), hooks: {},
  };
  // The client's own task store (for server→client task-augmented requests); its TTL timers
  // must be cleared on close or they keep the test process alive.
  s.taskStore = caps.tasks ? new InMemoryTaskStore() : undefined;
  s.client = new Client({ name: 'airlock-peer-test', version: '1.0.0' }, { capabilities: caps, taskStore: s.taskStore });
  s.close = async () => { s.taskStore?.cleanup(); await s.client.close(); };
  s.client.fallbackNotificationHandler = async (n) => {
    s.notes.push(n);
    for (const w of [...s.waiters]) if (w.match(n)) { s.waiters.splice(s.waiters.indexOf(w), 1); w.resolve(n); }
  };
  /** Resolves with the first notification (already received after index `since`, or later) that matches. */
  s.waitNote = (method, pred = () => true, since = 0) => {
    const match = (n) => n.method === method && pred(n.params ?? {});
    const seen = s.notes.slice(since).find(match);
    if (seen) return Promise.resolve(seen);
    const d = deferred();
    s.waiters.push({ match, resolve: d.resolve });
    return within(d.promise, WAIT, `${method} (${via ? 'via airlock' : 'direct'})`);
  };
  if (caps.roots) {
    s.client.setRequestHandler(ListRootsRequestSchema, async () => {
      s.rootsCalls++;
      s.rootsAsked.resolve();
      return { roots: s.roots };
    });
  }
  if (caps.sampling) {
    s.client.setRequestHandler(CreateMessageRequestSchema, (req, extra) => s.hooks.sampling(req, extra));
  }
  if (caps.elicitation) {
    s.client.setRequestHandler(ElicitRequestSchema, (req, extra) => s.hooks.elicit(req, extra));
  }
  s.transport = transportFor(via, NODE, [EVERYTHING, 'stdio'], 'everything');
  await connect(s.client, s.transport);
  return s;
}

/** The outcome of a call, as plain data: {result} or {error:{code,message,data}}. */
async function outcome(promise) {
  try {
    return { result: await promise };
  } catch (e) {
    if (!(e instanceof McpError)) throw e;
    return { error: { code: e.code, message: e.message, data: e.data } };
  }
}
const text = (r) => r.content.filter((c) => c.type === 'text').map((c) => c.text).join('\n');

describe('server-everything through airlock', { timeout: 120000 }, () => {
  let A; // via airlock
  let D; // direct, for comparisons

  before(async () => {
    const [a, d] = await Promise.allSettled([session(true), session(false)]);
    A = a.value;
    D = d.value;
    if (a.status === 'rejected') throw a.reason;
    if (d.status === 'rejected') throw d.reason;
  });
  after(async () => {
    await Promise.allSettled([A?.close(), D?.close()]);
  });

  test('initialize: server info, capabilities and instructions arrive intact', () => {
    assert.equal(A.client.getServerVersion().name, 'mcp-servers/everything');
    assert.deepEqual(A.client.getServerVersion(), D.client.getServerVersion());
    assert.deepEqual(A.client.getServerCapabilities(), D.client.getServerCapabilities());
    assert.ok(A.client.getServerCapabilities().tasks?.requests?.tools?.call, 'tasks capability relayed');
    assert.ok(A.client.getInstructions()?.length > 100);
    assert.equal(A.client.getInstructions(), D.client.getInstructions());
  });

  test('roots: server asks roots/list after initialized; tool reports the roots; list_changed re-syncs', async () => {
    await within(A.rootsAsked.promise, WAIT, 'roots/list from the server');
    await A.waitNote('notifications/message', (p) => /Roots updated: 1 root\(s\)/.test(String(p.data)));
    let r = await A.client.callTool({ name: 'get-roots-list', arguments: {} });
    assert.match(text(r), /Current MCP Roots \(1 total\)/);
    assert.match(text(r), /Root A\s+URI: file:\/\/\/tmp\/airlock-root-a/);

    const before = A.rootsCalls;
    const since = A.notes.length;
    A.roots = [{ uri: 'file:///tmp/airlock-root-b', name: 'Root B' }, { uri: 'file:///tmp/airlock-root-c' }];
    await A.client.sendRootsListChanged();
    await A.waitNote('notifications/message', (p) => /Roots updated: 2 root\(s\)/.test(String(p.data)), since);
    assert.equal(A.rootsCalls, before + 1);
    r = await A.client.callTool({ name: 'get-roots-list', arguments: {} });
    assert.match(text(r), /Current MCP Roots \(2 total\)/);
    assert.match(text(r), /Root B\s+URI: file:\/\/\/tmp\/airlock-root-b/);
    assert.match(text(r), /Unnamed Root\s+URI: file:\/\/\/tmp\/airlock-root-c/);
  });

  test('tools/list: conditional tools appear for a capable client, announced by tools/list_changed', async () => {
    await within(Promise.all([A.rootsAsked.promise, D.rootsAsked.promise]), WAIT, 'roots/list (sent after the tool registrations)');
    const changedA = A.notes.filter((n) => n.method === 'notifications/tools/list_changed').length;
    const changedD = D.notes.filter((n) => n.method === 'notifications/tools/list_changed').length;
    assert.ok(changedA >= 1, 'at least one tools/list_changed via airlock');
    assert.equal(changedA, changedD, 'same number of tools/list_changed as direct');

    const [la, ld] = await Promise.all([A.client.listTools(), D.client.listTools()]);
    const names = la.tools.map((t) => t.name).sort();
    assert.deepEqual(names, [...BASE_TOOLS, ...CONDITIONAL_TOOLS].sort());
    assert.deepEqual(la, ld, 'tools/list identical to direct');
    const research = la.tools.find((t) => t.name === 'simulate-research-query');
    assert.equal(research.execution?.taskSupport, 'required');
  });

  test('tools/list: a client without capabilities gets no conditional tools (capabilities relayed as sent)', async () => {
    const [b1, b2] = await Promise.allSettled([session(true, { caps: {} }), session(false, { caps: {} })]);
    const bare = b1.value, bareD = b2.value;
    try {
      if (b1.status === 'rejected') throw b1.reason;
      if (b2.status === 'rejected') throw b2.reason;
      const [la, ld] = await Promise.all([bare.client.listTools(), bareD.client.listTools()]);
      const names = la.tools.map((t) => t.name).sort();
      // simulate-research-query is registered for every client (it only uses elicitation if offered).
      assert.deepEqual(names, [...BASE_TOOLS, 'simulate-research-query'].sort());
      assert.deepEqual(la, ld, 'same as direct');
    } finally {
      await Promise.allSettled([bare?.close(), bareD?.close()]);
    }
  });

  test('ping: client→server', async () => {
    assert.deepEqual(await A.client.ping(), {});
  });

  test('deterministic tools give the same results as direct', async () => {
    const calls = [
      { name: 'echo', arguments: { message: 'hello "quoted" \\ \u2028 é 😀' } },
      { name: 'get-sum', arguments: { a: 2.5, b: -7 } },
      { name: 'get-structured-content', arguments: { location: 'Chicago' } },
      { name: 'get-annotated-message', arguments: { messageType: 'error', includeImage: true } },
      { name: 'get-tiny-image', arguments: {} },
      { name: 'get-resource-links', arguments: { count: 4 } },
    ];
    for (const c of calls) {
      const [ra, rd] = await Promise.all([A.client.callTool(c), D.client.callTool(c)]);
      assert.deepEqual(ra, rd, `${c.name} differs from direct`);
    }
    const sum = await A.client.callTool(calls[1]);
    assert.equal(text(sum), 'The sum of 2.5 and -7 is -4.5.');
    const sc = await A.client.callTool(calls[2]);
    assert.deepEqual(sc.structuredContent, { temperature: 36, conditions: 'Light rain / drizzle', humidity: 82 });
    const ref = await A.client.callTool({ name: 'get-resource-reference', arguments: { resourceType: 'Text', resourceId: 7 } });
    assert.equal(ref.content[1].type, 'resource');
    assert.equal(ref.content[1].resource.uri, 'demo://resource/dynamic/text/7');
  });

  test('echo: 1 MiB message round-trips exactly', async () => {
    const unit = 'airlock é 😀 "q" \\ \n\t\u2028\u0001 ';
    const message = unit.repeat(Math.ceil((1 << 20) / Buffer.byteLength(unit)));
    assert.ok(Buffer.byteLength(message) >= 1 << 20);
    const r = await A.client.callTool({ name: 'echo', arguments: { message } });
    assert.equal(r.content[0].text, `Echo: ${message}`);
  });

  test('unknown tool: same answer through airlock as direct', async () => {
    const call = { name: 'no-such-tool-xyz', arguments: {} };
    const [oa, od] = await Promise.all([outcome(A.client.callTool(call)), outcome(D.client.callTool(call))]);
    assert.deepEqual(oa, od);
    if (oa.error) assert.equal(oa.error.code, ErrorCode.InvalidParams);
    else assert.equal(oa.result.isError, true);
    assert.match(JSON.stringify(oa), /no-such-tool-xyz/);
  });

  test('progress: long-running tool sends increasing progress notifications, all before the response', async () => {
    const seen = [];
    const since = A.transport.raw.length;
    const r = await A.client.callTool({ name: 'trigger-long-running-operation', arguments: { duration: 0.5, steps: 5 } },
      CallToolResultSchema, { onprogress: (p) => seen.push(p.progress) });
    assert.match(text(r), /Long running operation completed\. Duration: 0.5 seconds, Steps: 5\./);
    // What crossed the wire: five progress notifications with the request's token, in order,
    // then the response. (The SDK's onprogress may miss the last one when it shares a read
    // with the response: it runs notification handlers a microtask late.)
    const wire = A.transport.raw.slice(since);
    const respAt = wire.findIndex((m) => m.id !== undefined && m.result?.content);
    const token = wire.find((m) => m.method === 'notifications/progress')?.params.progressToken;
    assert.notEqual(token, undefined, 'progress notifications relayed');
    const progress = wire.filter((m) => m.method === 'notifications/progress' && m.params.progressToken === token);
    assert.deepEqual(progress.map((m) => [m.params.progress, m.params.total]), [[1, 5], [2, 5], [3, 5], [4, 5], [5, 5]]);
    assert.ok(progress.every((m) => wire.indexOf(m) < respAt), 'every progress notification precedes the response');
    assert.ok(seen.length >= 4 && seen.every((v, i) => v === i + 1), `onprogress saw ${seen}`);
  });

  test('cancellation: aborting a long tool call rejects it and the proxy stays healthy', async () => {
    const ac = new AbortController();
    const firstProgress = deferred();
    const call = A.client.callTool({ name: 'trigger-long-running-operation', arguments: { duration: 20, steps: 200 } },
      CallToolResultSchema, { signal: ac.signal, onprogress: () => firstProgress.resolve() });
    await within(firstProgress.promise, WAIT, 'first progress before cancelling');
    ac.abort('test-abort');
    await assert.rejects(call, (e) => /test-abort/.test(String(e?.message ?? e)));
    assert.deepEqual(await A.client.ping(), {});
    const r = await A.client.callTool({ name: 'echo', arguments: { message: 'after cancel' } });
    assert.equal(text(r), 'Echo: after cancel');
  });

  test('logging: setLevel, then notifications/message (filtered by level)', async () => {
    // At level "error" the server drops its info-level "Received Subscribe" log; it writes that
    // log before the response, so once the response is in, its absence is meaningful.
    await A.client.setLoggingLevel('error');
    let since = A.notes.length;
    await A.client.subscribeResource({ uri: 'demo://resource/dynamic/text/91' });
    assert.ok(!A.notes.slice(since).some((n) => n.method === 'notifications/message' && /text\/91/.test(String(n.params?.data))),
      'info log was not filtered at level error');

    await A.client.setLoggingLevel('debug');
    since = A.notes.length;
    await A.client.subscribeResource({ uri: 'demo://resource/dynamic/text/92' });
    const n = await A.waitNote('notifications/message', (p) => /Received Subscribe Resource request for URI: demo:\/\/resource\/dynamic\/text\/92/.test(String(p.data)), since);
    assert.equal(n.params.level, 'info');

    since = A.notes.length;
    const t = await A.client.callTool({ name: 'toggle-simulated-logging', arguments: {} });
    assert.match(text(t), /Started simulated/);
    const sim = await A.waitNote('notifications/message', (p) => /-level message|level-message/.test(String(p.data)), since);
    assert.ok(['debug', 'info', 'notice', 'warning', 'error', 'critical', 'alert', 'emergency'].includes(sim.params.level));
    assert.match(text(await A.client.callTool({ name: 'toggle-simulated-logging', arguments: {} })), /Stopped simulated/);
    await A.client.unsubscribeResource({ uri: 'demo://resource/dynamic/text/91' });
    await A.client.unsubscribeResource({ uri: 'demo://resource/dynamic/text/92' });
  });

  test('resources: list, templates, read (text, blob, static doc)', async () => {
    const [la, ld] = await Promise.all([A.client.listResources(), D.client.listResources()]);
    assert.deepEqual(la, ld);
    const doc = la.resources.find((r) => r.uri === 'demo://resource/static/document/instructions.md');
    assert.ok(doc, 'static instructions.md listed');
    const read = await A.client.readResource({ uri: doc.uri });
    const onDisk = readFileSync(join(HERE, 'node_modules/@modelcontextprotocol/server-everything/dist/docs/instructions.md'), 'utf8');
    assert.equal(read.contents[0].text, onDisk);

    const [ta, td] = await Promise.all([A.client.listResourceTemplates(), D.client.listResourceTemplates()]);
    assert.deepEqual(ta, td);
    assert.deepEqual(ta.resourceTemplates.map((t) => t.uriTemplate).sort(),
      ['demo://resource/dynamic/blob/{resourceId}', 'demo://resource/dynamic/text/{resourceId}']);

    const t = await A.client.readResource({ uri: 'demo://resource/dynamic/text/42' });
    assert.match(t.contents[0].text, /^Resource 42: This is a plaintext resource created at /);
    const b = await A.client.readResource({ uri: 'demo://resource/dynamic/blob/43' });
    assert.match(Buffer.from(b.contents[0].blob, 'base64').toString(), /^Resource 43: This is a base64 blob created at /);

    const [ea, ed] = await Promise.all([
      outcome(A.client.readResource({ uri: 'demo://resource/dynamic/text/0' })),
      outcome(D.client.readResource({ uri: 'demo://resource/dynamic/text/0' })),
    ]);
    assert.ok(ea.error, 'invalid resource id is an error');
    assert.deepEqual(ea, ed);
  });

  test('resources: subscribe → notifications/resources/updated; unsubscribe', async () => {
    const uri = 'demo://resource/dynamic/text/7';
    await A.client.subscribeResource({ uri });
    const since = A.notes.length;
    const t = await A.client.callTool({ name: 'toggle-subscriber-updates', arguments: {} });
    assert.match(text(t), /Started simulated resource updated notifications/);
    const n = await A.waitNote('notifications/resources/updated', (p) => p.uri === uri, since);
    assert.deepEqual(n.params, { uri });
    assert.match(text(await A.client.callTool({ name: 'toggle-subscriber-updates', arguments: {} })), /Stopped/);
    await A.client.unsubscribeResource({ uri });
  });

  test('resources: a tool-created resource → resources/list_changed, then readable (gzip round trip)', async () => {
    const payload = 'airlock gzip payload ' + 'z'.repeat(1000);
    const since = A.notes.length;
    const r = await A.client.callTool({ name: 'gzip-file-as-resource', arguments: {
      name: 'airlock-test.txt.gz', data: `data:text/plain;base64,${Buffer.from(payload).toString('base64')}`, outputType: 'resourceLink' } });
    const link = r.content.find((c) => c.type === 'resource_link');
    assert.equal(link.uri, 'demo://resource/session/airlock-test.txt.gz');
    await A.waitNote('notifications/resources/list_changed', () => true, since);
    const listed = await A.client.listResources();
    assert.ok(listed.resources.some((x) => x.uri === link.uri));
    const read = await A.client.readResource({ uri: link.uri });
    assert.equal(gunzipSync(Buffer.from(read.contents[0].blob, 'base64')).toString(), payload);
  });

  test('prompts: list, get with arguments, embedded resource', async () => {
    const [pa, pd] = await Promise.all([A.client.listPrompts(), D.client.listPrompts()]);
    assert.deepEqual(pa, pd);
    assert.deepEqual(pa.prompts.map((p) => p.name).sort(), ['args-prompt', 'completable-prompt', 'resource-prompt', 'simple-prompt']);
    const simple = await A.client.getPrompt({ name: 'simple-prompt' });
    assert.equal(simple.messages[0].content.text, 'This is a simple prompt without arguments.');
    const args = await A.client.getPrompt({ name: 'args-prompt', arguments: { city: 'Zürich', state: 'ZH' } });
    assert.equal(args.messages[0].content.text, "What's weather in Zürich, ZH?");
    const team = await A.client.getPrompt({ name: 'completable-prompt', arguments: { department: 'Sales', name: 'Eve' } });
    assert.equal(team.messages[0].content.text, 'Please promote Eve to the head of the Sales team.');
    const res = await A.client.getPrompt({ name: 'resource-prompt', arguments: { resourceType: 'Blob', resourceId: '5' } });
    assert.equal(res.messages[1].content.type, 'resource');
    assert.equal(res.messages[1].content.resource.uri, 'demo://resource/dynamic/blob/5');
    const [ma, md] = await Promise.all([
      outcome(A.client.getPrompt({ name: 'args-prompt', arguments: {} })),
      outcome(D.client.getPrompt({ name: 'args-prompt', arguments: {} })),
    ]);
    assert.ok(ma.error, 'missing required argument is an error');
    assert.deepEqual(ma, md);
  });

  test('completion/complete: prompt arguments (with context) and resource template variables', async () => {
    const dept = await A.client.complete({ ref: { type: 'ref/prompt', name: 'completable-prompt' }, argument: { name: 'department', value: 'S' } });
    assert.deepEqual(dept.completion.values.sort(), ['Sales', 'Support']);
    const names = await A.client.complete({ ref: { type: 'ref/prompt', name: 'completable-prompt' },
      argument: { name: 'name', value: '' }, context: { arguments: { department: 'Engineering' } } });
    assert.deepEqual(names.completion.values, ['Alice', 'Bob', 'Charlie']);
    const rt = await A.client.complete({ ref: { type: 'ref/prompt', name: 'resource-prompt' }, argument: { name: 'resourceType', value: 'B' } });
    assert.deepEqual(rt.completion.values, ['Blob']);
    const tmpl = await A.client.complete({ ref: { type: 'ref/resource', uri: 'demo://resource/dynamic/text/{resourceId}' }, argument: { name: 'resourceId', value: '12' } });
    assert.deepEqual(tmpl.completion.values, ['12']);
    const d = await D.client.complete({ ref: { type: 'ref/prompt', name: 'completable-prompt' }, argument: { name: 'department', value: 'S' } });
    assert.deepEqual(dept, d);
  });

  test('sampling: tool → sampling/createMessage → client answers → result contains it', async () => {
    let got;
    A.hooks.sampling = async (req) => {
      got = req.params;
      return { role: 'assistant', content: { type: 'text', text: 'SAMPLED-via-airlock ✓' }, model: 'airlock-test-model', stopReason: 'endTurn' };
    };
    const r = await A.client.callTool({ name: 'trigger-sampling-request', arguments: { prompt: 'hi there é', maxTokens: 33 } });
    assert.equal(got.maxTokens, 33);
    assert.equal(got.messages[0].content.text, 'Resource trigger-sampling-request context: hi there é');
    assert.match(text(r), /SAMPLED-via-airlock ✓/);
    assert.match(text(r), /airlock-test-model/);
  });

  test('form elicitation: accepted content is reflected in the tool result', async () => {
    let got;
    A.hooks.elicit = async (req) => {
      got = req.params;
      return { action: 'accept', content: { name: 'Ada Lovelace', check: true, email: 'ada@example.com', integer: 7 } };
    };
    const r = await A.client.callTool({ name: 'trigger-elicitation-request', arguments: {} });
    assert.equal(got.mode ?? 'form', 'form');
    assert.equal(got.requestedSchema.properties.name.type, 'string');
    assert.deepEqual(got.requestedSchema.required, ['name']);
    assert.match(text(r), /User provided the requested information/);
    assert.match(text(r), /- Name: Ada Lovelace/);
    assert.match(text(r), /- Agreed to terms: true/);
    assert.match(text(r), /- Favorite Integer: 7/);

    A.hooks.elicit = async () => ({ action: 'decline' });
    assert.match(text(await A.client.callTool({ name: 'trigger-elicitation-request', arguments: {} })), /User declined/);
  });

  test('URL elicitation, request path: client gets mode "url" with url and elicitationId', async () => {
    let got;
    A.hooks.elicit = async (req) => { got = req.params; return { action: 'accept' }; };
    const r = await A.client.callTool({ name: 'trigger-url-elicitation',
      arguments: { url: 'https://example.com/airlock/consent?x=1', elicitationId: 'airlock-eid-1', message: 'Open it' } });
    assert.deepEqual(got, { mode: 'url', url: 'https://example.com/airlock/consent?x=1', message: 'Open it', elicitationId: 'airlock-eid-1' });
    assert.match(text(r), /User completed the URL elicitation flow/);
    assert.match(text(r), /Elicitation ID: airlock-eid-1/);
  });

  test('URL elicitation, error path: -32042 with data.elicitations, and the retry succeeds', async () => {
    let asked = 0;
    A.hooks.elicit = async () => { asked++; return { action: 'accept' }; };
    const args = { url: 'https://example.com/airlock/error-path', errorPath: true };
    const o = await outcome(A.client.callTool({ name: 'trigger-url-elicitation', arguments: args }));
    assert.ok(o.error, 'expected a JSON-RPC error');
    assert.equal(o.error.code, -32042);
    assert.equal(o.error.code, ErrorCode.UrlElicitationRequired);
    const els = o.error.data?.elicitations;
    assert.ok(Array.isArray(els) && els.length === 1, JSON.stringify(o.error));
    assert.equal(els[0].mode, 'url');
    assert.equal(els[0].url, 'https://modelcontextprotocol.io');
    assert.match(els[0].elicitationId, /^[0-9a-f-]{36}$/);
    assert.equal(asked, 0, 'no elicitation/create on the error path');
    const retry = await A.client.callTool({ name: 'trigger-url-elicitation', arguments: args });
    assert.match(text(retry), /User completed the URL elicitation flow/);
    assert.equal(asked, 1);
  });

  describe('tasks', { concurrency: true }, () => {
    test('task-augmented tools/call: task created, tasks/get, tasks/list, tasks/result', async () => {
      const created = await A.client.request({ method: 'tools/call', params: { name: 'simulate-research-query', arguments: { topic: 'proxies' } } },
        CreateTaskResultSchema, { task: { ttl: 60000 } });
      const id = created.task.taskId;
      assert.ok(id);
      assert.equal(created.task.status, 'working');
      const got = await A.client.experimental.tasks.getTask(id);
      assert.equal(got.taskId, id);
      assert.ok(['working', 'completed'].includes(got.status));
      const listed = await A.client.experimental.tasks.listTasks();
      assert.ok(listed.tasks.some((t) => t.taskId === id), 'tasks/list includes the task');
      const result = await A.client.experimental.tasks.getTaskResult(id, CallToolResultSchema);
      assert.match(text(result), /# Research Report: proxies/);
      assert.equal((await A.client.experimental.tasks.getTask(id)).status, 'completed');
    });

    test('task stream with input_required: the task elicitation reaches the client', async () => {
      const hooked = deferred();
      const prev = A.hooks.elicit;
      A.hooks.elicit = async (req, extra) => {
        if (!/multiple interpretations/.test(req.params.message)) return prev(req, extra);
        hooked.resolve(req.params);
        return { action: 'accept', content: { interpretation: 'snake' } };
      };
      const kinds = [];
      let final;
      for await (const m of A.client.experimental.tasks.callToolStream(
        { name: 'simulate-research-query', arguments: { topic: 'python', ambiguous: true } }, CallToolResultSchema, { task: { ttl: 60000 } })) {
        kinds.push(m.type === 'taskStatus' ? `status:${m.task.status}` : m.type);
        if (m.type === 'result') final = m.result;
        if (m.type === 'error') throw m.error;
      }
      const params = await within(hooked.promise, WAIT, 'task elicitation');
      assert.ok(params.requestedSchema.properties.interpretation.oneOf.some((o) => o.const === 'snake'));
      assert.equal(kinds[0], 'taskCreated');
      assert.equal(kinds.at(-1), 'result');
      assert.match(text(final), /Clarification\*\*: snake/);
    });

    test('tasks/cancel: a working task becomes cancelled', async () => {
      const created = await A.client.request({ method: 'tools/call', params: { name: 'simulate-research-query', arguments: { topic: 'to-cancel' } } },
        CreateTaskResultSchema, { task: { ttl: 60000 } });
      const id = created.task.taskId;
      const c = await A.client.experimental.tasks.cancelTask(id);
      assert.equal(c.status, 'cancelled');
      assert.equal((await A.client.experimental.tasks.getTask(id)).status, 'cancelled');
    });

    test('client-side task: async sampling (server polls tasks/get, fetches tasks/result from the client)', async () => {
      A.hooks.sampling = async (req, extra) => {
        const reply = { role: 'assistant', content: { type: 'text', text: 'ASYNC-SAMPLE-OK' }, model: 'airlock-async-model' };
        if (!req.params.task) return reply;
        const task = await extra.taskStore.createTask({ ttl: req.params.task.ttl });
        // Complete only after answering "working", so the server must poll tasks/get on the client.
        setImmediate(() => extra.taskStore.storeTaskResult(task.taskId, 'completed', reply));
        return { task };
      };
      const r = await A.client.callTool({ name: 'trigger-sampling-request-async', arguments: { prompt: 'p' } });
      assert.match(text(r), /\[COMPLETED\] Async sampling completed!/);
      assert.match(text(r), /ASYNC-SAMPLE-OK/);
      assert.match(text(r), /Poll 1: completed/, 'the server polled tasks/get on the client');
    });

    test('client-side task: async elicitation', async () => {
      const prev = A.hooks.elicit;
      A.hooks.elicit = async (req, extra) => {
        if (!req.params.task) return prev(req, extra);
        const task = await extra.taskStore.createTask({ ttl: req.params.task.ttl });
        setImmediate(() => extra.taskStore.storeTaskResult(task.taskId, 'completed', { action: 'accept', content: { name: 'Grace', favoriteColor: 'Blue' } }));
        return { task };
      };
      const r = await A.client.callTool({ name: 'trigger-elicitation-request-async', arguments: {} });
      assert.match(text(r), /Grace/);
      assert.match(text(r), /Poll 1: completed/, 'the server polled tasks/get on the client');
      assert.doesNotMatch(text(r), /\[SYNC\]|\[TIMEOUT\]|\[FAILED\]|\[CANCELLED\]/);
    });
  });
});

describe('SDK probe server through airlock (server→client ping, cancellation relay)', { timeout: 30000 }, () => {
  let client;
  before(async () => {
    client = new Client({ name: 'airlock-peer-test', version: '1.0.0' }, { capabilities: {} });
    await connect(client, transportFor(true, NODE, [join(HERE, 'fixtures/probe-server.mjs')], 'probe'));
  });
  after(async () => { await client?.close(); });

  test('ping: server→client', async () => {
    const r = await client.callTool({ name: 'ping-client', arguments: {} });
    assert.equal(text(r), 'client answered ping: {}');
  });

  test('notifications/cancelled reaches the server with the right requestId and reason', async () => {
    const ac = new AbortController();
    const reached = deferred();
    const call = client.callTool({ name: 'wait-for-cancel', arguments: {} }, CallToolResultSchema,
      { signal: ac.signal, onprogress: () => reached.resolve() });
    await within(reached.promise, WAIT, 'the request to reach the server');
    ac.abort('airlock-cancel-reason');
    await assert.rejects(call, /airlock-cancel-reason/);
    const r = await client.callTool({ name: 'last-cancel', arguments: {} });
    assert.match(text(r), /^request .+ cancelled: airlock-cancel-reason$/);
  });
});
