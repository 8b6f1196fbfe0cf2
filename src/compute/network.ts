// The facts the Neutron slice is built from (docs/adr/017): the cluster's identity (read once when
// the API starts) and, per server, what its status records of its interfaces. Both doors and every
// API replica derive the same ids from them.
import type { KovaConfig } from '../cache/config.ts';
import type { Caches } from '../cache/caches.ts';
import type { Server } from '../api/server.ts';
import type { KubeClient } from '../kube/client.ts';
import { NAMESPACES, type Namespace } from '../kube/types.ts';
import type { Logger } from '../log.ts';
import type { ClusterNetworkFacts, ServerPortFacts } from '../neutron/model.ts';
import { hostZone } from './references.ts';

/**
 * The cluster's network facts. Its id is the kube-system namespace's uid, the usual stable cluster
 * id (every replica reads the same; it changes only with a new cluster). If it cannot be read the
 * API still serves, with an id derived from the network's name alone, and says so.
 */
export async function clusterNetworkFacts(client: KubeClient, cfg: KovaConfig, log: Logger): Promise<ClusterNetworkFacts> {
  let ns: Namespace | undefined;
  try {
    ns = await client.get<Namespace>(NAMESPACES, 'kube-system');
  } catch (err) {
    log.warn('cannot read the kube-system namespace: the pod network id is not unique to this cluster', { err });
  }
  return { clusterId: ns?.metadata.uid ?? 'kova', createdAt: ns?.metadata.creationTimestamp, name: cfg.networkName, cidrs: cfg.podCidrs, mtu: cfg.podMtu };
}

/** What a server shows of itself on the pod network. */
export function serverPortFacts(c: Caches, s: Server, networkName: string): ServerPortFacts {
  const st = s.status;
  const node = st?.host ? c.nodes.get(st.host) : undefined;
  return {
    serverId: s.metadata.uid ?? '',
    projectId: c.projectIdOf(s.metadata.namespace ?? '') ?? s.metadata.namespace ?? '',
    zone: hostZone(node) ?? s.spec.availabilityZone,
    host: st?.host,
    plugged: st?.powerState === 'Running' || st?.powerState === 'Paused' || st?.powerState === 'Suspended',
    created: s.metadata.creationTimestamp,
    addresses: (st?.vmState ?? 'building') === 'building' ? [] : st?.addresses?.[networkName] ?? [],
  };
}
