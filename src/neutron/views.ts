// Neutron v2.0's documents besides the resources: the version list, the v2.0 resource index, the
// extensions Kova's slice really has, the attribute names each collection filters on, and the
// errors clients parse. Pure.
import { podNetwork, serverPorts, podSubnets, type ClusterNetworkFacts } from './model.ts';
import { NeutronError } from './query.ts';

/** GET /networking (and /networking/): the one API version. */
export const neutronVersions = (base: string) => ({ versions: [{ id: 'v2.0', status: 'CURRENT', links: [{ rel: 'self', href: `${base}/v2.0/` }] }] });

/** The collections this slice serves. */
export const COLLECTIONS = { networks: 'network', subnets: 'subnet', ports: 'port' } as const;
export type Collection = keyof typeof COLLECTIONS;

/** GET /networking/v2.0/: the resources it serves. */
export const neutronResources = (base: string) => ({
  resources: Object.entries(COLLECTIONS).map(([collection, name]) => ({ name, collection, links: [{ rel: 'self', href: `${base}/v2.0/${collection}` }] })),
});

const UPDATED = '2017-09-12T00:00:00-00:00';

/** The extensions this slice implements (nothing a client would wrongly rely on: no security groups, no routers). */
export const EXTENSIONS: { alias: string; name: string; description: string }[] = [
  { alias: 'project-id', name: 'project_id field enabled', description: 'Extension that indicates that project_id field is enabled.' },
  { alias: 'pagination', name: 'Pagination support', description: 'Extension that indicates that pagination is enabled.' },
  { alias: 'sorting', name: 'Sorting support', description: 'Extension that indicates that sorting is enabled.' },
  { alias: 'filter-validation', name: 'Filter parameters validation', description: 'Provides validation on filter parameters.' },
  { alias: 'empty-string-filtering', name: 'Empty String Filtering Extension', description: 'Allow filtering by attributes with empty string value' },
  { alias: 'ip-substring-filtering', name: 'IP address substring filtering', description: 'Provides IP address substring filtering when listing ports' },
  { alias: 'standard-attr-description', name: 'standard-attr-description', description: 'Extension to add descriptions to standard attributes' },
  { alias: 'standard-attr-timestamp', name: 'Resource timestamps', description: 'Adds created_at and updated_at fields to all Neutron resources that have Neutron standard attributes.' },
  { alias: 'standard-attr-revisions', name: 'Resource revision numbers', description: 'This extension will display the revision number of neutron resources.' },
  { alias: 'standard-attr-tag', name: 'Tag support for resources with standard attribute: subnet, trunk, network_segment_range, router, network, policy, subnetpool, port, security_group, floatingip', description: 'Enables to set tag on resources with standard attribute.' },
  { alias: 'binding', name: 'Port Binding', description: 'Expose port bindings of a virtual port to external application' },
  { alias: 'net-mtu', name: 'Network MTU', description: 'Provides MTU attribute for a network resource.' },
  { alias: 'external-net', name: 'Neutron external network', description: 'Adds external network attribute to network resource.' },
  { alias: 'port-security', name: 'Port Security', description: 'Provides port security' },
];

export const extensionView = (e: (typeof EXTENSIONS)[number]) => ({ ...e, updated: UPDATED, links: [] });

export const extensionsList = () => ({ extensions: EXTENSIONS.map(extensionView) });

export function extensionShown(alias: string): { extension: unknown } {
  const e = EXTENSIONS.find((x) => x.alias === alias);
  if (!e) throw new NeutronError(404, 'HTTPNotFound', `Extension with alias ${alias} does not exist`);
  return { extension: extensionView(e) };
}

const SAMPLE: ClusterNetworkFacts = { clusterId: '00000000-0000-0000-0000-000000000000', createdAt: undefined, name: 'x', cidrs: ['10.0.0.0/8'], mtu: 1500 };

/** Every attribute of each collection (what `filter-validation` accepts as a filter or sort key). */
export const ATTRIBUTES: Record<Collection, readonly string[]> = {
  networks: Object.keys(podNetwork(SAMPLE)),
  subnets: Object.keys(podSubnets(SAMPLE)[0] ?? {}),
  ports: Object.keys(serverPorts(SAMPLE, { serverId: SAMPLE.clusterId, projectId: '', zone: undefined, host: undefined, plugged: false, created: undefined, addresses: [{ addr: '10.0.0.1', version: 4, macAddr: '02:00:00:00:00:01' }] })[0] ?? {}),
};

/** The 404 of one resource, with Neutron's exception type. */
export function notFound(collection: Collection, id: string): NeutronError {
  const kind = { networks: 'Network', subnets: 'Subnet', ports: 'Port' }[collection];
  return new NeutronError(404, `${kind}NotFound`, `${kind} ${id} could not be found.`);
}

/** A write this read-only slice refuses, as Neutron's policy engine words it. */
export const writeRefused = (action: 'create' | 'update' | 'delete', collection: Collection): NeutronError =>
  new NeutronError(403, 'PolicyNotAuthorized', `rule:${action}_${COLLECTIONS[collection]} is disallowed by policy`);

/** keystonemiddleware's answer to a request without a valid token. */
export const unauthenticatedBody = () => ({ error: { code: 401, title: 'Unauthorized', message: 'The request you have made requires authentication.' } });
