// KEP-1623 conditions: lastTransitionTime moves only when the status of a condition changes.
import type { Condition } from './types.ts';

export type ConditionInput = Omit<Condition, 'lastTransitionTime'>;

/** Returns `existing` with `next` set, keeping the transition time when the status is unchanged. */
export function setCondition(existing: Condition[] | undefined, next: ConditionInput, now = new Date()): Condition[] {
  const list = existing ? [...existing] : [];
  const i = list.findIndex((c) => c.type === next.type);
  const prev = i >= 0 ? list[i] : undefined;
  const lastTransitionTime = prev && prev.status === next.status ? prev.lastTransitionTime : now.toISOString().replace(/\.\d+Z$/, 'Z');
  const cond: Condition = { ...next, message: next.message.slice(0, 32768), lastTransitionTime };
  if (i >= 0) list[i] = cond;
  else list.push(cond);
  return list;
}

export const findCondition = (list: Condition[] | undefined, type: string): Condition | undefined => list?.find((c) => c.type === type);

export const isTrue = (list: Condition[] | undefined, type: string): boolean => findCondition(list, type)?.status === 'True';
