// Nova's console bodies: remote-consoles (2.6+), the os-get*Console actions (≤ 2.5),
// os-console-auth-tokens and os-getConsoleOutput. Pure.

export const remoteConsoleView = (protocol: string, type: string, url: string) => ({ remote_console: { protocol, type, url } });

export const legacyConsoleView = (type: string, url: string) => ({ console: { type, url } });

/** Where the console proxy connects for a token: the instance and its console endpoint. */
export interface ConnectInfo {
  instanceUuid: string;
  host: string;
  port: number;
  internalAccessPath: string | null;
}

export const connectInfoView = (c: ConnectInfo) => ({
  console: { instance_uuid: c.instanceUuid, host: c.host, port: c.port, internal_access_path: c.internalAccessPath },
});

/** os-getConsoleOutput's answer: the console text (nova/console-output.ts makes it). */
export const consoleOutputView = (output: string) => ({ output });
