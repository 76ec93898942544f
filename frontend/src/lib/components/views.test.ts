import { describe, expect, it } from 'vitest';
import { fireEvent, render, screen } from '@testing-library/svelte';
import ActivityView from './ActivityView.svelte';
import ServersView from './ServersView.svelte';
import SecretsView from './SecretsView.svelte';
import PolicyView from './PolicyView.svelte';
import SettingsView from './SettingsView.svelte';
import { fake } from '../../api/fake';
import { tick } from '../../test/fixtures';
import type { LogRow } from '../../api/types';

const row = (id: number, o: Partial<LogRow> = {}): LogRow => ({
  id, time: new Date().toISOString(), kind: 'tool_call', server: 'fs', client: 'Cursor', session: 's', tool: 'read_file', tier: 1,
  args: '{"path":"~/.ssh/id_rsa"}', args_hash: 'h', outcome: 'allow', decided_by: 'user', channel: 'app', scope: 'once', reason: '',
  prev_hash: '', hash: `hash${id}`, ...o,
});

describe('Activity', () => {
  it('lists rows, renders hostile text literally, and filters through Log(filter)', async () => {
    fake.state.log = [row(2, { tool: '<img src=x onerror=alert(1)>', outcome: 'deny' }), row(1)];
    render(ActivityView);
    await tick();
    const rows = screen.getAllByTestId('activity-row');
    expect(rows.length).toBe(2);
    expect(rows[0].textContent).toContain('<img src=x onerror=alert(1)>');
    expect(rows[0].textContent).toContain('denied');
    expect(document.querySelector('main img, table img')).toBeNull();
    await fireEvent.change(screen.getByLabelText('Outcome'), { target: { value: 'deny' } });
    await fireEvent.change(screen.getByLabelText('Tier'), { target: { value: '3' } });
    await tick();
    const last = fake.callsTo('Log').at(-1)![0] as { outcome: string; tier: number; sinceHours: number };
    expect(last.outcome).toBe('deny');
    expect(last.tier).toBe(3);
    expect(last.sinceHours).toBe(24);
    expect(fake.callsTo('Timeline')).toEqual([[24]]);
  });

  it('refreshes live on airlock:log', async () => {
    render(ActivityView);
    await tick();
    const before = fake.callsTo('Log').length;
    fake.state.log = [row(7)];
    fake.emitLog();
    fake.emitLog();
    await tick(300);
    expect(fake.callsTo('Log').length).toBe(before + 1);
    expect(screen.getAllByTestId('activity-row').length).toBe(1);
  });

  it('verifies the log: OK with the row count, or the bad row in red', async () => {
    fake.state.log = [row(3), row(2), row(1)];
    fake.state.verify = { ok: true, rows: 3, badId: 0, problem: '', detail: '' };
    render(ActivityView);
    await tick();
    await fireEvent.click(screen.getByTestId('verify-log'));
    await tick();
    expect(screen.getByTestId('verify-result').textContent).toContain('3 rows verified');
    fake.state.verify = { ok: false, rows: 3, badId: 2, problem: 'hash mismatch', detail: 'row 2 was edited' };
    await fireEvent.click(screen.getByTestId('verify-log'));
    await tick();
    expect(screen.getByTestId('verify-result').textContent).toContain('row 2');
    expect(screen.getByTestId('verify-result').className).toContain('bad');
    const bad = screen.getAllByTestId('activity-row').filter((r) => r.classList.contains('bad-row'));
    expect(bad.length).toBe(1);
  });

  it('exports with the current filter', async () => {
    render(ActivityView);
    await tick();
    await fireEvent.click(screen.getByRole('button', { name: 'Export CSV' }));
    await tick();
    expect(fake.callsTo('ExportLog')[0][0]).toBe('csv');
    expect(screen.getByText(/Exported to/)).toBeTruthy();
  });

  it('draws a timeline with allow/deny/asked marks', async () => {
    fake.state.timeline = { start: new Date().toISOString(), bucketMinutes: 60, servers: [{ server: 'fs', buckets: [{ allow: 3, deny: 1, asked: 2 }, { allow: 0, deny: 0, asked: 0 }] }] };
    render(ActivityView);
    await tick();
    const svg = document.querySelector('svg[role="img"]')!;
    expect(svg.getAttribute('aria-label')).toContain('fs: 3 allowed, 1 denied, 2 asked');
    expect(svg.querySelectorAll('rect.tl-deny').length).toBe(1);
    expect(svg.querySelectorAll('circle.tl-asked').length).toBe(1);
  });
});

