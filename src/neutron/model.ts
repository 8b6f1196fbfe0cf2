// Neutron's model of the cluster's networking, read-only (docs/adr/017): the pod network as one
// shared network with a stable id, its subnets (the pod CIDRs), and one port per server interface
// on it, made from what the Server's status records of its VMI (MAC and IPs). Pure: the route
// gathers the facts, this builds Neutron's resources as plain dicts (filters and `fields` work on
// them as Neutron's do on its attribute maps).
import { createHash } from 'node:crypto';
import type { Address } from '../api/server.ts';

/** What the model needs to know about the cluster. */
export interface ClusterNetworkFacts {
  /** A stable id of the cluster: the kube-system namespace's uid. */
  clusterId: string;
  /** When the cluster was made (kube-system's creationTimestamp): the network's created_at. */
  createdAt: string | undefined;
  /** The pod network's name; the server view's `addresses` use the same name. */
  name: string;
  /** The pod CIDRs (one per IP version). */
  cidrs: string[];
  mtu: number;
}

export type NeutronResource = Record<string, unknown> & { id: string };

/** RFC 4122 name-based UUID (version 5, SHA-1). */
export function uuidV5(name: string, namespace: string): string {
  const ns = Buffer.from(namespace.replace(/-/g, ''), 'hex');
  const h = createHash('sha1').update(ns).update(name).digest();
  h[6] = (h[6]! & 0x0f) | 0x50;
  h[8] = (h[8]! & 0x3f) | 0x80;
  const x = h.subarray(0, 16).toString('hex');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
}

/** Kova's namespace for name-based ids (a UUIDv5 of "kova.io" in the DNS namespace). */
export const KOVA_UUID_NAMESPACE = uuidV5('kova.io', '6ba7b810-9dad-11d1-80b4-00c04fd430c8');

/** The pod network's id: the same for every replica and restart of the API in one cluster. */
export const podNetworkId = (f: Pick<ClusterNetworkFacts, 'clusterId' | 'name'>): string => uuidV5(`network/${f.clusterId}/${f.name}`, KOVA_UUID_NAMESPACE);

export const subnetId = (networkId: string, cidr: string): string => uuidV5(`subnet/${networkId}/${cidr}`, KOVA_UUID_NAMESPACE);

/** A port is a server's interface on a network: stable while the server lives (a restart keeps it). */
export const portId = (serverId: string, networkId: string, index: number): string => uuidV5(`port/${serverId}/${networkId}/${index}`, KOVA_UUID_NAMESPACE);

/**
 * The MAC of a server's interface on the pod network, as Neutron allocates one from its base_mac
 * (fa:16:3e:…): fixed for the server's life, so a restart, resize or migration keeps it (the VM's
 * interface asks KubeVirt for it).
 */
export function portMac(serverId: string): string {
  const h = createHash('sha256').update(`mac/${serverId}`).digest();
  return ['fa', '16', '3e', ...[...h.subarray(0, 3)].map((b) => b.toString(16).padStart(2, '0'))].join(':');
}

/** Neutron's timestamps: whole seconds, with Z. */
export const neutronTime = (t: string | undefined): string => (t ?? new Date(0).toISOString()).replace(/\.\d+Z$/, 'Z');

// --- addresses and CIDRs -------------------------------------------------------------------------

const v4ToBig = (ip: string): bigint | undefined => {
  const parts = ip.split('.');
  if (parts.length !== 4 || parts.some((p) => !/^\d{1,3}$/.test(p) || Number(p) > 255)) return undefined;
  return parts.reduce((acc, p) => (acc << 8n) | BigInt(Number(p)), 0n);
};

const v6ToBig = (ip: string): bigint | undefined => {
  if (!ip.includes(':')) return undefined;
  const [head = '', tail, extra] = ip.split('::');
  if (extra !== undefined) return undefined;
  const h = head ? head.split(':') : [];
  const t = tail === undefined ? [] : tail ? tail.split(':') : [];
  const fill = tail === undefined ? 0 : 8 - h.length - t.length;
  const groups = [...h, ...Array<string>(Math.max(fill, 0)).fill('0'), ...t];
  if (groups.length !== 8 || groups.some((g) => !/^[0-9a-fA-F]{1,4}$/.test(g))) return undefined;
  return groups.reduce((acc, g) => (acc << 16n) | BigInt(Number.parseInt(g, 16)), 0n);
};

