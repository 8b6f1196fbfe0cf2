// Nova microversions: parsing, comparison and negotiation from request headers. Pure.

export const MIN_VERSION = '2.1';
export const MAX_VERSION = '2.104';

/** A microversion as a comparable pair. */
export class Version {
  readonly major: number;
  readonly minor: number;
  constructor(major: number, minor: number) {
    this.major = major;
    this.minor = minor;
  }
  static parse(s: string): Version | undefined {
    const m = /^([1-9]\d*)\.([1-9]\d*|0)$/.exec(s);
    return m ? new Version(Number(m[1]), Number(m[2])) : undefined;
  }
  static of(s: string): Version {
    const v = Version.parse(s);
    if (!v) throw new Error(`bad version ${s}`);
    return v;
  }
  cmp(o: Version | string): number {
    const v = typeof o === 'string' ? Version.of(o) : o;
    return this.major - v.major || this.minor - v.minor;
  }
  /** True when this version is at least `o` (the feature of `o` is present). */
  atLeast(o: string): boolean {
    return this.cmp(o) >= 0;
  }
  toString(): string {
    return `${this.major}.${this.minor}`;
  }
}

export const MIN = Version.of(MIN_VERSION);
export const MAX = Version.of(MAX_VERSION);

export type Negotiation = { ok: true; version: Version } | { ok: false; status: 400 | 406; message: string };

/**
 * The microversion a request asks for: `OpenStack-API-Version: compute X.Y` wins over the legacy
 * `X-OpenStack-Nova-API-Version`; none means 2.1; `latest` means the maximum.
 */
export function negotiate(headers: Record<string, string | string[] | undefined>): Negotiation {
  let requested: string | undefined;
  const modern = headerValue(headers['openstack-api-version']);
  if (modern) {
    for (const part of modern.split(',')) {
      const [service, value] = part.trim().split(/\s+/, 2);
      if (service?.toLowerCase() === 'compute' && value) requested = value;
    }
  }
  requested ??= headerValue(headers['x-openstack-nova-api-version'])?.trim();
  if (!requested) return { ok: true, version: MIN };
  if (requested.toLowerCase() === 'latest') return { ok: true, version: MAX };
  const v = Version.parse(requested);
  if (!v) return { ok: false, status: 400, message: `API Version String ${requested} is of invalid format. Must be of format MajorNum.MinorNum.` };
  if (v.cmp(MIN) < 0 || v.cmp(MAX) > 0) {
    return { ok: false, status: 406, message: `Version ${requested} is not supported by the API. Minimum is ${MIN_VERSION} and maximum is ${MAX_VERSION}.` };
  }
  return { ok: true, version: v };
}

function headerValue(h: string | string[] | undefined): string | undefined {
  return Array.isArray(h) ? h.join(',') : h;
}
