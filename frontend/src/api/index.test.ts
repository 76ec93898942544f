// The real Wails module (imported by path, not through the $api alias).
import { afterEach, describe, expect, it, vi } from 'vitest';
import * as real from './index';

type W = Window & { go?: unknown; runtime?: unknown };

afterEach(() => {
  delete (window as W).go;
  delete (window as W).runtime;
});

describe('api (Wails bindings)', () => {
  it('is not connected and rejects clearly when window.go is undefined', async () => {
    expect(real.connected()).toBe(false);
    await expect(real.pending()).rejects.toBeInstanceOf(real.NotConnectedError);
    await expect(real.status()).rejects.toThrow(/Not connected to Airlock/);
    const off = real.onEvent(() => {});
    expect(typeof off).toBe('function');
    off();
  });

  it('calls window.go.desktop.App with the contract arguments and normalises nulls and Go errors', async () => {
    const Decide = vi.fn().mockResolvedValue(undefined);
    const Pending = vi.fn().mockResolvedValue(null);
    const Log = vi.fn().mockResolvedValue([{ id: 1 }]);
    const SetTrust = vi.fn().mockRejectedValue('policy.toml is read-only');
    (window as W).go = { desktop: { App: { Decide, Pending, Log, SetTrust } } };
    expect(real.connected()).toBe(true);
    await real.decide('id1', 'deny', 'once', 'nope');
    expect(Decide).toHaveBeenCalledWith('id1', 'deny', 'once', 'nope');
    expect(await real.pending()).toEqual([]);
    const f = { server: '', tool: '', kind: '', outcome: '', tier: -1, text: '', sinceHours: 0, limit: 10 };
    expect(await real.log(f)).toEqual([{ id: 1 }]);
    expect(Log).toHaveBeenCalledWith(f);
    await expect(real.setTrust('x', true)).rejects.toThrow('policy.toml is read-only');
  });

  it('subscribes to airlock:event and airlock:log through window.runtime', () => {
    const handlers: Record<string, (d: unknown) => void> = {};
    const cancel = vi.fn();
    (window as W).runtime = { EventsOn: (n: string, cb: (d: unknown) => void) => ((handlers[n] = cb), cancel) };
    const seen: unknown[] = [];
    const off = real.onEvent((e) => seen.push(e));
    let logs = 0;
    real.onLog(() => logs++);
    handlers['airlock:event']({ type: 'snapshot' });
    handlers['airlock:log']({});
    expect(seen).toEqual([{ type: 'snapshot' }]);
    expect(logs).toBe(1);
    off();
    expect(cancel).toHaveBeenCalled();
  });
});
