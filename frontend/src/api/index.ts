// The only module that touches window.go and window.runtime (Wails v2 bindings).
// Outside Wails (a plain browser, `vite dev`), connected() is false and every call
// rejects with NotConnectedError, so the UI can show a "not connected" state.
import type {
  AirlockEvent, ClientFile, ClientResult, Grant, LogFilter, LogRow, Outcome, Pending, PolicyProblem, PolicyText,
  Scope, ServerInfo, Settings, Status, Timeline, ToolInfo, VerifyResult,
} from './types';

export * from './types';

type Bound = Record<string, (...args: unknown[]) => Promise<unknown>>;

interface WailsWindow {
  go?: { desktop?: { App?: Bound } };
  runtime?: {
    EventsOn?: (name: string, cb: (...data: unknown[]) => void) => (() => void) | void;
    EventsOff?: (name: string, ...more: string[]) => void;
  };
}

export class NotConnectedError extends Error {
  constructor() {
    super('Not connected to Airlock: this window is not running inside the Airlock app.');
    this.name = 'NotConnectedError';
  }
}

function w(): WailsWindow {
  return (typeof window === 'undefined' ? {} : window) as unknown as WailsWindow;
}

export function connected(): boolean {
  return typeof w().go?.desktop?.App === 'object';
}

async function call<T>(method: string, ...args: unknown[]): Promise<T> {
  const app = w().go?.desktop?.App;
  const fn = app?.[method];
  if (typeof fn !== 'function') throw new NotConnectedError();
  try {
    return (await fn(...args)) as T;
  } catch (e) {
    // Go errors arrive as strings; normalise to Error.
    throw e instanceof Error ? e : new Error(String(e));
  }
}

const arr = <T>(v: T[] | null | undefined): T[] => (Array.isArray(v) ? v : []);

export const status = () => call<Status>('Status');
export const pending = async () => arr(await call<Pending[] | null>('Pending'));
export const decide = (id: string, outcome: Outcome, scope: Scope, reason: string) =>
  call<void>('Decide', id, outcome, scope, reason);
export const grants = async () => arr(await call<Grant[] | null>('Grants'));
export const revoke = (id: string) => call<void>('Revoke', id);
export const log = async (filter: LogFilter) => arr(await call<LogRow[] | null>('Log', filter));
export const verifyLog = () => call<VerifyResult>('VerifyLog');
export const exportLog = (format: 'jsonl' | 'csv', filter: LogFilter) =>
  call<string>('ExportLog', format, filter);
export const timeline = (hours: number) => call<Timeline>('Timeline', hours);
export const servers = async () => arr(await call<ServerInfo[] | null>('Servers'));
export const serverTools = async (name: string) => arr(await call<ToolInfo[] | null>('ServerTools', name));
export const setTrust = (name: string, trusted: boolean) => call<void>('SetTrust', name, trusted);
export const clients = async () =>
  arr(await call<ClientFile[] | null>('Clients')).map((f) => ({ ...f, entries: arr(f.entries) }));
export const previewProtect = (client: string, path: string) => call<string>('PreviewProtect', client, path);
export const protect = (client: string, path: string) => call<ClientResult>('Protect', client, path);
export const restore = (client: string, path: string) => call<ClientResult>('Restore', client, path);
export const restoreWithSecrets = (client: string, path: string) =>
  call<ClientResult>('RestoreWithSecrets', client, path);
export const secrets = async () => arr(await call<string[] | null>('Secrets'));
export const setSecret = (name: string, value: string) => call<void>('SetSecret', name, value);
export const deleteSecret = (name: string) => call<void>('DeleteSecret', name);
export const policyText = () => call<PolicyText>('PolicyText');
export const checkPolicy = async (text: string) => arr(await call<PolicyProblem[] | null>('CheckPolicy', text));
export const savePolicy = async (text: string) => arr(await call<PolicyProblem[] | null>('SavePolicy', text));
export const settings = () => call<Settings>('Settings');
export const saveSettings = (s: Settings) => call<void>('SaveSettings', s);

function subscribe(name: string, cb: (...data: unknown[]) => void): () => void {
  const rt = w().runtime;
  if (typeof rt?.EventsOn !== 'function') return () => {};
  const off = rt.EventsOn(name, cb);
  return () => {
    if (typeof off === 'function') off();
    else rt.EventsOff?.(name);
  };
}

export const onEvent = (cb: (ev: AirlockEvent) => void) =>
  subscribe('airlock:event', (ev) => cb(ev as AirlockEvent));
export const onLog = (cb: () => void) => subscribe('airlock:log', () => cb());
