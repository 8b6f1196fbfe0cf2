// Every compute route file, registered under /v2.1 (and /v2.1/{project_id}).
import type { FastifyInstance } from 'fastify';
import { NovaError } from '../../nova/faults.ts';
import type { FacadeDeps } from '../app.ts';
import { registerFlavorRoutes } from './flavors.ts';
import { registerNovaImageRoutes } from './images.ts';
import { registerKeyPairRoutes } from './keypairs.ts';
import { registerServerRoutes } from './servers.ts';
import { registerServerActionRoutes } from './server-actions.ts';
import { registerAggregateRoutes } from './aggregates.ts';
import { registerHostRoutes } from './hosts.ts';
import { registerLimitRoutes } from './limits.ts';
import { registerMigrationRoutes } from './migrations.ts';
import { registerConsoleRoutes } from './consoles.ts';

export async function registerComputeRoutes(app: FastifyInstance, deps: FacadeDeps): Promise<void> {
  registerFlavorRoutes(app, deps);
  registerKeyPairRoutes(app, deps);
  registerServerRoutes(app, deps);
  registerServerActionRoutes(app, deps);
  registerNovaImageRoutes(app, deps);
  registerAggregateRoutes(app, deps);
  registerHostRoutes(app, deps);
  registerLimitRoutes(app, deps);
  registerMigrationRoutes(app, deps);
  registerConsoleRoutes(app, deps);
  // Inside the versioned API an unknown path is a 404, not the root's 300.
  app.all('/*', async () => {
    throw new NovaError(404, 'The resource could not be found.');
  });
}
