// Hostnames: the one the guest gets is the one the API shows (OS-EXT-SRV-ATTR:hostname). Pure.
import type { Server } from '../api/server.ts';

/** A name made DNS-safe: lower case, runs of other characters as one hyphen, no hyphen at either end. */
export function dnsLabel(name: string, max: number): string {
  return name.toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, max).replace(/-+$/, '');
}

/** Nova's default hostname: the display name made DNS-safe ("server" when nothing is left). */
export function defaultHostname(displayName: string): string {
  return dnsLabel(displayName, 63) || 'server';
}

/** The server's hostname: the one asked for (2.90), else the default from its display name. */
export const hostnameOf = (s: Server): string => s.spec.hostname ?? defaultHostname(s.spec.name);

/** What a hostname given through the API (2.90, 2.94 FQDN) becomes in spec.hostname: its first label, lower case. */
export const requestedHostname = (hostname: string): string => hostname.toLowerCase().split('.')[0] ?? hostname;
