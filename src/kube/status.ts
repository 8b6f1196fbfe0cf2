// Writing status: once per reconcile, only when it changed, through the /status subresource.
// A PUT carrying the cached resourceVersion replaces status whole (no stale nested keys) and fails
// with 409 when the cache is behind; the work queue then retries with the fresh object.
import { isDeepStrictEqual } from 'node:util';
import type { KubeClient } from './client.ts';
import type { KubeObject, ResourceType } from './types.ts';

export async function writeStatus<T extends KubeObject & { status?: unknown }>(client: KubeClient, t: ResourceType, obj: T, status: object): Promise<boolean> {
  const next = stripUndefined(status);
  if (isDeepStrictEqual(stripUndefined(obj.status ?? {}), next)) return false;
  await client.replace(t, { ...obj, status: next }, 'status');
  return true;
}

export function stripUndefined<T>(o: T): T {
  return JSON.parse(JSON.stringify(o ?? {})) as T;
}
