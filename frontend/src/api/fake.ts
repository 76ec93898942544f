// In-memory stand-in for ./index.ts, swapped in by vite.config.ts under Vitest.
// Tests drive it through `fake` (state, emitted events, recorded calls).
import type {
  AirlockEvent, Grant, LogFilter, LogRow, Outcome, Pending, PolicyProblem, PolicyText,
  Scope, ServerInfo, Settings, Status, Timeline, ToolInfo, VerifyResult,
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
