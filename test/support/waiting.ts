// Waiting for what a test can observe: a probe polled until it holds, a Server's status, and the
// statuses a Server went through (from its Events, so a short-lived one is not missed).
import { SERVERS, type Server } from '../../src/api/server.ts';
import type { KubeClient } from '../../src/kube/client.ts';
import { sleep } from '../../src/kube/informer.ts';
import { EVENTS, type KubeEvent } from './events.ts';

/** Polls `probe` until it returns a value other than undefined/false, or fails with `what` (after a minute by default: a loaded CI machine is slow, a hang is still caught). */
export async function eventually<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined && v !== false) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? ` (last error: ${(last as Error).message})` : ''}`);
    await sleep(100);
  }
}

/** Waits until the Server's status matches `pred`; returns it. */
export async function serverWhere(c: KubeClient, namespace: string, name: string, what: string, pred: (s: Server) => boolean, timeoutMs = 60_000): Promise<Server> {
  let last: Server | undefined;
  try {
    return await eventually(`server ${namespace}/${name} ${what}`, async () => {
      last = await c.find<Server>(SERVERS, name, namespace);
      return last && pred(last) ? last : undefined;
    }, timeoutMs);
  } catch (e) {
    throw new Error(`${(e as Error).message}; last status: ${JSON.stringify(last?.status ?? null)}`);
  }
}

export const serverStatusIs = (c: KubeClient, ns: string, name: string, status: string, taskState?: string, timeoutMs?: number): Promise<Server> =>
  serverWhere(c, ns, name, `is ${status}${taskState ? `/${taskState}` : ''}`, (s) => s.status?.status === status && (s.status?.taskState ?? undefined) === taskState, timeoutMs);

/**
 * Waits until the Server's Events show it went through a status (the controller records every
 * transition it writes), so a short-lived status is not missed by polling.
 */
export async function wentThrough(c: KubeClient, namespace: string, name: string, to: RegExp, timeoutMs = 10_000): Promise<string[]> {
  let notes: string[] = [];
  return eventually(`${name} went through ${to}`, async () => {
    const l = await c.list<KubeEvent>(EVENTS, { namespace });
    notes = l.items.filter((e) => e.reason === 'StatusChanged' && e.regarding?.kind === 'Server' && e.regarding.name === name).map((e) => e.note ?? '');
    return notes.some((n) => to.test(n.split(' → ')[1] ?? '')) ? notes : undefined;
  }, timeoutMs).catch((e: Error) => {
    throw new Error(`${e.message} (transitions: ${notes.join('; ')})`);
  });
}
