import { writable } from 'svelte/store';

/** Text for the polite aria-live region (and the visual toast). */
export const announcement = writable<{ text: string; tone: 'info' | 'ok' | 'warn'; at: number } | null>(null);

export function announce(text: string, tone: 'info' | 'ok' | 'warn' = 'info') {
  announcement.set({ text, tone, at: Date.now() });
}
