// Nova's error bodies: {"<faultName>": {"code": N, "message": "..."}}. Pure.

const FAULT_NAMES: Record<number, string> = {
  400: 'badRequest',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'itemNotFound',
  405: 'badMethod',
  409: 'conflictingRequest',
  413: 'overLimit',
  415: 'badMediaType',
  429: 'overLimit',
  501: 'notImplemented',
  503: 'serviceUnavailable',
};

export const faultName = (code: number): string => FAULT_NAMES[code] ?? 'computeFault';

export function faultBody(code: number, message: string): Record<string, { code: number; message: string }> {
  return { [faultName(code)]: { code, message } };
}

/** An error that becomes a Nova fault response. */
export class NovaError extends Error {
  readonly code: number;
  constructor(code: number, message: string) {
    super(message);
    this.name = 'NovaError';
    this.code = code;
  }
}

export const badRequest = (m: string): NovaError => new NovaError(400, m);
export const notFound = (m: string): NovaError => new NovaError(404, m);
export const conflict = (m: string): NovaError => new NovaError(409, m);
export const forbidden = (m: string): NovaError => new NovaError(403, m);
/** A route that exists but not at the negotiated microversion: webob's default 404. */
export const versionNotFound = (): NovaError => new NovaError(404, 'The resource could not be found.');
