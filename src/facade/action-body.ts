// The body of an action route (POST …/action): one key naming the action, as Nova's action_peek
// reads it. Used by every action route: servers, flavors, aggregates, server migrations.
import { badRequest } from '../nova/faults.ts';

/** The action a body names and its argument; Nova's "Malformed request body" unless it has exactly one key. */
export function actionOf(body: unknown): { name: string; arg: unknown } {
  if (!body || typeof body !== 'object' || Array.isArray(body) || Object.keys(body).length !== 1) throw badRequest('Malformed request body');
  const [name, arg] = Object.entries(body)[0]!;
  return { name, arg };
}

/** An action among `known`, else Nova's "There is no such action". */
export function knownAction(body: unknown, known: readonly string[]): string {
  const { name } = actionOf(body);
  if (!known.includes(name)) throw badRequest(`There is no such action: ${name}`);
  return name;
}