const bigToV4 = (n: bigint): string => [24n, 16n, 8n, 0n].map((s) => String((n >> s) & 255n)).join('.');

/** An IPv6 address in RFC 5952's short form. */
function bigToV6(n: bigint): string {
  const groups = [112n, 96n, 80n, 64n, 48n, 32n, 16n, 0n].map((s) => Number((n >> s) & 0xffffn));
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) { best = i; bestLen = j - i; }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (best < 0) return hex.join(':');
  return `${hex.slice(0, best).join(':')}::${hex.slice(best + bestLen).join(':')}`;
}

export interface Cidr {
  version: 4 | 6;
  /** The canonical form (host bits cleared), as Neutron shows a subnet's cidr. */
  cidr: string;
  network: bigint;
  prefix: number;
}

/** A CIDR, canonicalised; undefined when it is not one. */
export function parseCidr(s: string): Cidr | undefined {
  const [ip = '', len] = s.trim().split('/');
  const version: 4 | 6 = ip.includes(':') ? 6 : 4;
  const n = version === 4 ? v4ToBig(ip) : v6ToBig(ip);
  const bits = version === 4 ? 32 : 128;
  const prefix = len === undefined ? bits : Number(len);
  if (n === undefined || !Number.isInteger(prefix) || prefix < 0 || prefix > bits) return undefined;
  const host = (1n << BigInt(bits - prefix)) - 1n;
  const network = n & ~host & ((1n << BigInt(bits)) - 1n);
  return { version, network, prefix, cidr: `${version === 4 ? bigToV4(network) : bigToV6(network)}/${prefix}` };
}

/** Whether `ip` lies in `c`. */
export function cidrContains(c: Cidr, ip: string): boolean {
  const bits = c.version === 4 ? 32 : 128;
  const n = c.version === 4 ? v4ToBig(ip) : v6ToBig(ip);
  if (n === undefined) return false;
  const host = (1n << BigInt(bits - c.prefix)) - 1n;
  return (n & ~host & ((1n << BigInt(bits)) - 1n)) === c.network;
}

/** Neutron's default allocation pool: the CIDR without its network address (and IPv4's broadcast). */
function allocationPool(c: Cidr): { start: string; end: string } {
  const bits = c.version === 4 ? 32 : 128;
  const size = 1n << BigInt(bits - c.prefix);
  const show = c.version === 4 ? bigToV4 : bigToV6;
  if (size <= 2n) return { start: show(c.network), end: show(c.network + size - 1n) };
  return { start: show(c.network + 1n), end: show(c.network + size - (c.version === 4 ? 2n : 1n)) };
}

// --- resources -----------------------------------------------------------------------------------

/** The pod network's subnets, one per configured CIDR. */
export function podSubnets(f: ClusterNetworkFacts): NeutronResource[] {
  const networkId = podNetworkId(f);
  const created = neutronTime(f.createdAt);
  return f.cidrs.flatMap((raw) => {
    const c = parseCidr(raw);
    if (!c) return [];
    return [{
      id: subnetId(networkId, c.cidr),
      name: `${f.name}-ipv${c.version}`,
      network_id: networkId,
      tenant_id: '',
      project_id: '',
      ip_version: c.version,
      cidr: c.cidr,
      // Every Node routes its own pods: there is no one gateway address on the pod network.
      gateway_ip: null,
      allocation_pools: [allocationPool(c)],
      dns_nameservers: [],
      host_routes: [],
      enable_dhcp: true,
      ipv6_ra_mode: null,
      ipv6_address_mode: null,
      subnetpool_id: null,
      segment_id: null,
      service_types: [],
      description: `The pod network's addresses (${c.cidr})`,
      tags: [],
      created_at: created,
      updated_at: created,
      revision_number: 0,
    }];
  });
}

/** The pod network: shared by every project, always ACTIVE. */
export function podNetwork(f: ClusterNetworkFacts): NeutronResource {
  const created = neutronTime(f.createdAt);
  return {
    id: podNetworkId(f),
    name: f.name,
    tenant_id: '',
    project_id: '',
    admin_state_up: true,
    status: 'ACTIVE',
    subnets: podSubnets(f).map((s) => s.id),
    shared: true,
    mtu: f.mtu,
    'router:external': false,
    // Nothing filters the pod network per port: Kova has no security groups yet.
    port_security_enabled: false,
    availability_zone_hints: [],
    availability_zones: [],
    ipv4_address_scope: null,
    ipv6_address_scope: null,
    l2_adjacency: false,
    description: 'The Kubernetes pod network',
    tags: [],
    created_at: created,
    updated_at: created,
    revision_number: 0,
  };
}

