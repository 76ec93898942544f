import { describe, expect, it } from 'vitest';
import { fireEvent, render, screen } from '@testing-library/svelte';
import ApprovalCard from './ApprovalCard.svelte';
import { pending } from '../stores/pending';
import { fake } from '../../api/fake';
import { mkPending, tick } from '../../test/fixtures';
import type { Launch } from '../../api/types';

const enc = new TextEncoder();
const b = (s: string) => enc.encode(s).length;

function launch(l: Partial<Launch>) {
  const p = mkPending({
    kind: 'launch', server: 'github', tool: undefined, tier: 0, reasons: null, arguments: undefined,
    launch: { argv: [], dir: '/home/u/proj', executable: '/usr/bin/npx', env: [], spans: [], fingerprint: 'abc123def4567890ffff', ...l },
  });
  pending.set([p]);
  fake.state.pending = [p];
  render(ApprovalCard, { p });
  return p;
}

describe('launch card', () => {
  it('shows one argument per line with its index, the directory and the executable', () => {
    launch({ argv: ['npx', '-y', '@modelcontextprotocol/server-github'] });
    const card = screen.getByTestId('approval-card');
    expect(card.dataset.kind).toBe('launch');
    const args = screen.getAllByTestId('launch-arg');
    expect(args.map((a) => a.querySelector('.argidx')!.textContent)).toEqual(['0', '1', '2']);
    expect(args[2].textContent).toContain('@modelcontextprotocol/server-github');
    expect(card.textContent).toContain('/home/u/proj');
    expect(card.textContent).toContain('/usr/bin/npx');
  });

  it('highlights spans by UTF-8 byte offsets, with category and why beside them', () => {
    const script = 'échо && rm -rf ~/';
    const at = script.indexOf('rm -rf');
    launch({
      argv: ['sh', '-c', script],
      spans: [{ where: 'arg', arg: 2, start: b(script.slice(0, at)), end: b(script.slice(0, at + 6)), text: 'rm -rf', category: 'destructive', severity: 'danger', why: 'deletes files recursively' }],
    });
    const line = screen.getAllByTestId('launch-arg')[2];
    const hl = line.querySelector('[data-testid="span-highlight"]')!;
    expect(hl.textContent).toMatch(/^rm -rf/);
    expect(hl.getAttribute('data-category')).toBe('destructive');
    expect(line.textContent).toContain('deletes files recursively');
    expect(line.textContent).toContain('destructive');
    expect(line.textContent).toContain('Danger');
    // Deny is the default for a dangerous launch.
    expect(document.activeElement).toBe(screen.getByTestId('deny'));
  });

  it('masks plaintext credentials in arguments with the span text', () => {
    const arg = '--token=ghp_supersecretvalue123';
    launch({
      argv: ['server', arg],
      spans: [{ where: 'arg', arg: 1, start: 8, end: b(arg), text: '••••••••', category: 'plaintext_credential', severity: 'danger', why: 'a token is written out in the command' }],
    });
    const card = screen.getByTestId('approval-card');
    expect(card.textContent).not.toContain('ghp_supersecretvalue123');
    expect(card.textContent).toContain('--token=••••••••');
  });

  it('shows the environment with secrets masked as given and env spans', () => {
    launch({
      argv: ['srv'],
      env: [
        { key: 'GITHUB_TOKEN', display: '••••••', secret: true },
        { key: 'API_URL', display: 'http://10.0.0.5/api', secret: false },
      ],
      spans: [{ where: 'env', arg: 0, envKey: 'API_URL', start: 0, end: 7, text: 'http://', category: 'cleartext_http', severity: 'warn', why: 'traffic is not encrypted' }],
    });
    const rows = screen.getByRole('table').querySelectorAll('tbody tr');
    expect(rows[0].textContent).toContain('GITHUB_TOKEN');
    expect(rows[0].textContent).toContain('••••••');
    expect(rows[0].textContent).toContain('secret');
    expect(rows[1].textContent).toContain('traffic is not encrypted');
    expect(rows[1].textContent).toContain('cleartext http');
  });

  it('shows the changes of a changed command as a diff', () => {
    launch({
      argv: ['npx', 'pkg@2'],
      changes: ['argument 1 changed: "pkg@1" → "pkg@2"', 'argument 2 added: "--evil"', 'env DEBUG removed'],
    });
    const diff = screen.getByRole('region', { name: /changes since/i });
    const items = diff.querySelectorAll('li');
    expect([...items].map((i) => i.className)).toEqual(['diff-mod', 'diff-add', 'diff-del']);
    expect(diff.textContent).toContain('pkg@1');
    expect(diff.textContent).toContain('--evil');
  });

  it('renders hostile argv literally with markers', () => {
    launch({ argv: ['<img src=x onerror=alert(1)>', 'a\u202Eb'] });
    const card = screen.getByTestId('approval-card');
    expect(card.querySelector('img')).toBeNull();
    expect(card.textContent).toContain('<img src=x onerror=alert(1)>');
    expect(card.textContent).toContain('⟨U+202E⟩');
  });

  it('can be allowed for the session with S', async () => {
    const p = launch({ argv: ['srv'] });
    await fireEvent.keyDown(window, { key: 's' });
    await tick();
    expect(fake.callsTo('Decide')).toEqual([[p.id, 'allow', 'session', '']]);
  });
});

describe('elicitation and oauth cards', () => {
  function url(kind: 'elicitation' | 'oauth', u: string) {
    const p = mkPending({ kind, server: 'notion', tool: undefined, url: u, message: 'Please authorize' });
    pending.set([p]);
    render(ApprovalCard, { p });
    return p;
  }

  it('emphasises the host', () => {
    url('oauth', 'https://accounts.example.com/o/authorize?client_id=1');
    expect(screen.getByTestId('url-host').textContent).toBe('accounts.example.com');
    expect(screen.getByTestId('approval-card').textContent).toContain('Please authorize');
  });

  it('warns about user-info tricks and cleartext, and shows the real host', () => {
    url('elicitation', 'http://accounts.google.com@evil.example/login');
    expect(screen.getByTestId('url-host').textContent).toBe('evil.example');
    const t = screen.getByTestId('approval-card').textContent!;
    expect(t).toContain('Not HTTPS');
    expect(t).toContain('user name before the host');
  });

  it('offers only allow once and deny', () => {
    url('oauth', 'https://x.example');
    expect(screen.queryByTestId('allow-session')).toBeNull();
    expect(screen.queryByTestId('allow-always')).toBeNull();
    expect(screen.getByTestId('allow-once')).toBeTruthy();
  });
});
