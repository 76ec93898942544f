// In-memory stand-in for ./index.ts, swapped in by vite.config.ts under Vitest.
// Tests drive it through `fake` (state, emitted events, recorded calls).
import type {
  AirlockEvent, ClientChange, ClientEntry, ClientFile, ClientResult, Grant, LogFilter, LogRow, Outcome, Pending,
  PolicyProblem, PolicyText, Scope, ServerInfo, Settings, Status, Timeline, ToolInfo, VerifyResult,
} from './types';

export * from './types';

export class NotConnectedError extends Error {}

type Call = { method: string; args: unknown[] };

function initial() {
  return {
    connected: true,
    status: { mode: 'embedded', version: 'test', socket: '/tmp/airlock.sock', cliApprovals: false, demo: false } as Status,
    pending: [] as Pending[],
    grants: [] as Grant[],
    log: [] as LogRow[],
    verify: { ok: true, rows: 0, badId: 0, problem: '', detail: '' } as VerifyResult,
    timeline: { start: new Date(Date.now() - 24 * 3600e3).toISOString(), bucketMinutes: 60, servers: [] } as Timeline,
    servers: [] as ServerInfo[],
    tools: {} as Record<string, ToolInfo[]>,
    secrets: [] as string[],
    clients: [] as ClientFile[],
    /** What PreviewProtect returns for a path (default: a diff made up from the entries). */
    previews: {} as Record<string, string>,
    /** Names of entries whose credentials Protect moves to the keyring: Restore keeps them. */
    clientSecrets: [] as string[],
    /** Entries each file's recorded installs rewrote, by path (installs.json). */
    installs: {} as Record<string, ClientChange[]>,
    clientError: null as string | null,
    policy: { path: '/home/u/.config/airlock/policy.toml', text: '' } as PolicyText,
    checkPolicy: (_t: string): PolicyProblem[] => [],
    settings: { approvalTimeoutSeconds: 120, cliApprovals: false, noBroker: 'elicit', retentionDays: 90 } as Settings,
    exportPath: '/tmp/airlock-log.jsonl',
    decideError: null as string | null,
  };
}

const listeners = { event: new Set<(ev: AirlockEvent) => void>(), log: new Set<() => void>() };

export const fake = {
  state: initial(),
  calls: [] as Call[],
  reset() {
    this.state = initial();
    this.calls = [];
    listeners.event.clear();
    listeners.log.clear();
  },
  emit(ev: Partial<AirlockEvent> & { type: string }) {
    const full = { time: new Date().toISOString(), ...ev } as AirlockEvent;
    for (const l of [...listeners.event]) l(full);
  },
  emitLog() {
    for (const l of [...listeners.log]) l();
  },
  callsTo(method: string) {
    return this.calls.filter((c) => c.method === method).map((c) => c.args);
  },
};

function rec<T>(method: string, args: unknown[], v: () => T): Promise<T> {
  fake.calls.push({ method, args });
  if (!fake.state.connected) return Promise.reject(new NotConnectedError('Not connected to Airlock'));
  try {
    return Promise.resolve(structuredClone(v()));
  } catch (e) {
    return Promise.reject(e);
  }
}

export const connected = () => fake.state.connected;
export const status = () => rec('Status', [], () => fake.state.status);
export const pending = () => rec('Pending', [], () => fake.state.pending);
export const decide = (id: string, outcome: Outcome, scope: Scope, reason: string) =>
  rec('Decide', [id, outcome, scope, reason], () => {
    if (fake.state.decideError) throw new Error(fake.state.decideError);
    fake.state.pending = fake.state.pending.filter((p) => p.id !== id);
  });
export const grants = () => rec('Grants', [], () => fake.state.grants);
export const revoke = (id: string) =>
  rec('Revoke', [id], () => {
    fake.state.grants = fake.state.grants.filter((g) => g.id !== id);
  });
export const log = (filter: LogFilter) => rec('Log', [filter], () => fake.state.log);
export const verifyLog = () => rec('VerifyLog', [], () => fake.state.verify);
export const exportLog = (format: 'jsonl' | 'csv', filter: LogFilter) =>
  rec('ExportLog', [format, filter], () => fake.state.exportPath);
export const timeline = (hours: number) => rec('Timeline', [hours], () => fake.state.timeline);
export const servers = () => rec('Servers', [], () => fake.state.servers);
export const serverTools = (name: string) => rec('ServerTools', [name], () => fake.state.tools[name] ?? []);
export const setTrust = (name: string, trusted: boolean) =>
  rec('SetTrust', [name, trusted], () => {
    const s = fake.state.servers.find((x) => x.name === name);
    if (s) s.trusted = trusted;
  });