/** What a server contributes to the port list. */
export interface ServerPortFacts {
  serverId: string;
  projectId: string;
  /** Its availability zone: Nova writes device_owner compute:<zone>. */
  zone: string | undefined;
  /** The Node it runs on (binding:host_id, admins only). */
  host: string | undefined;
  /** Whether its guest is plugged in now (a running or paused VMI). */
  plugged: boolean;
  created: string | undefined;
  /** Its addresses on the pod network, as the Server's status records them. */
  addresses: Address[];
}

/** The ports of one server on the pod network: one per interface (MAC), with all its IPs. */
export function serverPorts(f: ClusterNetworkFacts, s: ServerPortFacts): NeutronResource[] {
  const networkId = podNetworkId(f);
  const subnets = f.cidrs.map(parseCidr).filter((c): c is Cidr => !!c);
  const byMac = new Map<string, Address[]>();
  for (const a of s.addresses) {
    const key = (a.macAddr ?? '').toLowerCase();
    byMac.set(key, [...(byMac.get(key) ?? []), a]);
  }
  const created = neutronTime(s.created);
  return [...byMac].map(([mac, addrs], index) => ({
    id: portId(s.serverId, networkId, index),
    name: '',
    network_id: networkId,
    tenant_id: s.projectId,
    project_id: s.projectId,
    mac_address: mac,
    admin_state_up: true,
    status: s.plugged ? 'ACTIVE' : 'DOWN',
    device_id: s.serverId,
    device_owner: `compute:${s.zone || 'nova'}`,
    fixed_ips: addrs.map((a) => {
      const version = a.version ?? (a.addr?.includes(':') ? 6 : 4);
      const subnet = subnets.find((c) => cidrContains(c, a.addr ?? '')) ?? subnets.find((c) => c.version === version);
      return { subnet_id: subnet ? subnetId(networkId, subnet.cidr) : '', ip_address: a.addr ?? '' };
    }),
    allowed_address_pairs: [],
    extra_dhcp_opts: [],
    security_groups: [],
    port_security_enabled: false,
    description: '',
    dns_name: '',
    dns_assignment: [],
    ip_allocation: 'immediate',
    propagate_uplink_status: false,
    qos_policy_id: null,
    qos_network_policy_id: null,
    resource_request: null,
    'binding:vnic_type': 'normal',
    'binding:host_id': s.host ?? '',
    'binding:vif_type': s.host ? 'other' : 'unbound',
    'binding:vif_details': {},
    'binding:profile': {},
    tags: [],
    created_at: created,
    updated_at: created,
    revision_number: 0,
  }));
}

/** Attributes only admins see (Neutron's policy hides them from others). */
export const ADMIN_ONLY_ATTRIBUTES: Record<string, readonly string[]> = {
  networks: [],
  subnets: [],
  ports: ['binding:host_id', 'binding:vif_type', 'binding:vif_details', 'binding:profile'],
};

/** A resource as a caller sees it: without the attributes their role may not read. */
export function visibleTo(collection: string, r: NeutronResource, admin: boolean): NeutronResource {
  if (admin) return r;
  const out = { ...r };
  for (const k of ADMIN_ONLY_ATTRIBUTES[collection] ?? []) delete out[k];
  return out;
}

/**
 * What Nova's server create does with its `networks`: Kova has the pod network only, so the request
 * must come to "the pod network once" (auto, [] before 2.37, or that network by id) or none.
 */
export function requestedPodNetwork(networks: unknown, networkId: string): { networks: 'auto' | 'none' } | { error: string } {
  if (networks === 'none') return { networks: 'none' };
  if (networks === undefined || networks === 'auto' || (Array.isArray(networks) && networks.length === 0)) return { networks: 'auto' };
  const list = networks as { uuid?: string; port?: string; fixed_ip?: string; tag?: string }[];
  for (const n of list) {
    if (n.port) return { error: `Port ${n.port} could not be found.` };
    if (n.uuid !== networkId) return { error: `Network ${n.uuid ?? ''} could not be found.` };
    if (n.fixed_ip) return { error: `Fixed IP address ${n.fixed_ip} is not valid on the pod network: its addresses are assigned by Kubernetes.` };
  }
  if (list.length > 1) return { error: `Network ${networkId} is duplicated: a server has one interface on the pod network.` };
  return { networks: 'auto' };
}
