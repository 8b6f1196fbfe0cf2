// Console tokens: what a console URL's signed token carries, how long it lives, and where the
// console proxy opens it (KubeVirt's VNC subresource). Shared by the routes that hand out console
// URLs and the proxy that opens them. See docs/adr/011-remote-console.md.
import { resourcePath } from '../kube/client.ts';
import { VMI_SUBRESOURCES } from '../kubevirt/types.ts';
import type { SignedTokens } from '../identity/tokens.ts';

/** The websocket path noVNC opens (Nova's novncproxy's). */
export const WEBSOCKIFY_PATH = '/novnc/websockify';

/** What a console token carries: the server it opens, and who may open it. No credential. */
export interface ConsoleClaims {
  /** Nova's instance uuid (the Server's uid) and where the Server is. */
  server: { uid: string; namespace: string; name: string };
  /** The VMI whose display is opened. */
  vmi: string;
  /** The caller who asked for the console: the proxy connects as them. */
  user: string;
  groups: string[];
}

export type ConsoleTokens = SignedTokens<ConsoleClaims>;

/** Console tokens live as long as Nova's [consoleauth] token_ttl by default. */
export const CONSOLE_TOKEN_TTL_SECONDS = 600;

/** The apiserver path of a VMI's VNC subresource. */
export const vncPath = (namespace: string, vmi: string): string => resourcePath(VMI_SUBRESOURCES, namespace, vmi, 'vnc');
