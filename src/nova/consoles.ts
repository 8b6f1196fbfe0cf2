// Nova's remote consoles: which console a request may have, checked in the order Nova's API,
// compute API and compute manager check it, for a cloud whose only console is VNC (noVNC). Pure.
import { badRequest, conflict, type NovaError } from './faults.ts';
import type { Version } from './microversion.ts';

/** The protocols and types `POST /servers/{id}/remote-consoles` accepts at a microversion (Nova's schema enums). */
export function consoleChoices(v: Version): { protocols: string[]; types: string[] } {
  const protocols = ['vnc', 'spice', 'serial', 'rdp'];
  const types = ['novnc', 'xvpvnc', 'spice-html5', 'serial', 'rdp-html5'];
  if (v.atLeast('2.8')) {
    protocols.push('mks');
    types.push('webmks');
  }
  if (v.atLeast('2.99')) types.push('spice-direct');
  return { protocols, types };
}

/** What the checks need to know of the server. */
export interface ConsoleTarget {
  id: string;
  /** The Node it was placed on (Nova's instance.host); none before scheduling. */
  host?: string;
  taskState: string | null;
  /** Nova's power_state name (Running, Paused, Shutdown …). */
  powerState?: string;
}

/**
 * Nova's refusal of a console request, or undefined when Kova can open a VNC console. Nova has
 * removed RDP; SPICE, serial and MKS consoles are "unavailable" as in a Nova whose [spice],
 * [serial_console] and [mks] are disabled; xvpvnc is an invalid type. A VNC console needs a guest
 * display: a running (or paused) VMI.
 */
export function consoleRefusal(s: ConsoleTarget, protocol: string, type: string): NovaError | undefined {
  if (protocol === 'rdp') return badRequest(`Unavailable console type ${protocol}.`);
  if (!s.host) return notReady(s.id);
  if (s.taskState === 'deleting' || s.taskState === 'migrating') {
    return conflict(`Cannot 'get_${protocol}_console' instance ${s.id} while it is in task_state ${s.taskState}`);
  }
  if (protocol !== 'vnc') return badRequest(`Unavailable console type ${type}.`);
  if (type !== 'novnc') return badRequest(`Invalid console type ${type}`);
  if (s.powerState !== 'Running' && s.powerState !== 'Paused') return notReady(s.id);
  return undefined;
}

const notReady = (id: string): NovaError => conflict(`Instance ${id} is not ready`);

/**
 * The URL a noVNC page opens, as Nova's novncproxy hands it out: the page, with the websocket's
 * path (relative to the page's host, as noVNC joins them) in `path`.
 */
export const novncUrl = (pageUrl: string, websocketPath: string, token: string): string =>
  `${pageUrl}?path=${encodeURIComponent(`${websocketPath.replace(/^\//, '')}?token=${token}`)}`;