describe('Servers', () => {
  it('lists servers with pin status, toggles trust and loads tools on expand', async () => {
    fake.state.servers = [
      { name: 'github', kind: 'stdio', command: ['npx', '-y', 'srv'], url: '', trusted: false, pinned: true, pinMatches: false, fingerprint: 'f' },
      { name: 'remote', kind: 'http', command: null, url: 'https://mcp.example/mcp', trusted: true, pinned: false, pinMatches: false, fingerprint: '' },
    ];
    fake.state.tools.github = [{ name: 'delete_repo', description: '<script>x</script>', tier: 3, reasons: [{ source: 'name', tier: 3, text: 'the name says delete' }], hidden: false }];
    render(ServersView);
    await tick();
    const rows = screen.getAllByTestId('server-row');
    expect(rows[0].textContent).toContain('command changed since pinned');
    expect(rows[1].textContent).toContain('https://mcp.example/mcp');
    const sw = rows[0].querySelector('input[role="switch"]') as HTMLInputElement;
    await fireEvent.click(sw);
    await tick();
    expect(fake.callsTo('SetTrust')).toEqual([['github', true]]);
    await fireEvent.click(screen.getByRole('button', { name: 'Show tools of github' }));
    await tick();
    expect(fake.callsTo('ServerTools')).toEqual([['github']]);
    expect(rows[0].textContent).toContain('delete_repo');
    expect(rows[0].textContent).toContain('<script>x</script>');
    expect(rows[0].querySelector('[data-testid="tier-badge"]')!.textContent).toContain('Destructive');
  });
});

describe('Secrets', () => {
  it('sets a secret write-only and clears the field', async () => {
    fake.state.secrets = ['OLD'];
    render(SecretsView);
    await tick();
    const name = screen.getByLabelText('Name') as HTMLInputElement;
    const value = screen.getByTestId('secret-value') as HTMLInputElement;
    expect(value.type).toBe('password');
    await fireEvent.input(name, { target: { value: 'GITHUB_TOKEN' } });
    await fireEvent.input(value, { target: { value: 'ghp_topsecret' } });
    await fireEvent.submit(screen.getByTestId('secret-form'));
    await tick();
    expect(fake.callsTo('SetSecret')).toEqual([['GITHUB_TOKEN', 'ghp_topsecret']]);
    expect(value.value).toBe('');
    expect(document.body.innerHTML).not.toContain('ghp_topsecret');
    expect(screen.getAllByTestId('secret-row').map((r) => r.textContent)).toEqual(
      expect.arrayContaining([expect.stringContaining('GITHUB_TOKEN')]),
    );
  });

  it('deletes only after confirming', async () => {
    fake.state.secrets = ['A_KEY'];
    render(SecretsView);
    await tick();
    await fireEvent.click(screen.getByTestId('delete-secret'));
    expect(fake.callsTo('DeleteSecret')).toEqual([]);
    await fireEvent.click(screen.getByTestId('confirm-delete'));
    await tick();
    expect(fake.callsTo('DeleteSecret')).toEqual([['A_KEY']]);
  });
});

describe('Policy', () => {
  it('checks as you type (debounced), shows problems by line, and saves', async () => {
    fake.state.policy = { path: '/p/policy.toml', text: 'a = 1\n' };
    fake.state.checkPolicy = (t) => (t.includes('bad') ? [{ line: 2, message: 'unknown key "bad"' }] : []);
    render(PolicyView, { debounceMs: 20 });
    await tick();
    const ta = screen.getByTestId('policy-text') as HTMLTextAreaElement;
    expect(ta.value).toBe('a = 1\n');
    await fireEvent.input(ta, { target: { value: 'a = 1\nbad = 2' } });
    await fireEvent.input(ta, { target: { value: 'a = 1\nbad = 3' } });
    await tick(60);
    expect(fake.callsTo('CheckPolicy').length).toBe(1);
    expect(screen.getByTestId('policy-problem').textContent).toContain('Line 2');
    expect(screen.getByTestId('policy-problem').textContent).toContain('unknown key "bad"');
    expect(ta.getAttribute('aria-invalid')).toBe('true');
    await fireEvent.input(ta, { target: { value: 'a = 2\n' } });
    await fireEvent.click(screen.getByTestId('save-policy'));
    await tick();
    expect(fake.callsTo('SavePolicy')).toEqual([['a = 2\n']]);
    expect(screen.getByText(/Saved/)).toBeTruthy();
  });
});

describe('Settings', () => {
  it('warns about CLI approvals and saves', async () => {
    render(SettingsView);
    await tick();
    expect(screen.queryByTestId('cli-warning')).toBeNull();
    await fireEvent.click(screen.getByTestId('cli-approvals'));
    expect(screen.getByTestId('cli-warning').textContent).toContain('approve its own');
    await fireEvent.click(screen.getByRole('button', { name: 'Save settings' }));
    await tick();
    expect(fake.callsTo('SaveSettings')).toEqual([[{ approvalTimeoutSeconds: 120, cliApprovals: true, noBroker: 'elicit', retentionDays: 90 }]]);
  });
});
