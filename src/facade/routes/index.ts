// Every compute route plugin, registered under /v2.1 (and /v2.1/{project_id}), /v2 likewise.
// Each reads its dependencies from the instance (`app.kova`); none imports another.
import type { FastifyInstance } from 'fastify';
import { NovaError } from '../../nova/faults.ts';
import { aggregateRoutes } from './aggregates.ts';
import { consoleRoutes } from './consoles.ts';
import { diagnosticsRoutes } from './diagnostics.ts';
import { extensionRoutes } from './extensions.ts';
import { flavorRoutes } from './flavors.ts';
import { hostRoutes } from './hosts.ts';
import { novaImageRoutes } from './images.ts';
import { instanceActionRoutes } from './instance-actions.ts';
import { keyPairRoutes } from './keypairs.ts';
import { limitRoutes } from './limits.ts';
import { migrationRoutes } from './migrations.ts';
import { removedRoutes } from './removed.ts';
import { serverActionRoutes } from './server-actions.ts';
import { serverMetadataRoutes } from './server-metadata.ts';
import { serverPasswordRoutes } from './server-password.ts';
import { serverGroupRoutes } from './server-groups.ts';
import { serverRoutes } from './servers.ts';
import { usageRoutes } from './usage.ts';

export async function computeRoutes(app: FastifyInstance): Promise<void> {
  for (const routes of [
    flavorRoutes, keyPairRoutes, serverRoutes, serverMetadataRoutes, serverActionRoutes, serverPasswordRoutes, instanceActionRoutes, novaImageRoutes,
    aggregateRoutes, hostRoutes, limitRoutes, migrationRoutes, consoleRoutes, diagnosticsRoutes, extensionRoutes, removedRoutes, usageRoutes,
    serverGroupRoutes,
  ]) await app.register(routes);
  // Inside the versioned API an unknown path is a 404, not the root's 300.
  app.all('/*', async () => {
    throw new NovaError(404, 'The resource could not be found.');
  });
}
