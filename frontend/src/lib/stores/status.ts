import { writable } from 'svelte/store';
import * as api from '$api';
import type { ServerInfo, Status } from '$api';
import { errText } from '../format';

export type Conn = 'connecting' | 'connected' | 'disconnected';
export const connection = writable<Conn>('connecting');
export const status = writable<Status | null>(null);
export const servers = writable<ServerInfo[]>([]);
export const serversError = writable<string>('');

export async function loadStatus() {
  if (!api.connected()) {
    connection.set('disconnected');
    return;
  }
  try {
    status.set(await api.status());
    connection.set('connected');
  } catch (e) {
    connection.set('disconnected');
    serversError.set(errText(e));
  }
}

export async function loadServers() {
  try {
    servers.set(await api.servers());
    serversError.set('');
  } catch (e) {
    serversError.set(errText(e));
  }
}
