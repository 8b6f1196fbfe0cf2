// The APIs Nova has removed and answers 410 Gone at every microversion (their controllers raise
// HTTPGone before anything else; an action route reads its action first). Pure data.

/** webob's HTTPGone explanation, Nova's message for every removed API. */
export const GONE = 'This resource is no longer available.  No forwarding address is given.';

/** Method and path (Fastify syntax) of each removed route, by the API it belonged to. */
export const REMOVED_ROUTES: readonly (readonly [string, string])[] = [
  // os-agents (XenAPI guest agents).
  ['GET', '/os-agents'], ['POST', '/os-agents'], ['PUT', '/os-agents/:id'], ['DELETE', '/os-agents/:id'],
  // os-cells (cells v1).
  ['GET', '/os-cells'], ['POST', '/os-cells'], ['GET', '/os-cells/capacities'], ['GET', '/os-cells/detail'], ['GET', '/os-cells/info'],
  ['POST', '/os-cells/sync_instances'], ['GET', '/os-cells/:id'], ['PUT', '/os-cells/:id'], ['DELETE', '/os-cells/:id'], ['GET', '/os-cells/:id/capacities'],
  // os-certificates, os-cloudpipe.
  ['POST', '/os-certificates'], ['GET', '/os-certificates/:id'],
  ['GET', '/os-cloudpipe'], ['POST', '/os-cloudpipe'], ['PUT', '/os-cloudpipe/:id'],
  // nova-network: fixed IPs, floating IP DNS and bulk, fping, networks and tenant networks writes.
  ['GET', '/os-fixed-ips/:id'],
  ['GET', '/os-floating-ip-dns'], ['PUT', '/os-floating-ip-dns/:id'], ['DELETE', '/os-floating-ip-dns/:id'],
  ['GET', '/os-floating-ip-dns/:domain_id/entries/:id'], ['PUT', '/os-floating-ip-dns/:domain_id/entries/:id'], ['DELETE', '/os-floating-ip-dns/:domain_id/entries/:id'],
  ['GET', '/os-floating-ips-bulk'], ['POST', '/os-floating-ips-bulk'], ['GET', '/os-floating-ips-bulk/:id'], ['PUT', '/os-floating-ips-bulk/:id'],
  ['GET', '/os-fping'], ['GET', '/os-fping/:id'],
  ['POST', '/os-networks'], ['POST', '/os-networks/add'], ['DELETE', '/os-networks/:id'],
  ['POST', '/os-tenant-networks'], ['DELETE', '/os-tenant-networks/:id'],
  ['GET', '/os-security-group-default-rules'], ['POST', '/os-security-group-default-rules'],
  ['GET', '/os-security-group-default-rules/:id'], ['DELETE', '/os-security-group-default-rules/:id'],
  // nova-consoleauth's consoles, virtual interfaces.
  ['GET', '/servers/:id/consoles'], ['POST', '/servers/:id/consoles'], ['GET', '/servers/:id/consoles/:console_id'], ['DELETE', '/servers/:id/consoles/:console_id'],
  ['GET', '/servers/:id/os-virtual-interfaces'],
];

/** Removed action routes, with the actions Nova still knows on them (any other is "no such action"). */
export const REMOVED_ACTIONS: readonly (readonly [string, readonly string[]])[] = [
  ['/os-fixed-ips/:id/action', ['reserve', 'unreserve']],
  ['/os-networks/:id/action', ['disassociate', 'disassociate_host', 'disassociate_project', 'associate_host']],
];
