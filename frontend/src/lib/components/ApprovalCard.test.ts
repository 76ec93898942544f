import { describe, expect, it, vi } from 'vitest';
import { fireEvent, render, screen } from '@testing-library/svelte';
import { get } from 'svelte/store';
import ApprovalCard from './ApprovalCard.svelte';
import { pending } from '../stores/pending';
import { uiConfig } from '../config';
import { fake } from '../../api/fake';
import { mkPending, tick } from '../../test/fixtures';

function show(req = {}, opts = {}) {
  const p = mkPending(req, opts);
  pending.set([p]);
  fake.state.pending = [p];
  const r = render(ApprovalCard, { p });
  return { p, ...r, card: screen.getByTestId('approval-card') };
}

const key = (k: string, extra: KeyboardEventInit = {}) => fireEvent.keyDown(window, { key: k, ...extra });

describe('tool-call card', () => {
  it('shows server, client, tool, tier badge, reasons and is an alertdialog', () => {
    const { card } = show({ tool: 'read_file', server: 'filesystem', client: 'Cursor', tier: 1 });
    expect(card.getAttribute('role')).toBe('alertdialog');
    expect(card.dataset.kind).toBe('tool_call');
    expect(card.dataset.tool).toBe('read_file');
    const title = document.getElementById(card.getAttribute('aria-labelledby')!)!;
    expect(title.textContent).toContain('read_file');
    expect(title.textContent).toContain('filesystem');
    expect(document.getElementById(card.getAttribute('aria-describedby')!)!.textContent).toContain('points into ~/.ssh');
    expect(card.textContent).toContain('Cursor');
    const badge = screen.getByTestId('tier-badge');
    expect(badge.textContent).toContain('Sensitive read'); // text, not colour alone
    expect(badge.dataset.tier).toBe('1');
  });

  it('says so when a call touches Airlock\'s own settings, and only then', () => {
    const { card, unmount } = show({ tool: 'write_file', tier: 3, protected: true });
    const note = screen.getByTestId('protected-note');
    expect(note.textContent).toContain("Airlock's own settings");
    expect(document.getElementById(card.getAttribute('aria-describedby')!)!.contains(note)).toBe(true);
    unmount();
    show({ tool: 'write_file', tier: 3 });
    expect(screen.queryByTestId('protected-note')).toBeNull();
  });

  it('says when the arguments are dangerous in themselves, and only then', () => {
    const { card, unmount } = show({ tool: 'run_command', tier: 3, dangerous: true });
    const note = screen.getByTestId('dangerous-note');
    expect(note.textContent).toContain('dangerous in themselves');
    expect(note.textContent).toContain('each asks again');
    expect(document.getElementById(card.getAttribute('aria-describedby')!)!.contains(note)).toBe(true);
    expect(screen.getByTestId('allow-always').title).toContain('dangerous arguments');
    unmount();
    show({ tool: 'run_command', tier: 3 });
    expect(screen.queryByTestId('dangerous-note')).toBeNull();
  });

  it.each([
    [0, 'Safe read'], [1, 'Sensitive read'], [2, 'Write'], [3, 'Destructive'],
  ])('tier %i badge says %s', (tier, label) => {
    show({ tier });
    expect(screen.getByTestId('tier-badge').textContent).toContain(label);
  });

  it('renders HTML and script payloads literally, everywhere', () => {
    const xss = '<img src=x onerror=alert(1)>';
    const scr = '<script>alert(2)</script>';
    const { card } = show({
      tool: xss, server: scr, client: xss,
      reasons: [{ source: 'name', tier: 2, text: scr }],
      arguments: JSON.stringify({ [xss]: scr, nested: [xss] }),
    });
    expect(card.querySelector('img')).toBeNull();
    expect(card.querySelector('script')).toBeNull();
    expect(document.querySelectorAll('img, script').length).toBe(0);
    expect(card.textContent).toContain(xss);
    expect(card.textContent).toContain(scr);
    expect(card.dataset.tool).toBe(xss);
  });

  it('shows bidi and zero-width characters as visible markers', () => {
    const { card } = show({
      tool: 'read\u200Bfile', server: 'fs\u202Egpj.exe',
      arguments: JSON.stringify({ path: 'safe\u2066.txt\u2069', note: 'a\uFEFFb\u200Dc' }),
    });
    const text = card.textContent!;
    for (const m of ['⟨U+200B⟩', '⟨U+202E⟩', '⟨U+2066⟩', '⟨U+2069⟩', '⟨U+FEFF⟩', '⟨U+200D⟩']) expect(text).toContain(m);
    expect(text).not.toMatch(/[\u200B\u202E\u2066\u2069\uFEFF\u200D]/);
  });

  it('highlights dangerous spans in arguments', () => {
    show({
      tier: 3,
      arguments: JSON.stringify({ cmd: 'rm -rf ~/project', sql: 'DROP TABLE users', url: 'https://evil.example/x', key: '~/.ssh/id_ed25519', tok: '[REDACTED:github_token]' }),
    });
    const hl = screen.getAllByTestId('span-highlight').map((e) => e.textContent);
    expect(hl).toEqual(expect.arrayContaining(['rm -rf', 'DROP TABLE', 'https://evil.example/x', '[REDACTED:github_token]']));
    expect(hl.some((t) => t!.includes('.ssh/id_ed25519'))).toBe(true);
  });

  it('keeps big numbers exact and flags duplicate keys', () => {
    const { card } = show({ arguments: '{"amount": 12345678901234567890, "to":"a", "to":"b"}' });
    expect(card.textContent).toContain('12345678901234567890');
    expect(card.textContent).toContain('duplicate key');
  });

  it('folds long strings and expands on click', async () => {
    const { card } = show({ arguments: JSON.stringify({ text: 'x'.repeat(10_000) }) });
    expect(card.textContent!.length).toBeLessThan(5000);
    await fireEvent.click(screen.getByRole('button', { name: /show more/i }));
    expect(card.textContent!.length).toBeGreaterThan(10_000);
  });

  it('renders a 1 MB argument without processing all of it', async () => {
    const big = JSON.stringify({ content: 'A'.repeat(1 << 20), lines: Array.from({ length: 5000 }, (_, i) => `line ${i}`) });
    const t0 = performance.now();
    const { card } = show({ arguments: big });
    const ms = performance.now() - t0;
    console.info(`[bench] render 1 MB argument card: ${ms.toFixed(1)} ms`);
    expect(card).toBeTruthy();
    expect(card.textContent!.length).toBeLessThan(20_000);
    expect(screen.getAllByRole('button', { name: /show more/i }).length).toBeGreaterThan(0);
    // The 5000-item array starts folded; opened, it pages.
    await fireEvent.click(screen.getByRole('button', { name: /expand array of 5000/i }));
    expect(card.textContent).toMatch(/show 500 more of 4900 hidden/);
  });

  it('shows invalid JSON as text', () => {
    const { card } = show({ arguments: '{"a": <img src=x>' });
    expect(card.textContent).toContain('not valid JSON');
    expect(card.querySelector('img')).toBeNull();
  });
});

