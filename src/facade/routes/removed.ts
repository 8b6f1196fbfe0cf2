// The APIs Nova has removed: 410 Gone at every microversion (nova/removed.ts lists them), after
// authentication as in Nova; their action routes read the action first.
import type { FastifyInstance } from 'fastify';
import { NovaError } from '../../nova/faults.ts';
import { GONE, REMOVED_ACTIONS, REMOVED_ROUTES } from '../../nova/removed.ts';
import { knownAction } from '../action-body.ts';

export async function removedRoutes(app: FastifyInstance): Promise<void> {
  for (const [method, url] of REMOVED_ROUTES) app.route({ method, url, handler: gone });
  for (const [url, actions] of REMOVED_ACTIONS) {
    app.post(url, async (req) => {
      knownAction(req.body, actions);
      return gone();
    });
  }
}

async function gone(): Promise<never> {
  throw new NovaError(410, GONE);
}
