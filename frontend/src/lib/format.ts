export const TIERS = [
  { n: 0, label: 'Safe read', short: 'Read', icon: '○', cls: 'tier0' },
  { n: 1, label: 'Sensitive read', short: 'Sensitive', icon: '◐', cls: 'tier1' },
  { n: 2, label: 'Write', short: 'Write', icon: '▲', cls: 'tier2' },
  { n: 3, label: 'Destructive', short: 'Destructive', icon: '⬣', cls: 'tier3' },
];

export function tierInfo(t: number) {
  return TIERS[Math.max(0, Math.min(3, t | 0))];
}

export function fmtDuration(ms: number): string {
  const s = Math.max(0, Math.ceil(ms / 1000));
  const m = Math.floor(s / 60);
  const r = s % 60;
  return m > 0 ? `${m}:${String(r).padStart(2, '0')}` : `${r}s`;
}

export function fmtTime(iso: string): string {
  const d = new Date(iso);
  if (isNaN(d.getTime())) return iso;
  return d.toLocaleString(undefined, { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', second: '2-digit' });
}

export function fmtRelative(iso: string, now = Date.now()): string {
  const d = new Date(iso).getTime();
  if (isNaN(d)) return '';
  const s = Math.round((now - d) / 1000);
  if (s < 5) return 'just now';
  if (s < 60) return `${s}s ago`;
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ago`;
  return `${Math.floor(s / 86400)} d ago`;
}

export function errText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

export const KIND_LABEL: Record<string, string> = {
  tool_call: 'Tool call',
  launch: 'Server launch',
  elicitation: 'Open a link',
  oauth: 'Sign-in (OAuth)',
  secret_use: 'Secret use',
  pin_change: 'Pinned command',
};