describe('deciding', () => {
  it.each([
    ['a', 'allow', 'once'], ['s', 'allow', 'session'], ['l', 'allow', 'always'], ['d', 'deny', 'once'], ['A', 'allow', 'once'],
  ])('shortcut %s → %s %s', async (k, outcome, scope) => {
    const { p } = show({ tier: 0 });
    await key(k);
    await tick();
    expect(fake.callsTo('Decide')).toEqual([[p.id, outcome, scope, '']]);
    expect(get(pending)).toEqual([]);
  });

  it('buttons decide', async () => {
    const { p } = show();
    await fireEvent.click(screen.getByTestId('allow-session'));
    await tick();
    expect(fake.callsTo('Decide')).toEqual([[p.id, 'allow', 'session', '']]);
  });

  it('Shift+D focuses the reason field; typing there never triggers shortcuts; Enter there denies with the reason', async () => {
    const { p } = show();
    await key('D', { shiftKey: true });
    const reason = screen.getByTestId('deny-reason') as HTMLInputElement;
    expect(document.activeElement).toBe(reason);
    await fireEvent.keyDown(reason, { key: 'a' });
    await fireEvent.keyDown(reason, { key: 'l' });
    await fireEvent.input(reason, { target: { value: 'not my ssh key' } });
    expect(fake.callsTo('Decide')).toEqual([]);
    await fireEvent.keyDown(reason, { key: 'Enter' });
    await tick();
    expect(fake.callsTo('Decide')).toEqual([[p.id, 'deny', 'once', 'not my ssh key']]);
  });

  it('Enter never allows', async () => {
    show({ tier: 0 });
    await key('Enter');
    const allow = screen.getByTestId('allow-once');
    allow.focus();
    const ev = await fireEvent.keyDown(allow, { key: 'Enter' });
    expect(ev).toBe(false); // default (activation) prevented
    await tick();
    expect(fake.callsTo('Decide')).toEqual([]);
  });

  it('focuses Deny by default for destructive calls, the card otherwise', () => {
    show({ tier: 3 });
    expect(document.activeElement).toBe(screen.getByTestId('deny'));
    cleanupAndShow();
    function cleanupAndShow() {
      document.body.innerHTML = '';
      show({ tier: 1 });
      expect(document.activeElement).toBe(screen.getAllByTestId('approval-card').at(-1));
    }
  });

  it('ignores shortcuts with modifier keys', async () => {
    show();
    await key('a', { ctrlKey: true });
    await key('a', { metaKey: true });
    expect(fake.callsTo('Decide')).toEqual([]);
  });

  it('buttons and shortcuts are disarmed right after the card appears', async () => {
    uiConfig.armDelayMs = 60;
    show();
    expect((screen.getByTestId('allow-once') as HTMLButtonElement).disabled).toBe(true);
    await key('a');
    expect(fake.callsTo('Decide')).toEqual([]);
    await tick(80);
    expect((screen.getByTestId('allow-once') as HTMLButtonElement).disabled).toBe(false);
  });

  it('a rejected decide on a vanished request removes the card and says so', async () => {
    show();
    fake.state.pending = [];
    fake.state.decideError = 'request not found';
    await fireEvent.click(screen.getByTestId('allow-once'));
    await tick();
    expect(get(pending)).toEqual([]);
  });
});

describe('countdown', () => {
  it('runs until the card is touched, then pauses (visually) and still shows server time', async () => {
    const { card } = show({}, { ttlMs: 90_000 });
    const cd = screen.getByTestId('countdown');
    expect(cd.textContent).toMatch(/Denies automatically in/);
    expect(cd.className).not.toContain('paused');
    await fireEvent.pointerEnter(card);
    expect(cd.className).toContain('paused');
    expect(cd.textContent).toContain('paused — decide when ready'.replace('paused', 'Paused'));
    expect(cd.textContent).toMatch(/denies in 1:(2|3)\d/);
  });

  it('pauses on focus inside the card', async () => {
    show();
    await fireEvent.focusIn(screen.getByTestId('deny-reason'));
    expect(screen.getByTestId('countdown').className).toContain('paused');
  });

  it('ticks while not paused', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'Date'] });
    try {
      show({}, { ttlMs: 30_000 });
      const before = screen.getByTestId('countdown').textContent;
      vi.advanceTimersByTime(5000);
      await tick();
      expect(screen.getByTestId('countdown').textContent).not.toBe(before);
    } finally {
      vi.useRealTimers();
    }
  });
});