function clientFile(client: string, path: string): ClientFile {
  if (fake.state.clientError) throw new Error(fake.state.clientError);
  const f = fake.state.clients.find((x) => x.client === client && x.path === path);
  if (!f) throw new Error(`${path} is not a ${client} config file that Airlock lists (refresh the Clients view)`);
  return f;
}
const wouldProtect = (e: ClientEntry) => !e.protected && !e.problem;
function clientResult(f: ClientFile, o: Partial<ClientResult>): ClientResult {
  const changed = o.changed ?? [];
  return {
    client: f.client, ide: f.ide, file: f.path, changed, skipped: [], kept: [], backup: '', exact: false, notes: [],
    restart: changed.length ? `Restart ${f.ide} to apply the change.` : '', ...o,
  };
}
export const clients = () => rec('Clients', [], () => fake.state.clients);
export const previewProtect = (client: string, path: string) =>
  rec('PreviewProtect', [client, path], () => {
    const f = clientFile(client, path);
    if (fake.state.previews[path] !== undefined) return fake.state.previews[path];
    const todo = (f.entries ?? []).filter(wouldProtect);
    if (!todo.length) return 'nothing to do: every server is already behind Airlock or left alone\n';
    return [`--- ${path}`, `+++ ${path} (after airlock install)`,
      ...todo.flatMap((e) => [`-    ${JSON.stringify(e.name)}: {"command": "npx"}`, `+    ${JSON.stringify(e.name)}: {"command": "/usr/local/bin/airlock", "args": ["run", ${JSON.stringify(e.name)}]}`]),
    ].join('\n') + '\n';
  });
export const protect = (client: string, path: string) =>
  rec('Protect', [client, path], () => {
    const f = clientFile(client, path);
    const changed: ClientChange[] = [];
    const skipped: ClientEntry[] = [];
    for (const e of f.entries ?? []) {
      if (!wouldProtect(e)) {
        skipped.push({ ...e });
        continue;
      }
      const secrets = fake.state.clientSecrets.includes(e.name) ? [`${e.name}.TOKEN`] : [];
      changed.push({ name: e.name, project: e.project, server: e.name, addedServer: true, secrets });
      e.protected = true;
      e.via = `airlock run ${e.name}`;
    }
    if (changed.length) {
      f.installed = true;
      fake.state.installs[path] = [...(fake.state.installs[path] ?? []), ...changed];
    }
    return clientResult(f, {
      changed, skipped, backup: changed.length ? `${path}.airlock-backup` : '',
      notes: changed.length ? ['Each server asks for approval in Airlock when it first starts.'] : ['nothing to do: every server is already behind Airlock or left alone'],
    });
  });
function restoreFile(method: string, client: string, path: string, withSecrets: boolean) {
  return rec(method, [client, path], () => {
    const f = clientFile(client, path);
    const recs = fake.state.installs[path] ?? [];
    if (!f.installed || !recs.length) throw new Error(`no install of ${f.ide} recorded for ${path}`);
    const kept = withSecrets ? [] : recs.filter((r) => (r.secrets ?? []).length > 0);
    const changed = recs.filter((r) => !kept.includes(r));
    for (const e of f.entries ?? []) {
      if (changed.some((c) => c.name === e.name)) {
        e.protected = false;
        e.via = '';
      }
    }
    fake.state.installs[path] = kept;
    f.installed = kept.length > 0;
    return clientResult(f, {
      changed, kept, exact: changed.length > 0 && kept.length === 0,
    });
  });
}
export const restore = (client: string, path: string) => restoreFile('Restore', client, path, false);
export const restoreWithSecrets = (client: string, path: string) => restoreFile('RestoreWithSecrets', client, path, true);
export const secrets = () => rec('Secrets', [], () => fake.state.secrets);
export const setSecret = (name: string, value: string) =>
  rec('SetSecret', [name, value], () => {
    if (!fake.state.secrets.includes(name)) fake.state.secrets.push(name);
  });
export const deleteSecret = (name: string) =>
  rec('DeleteSecret', [name], () => {
    fake.state.secrets = fake.state.secrets.filter((s) => s !== name);
  });
export const policyText = () => rec('PolicyText', [], () => fake.state.policy);
export const checkPolicy = (text: string) => rec('CheckPolicy', [text], () => fake.state.checkPolicy(text));
export const savePolicy = (text: string) =>
  rec('SavePolicy', [text], () => {
    const errs = fake.state.checkPolicy(text);
    if (errs.length === 0) fake.state.policy.text = text;
    return errs;
  });
export const settings = () => rec('Settings', [], () => fake.state.settings);
export const saveSettings = (s: Settings) =>
  rec('SaveSettings', [s], () => {
    fake.state.settings = { ...s };
  });
export const onEvent = (cb: (ev: AirlockEvent) => void) => {
  listeners.event.add(cb);
  return () => listeners.event.delete(cb);
};
export const onLog = (cb: () => void) => {
  listeners.log.add(cb);
  return () => listeners.log.delete(cb);
};
