// Nova's version documents (GET /, /v2.1, /v2, and the 300 choices). Pure.
import { MAX_VERSION, MIN_VERSION } from '../microversion.ts';

interface VersionInfo {
  id: 'v2.0' | 'v2.1';
  path: 'v2' | 'v2.1';
  status: 'DEPRECATED' | 'CURRENT';
  version: string;
  minVersion: string;
  updated: string;
  mediaVersion: string;
}

const VERSIONS: VersionInfo[] = [
  { id: 'v2.0', path: 'v2', status: 'DEPRECATED', version: '', minVersion: '', updated: '2025-07-04T12:00:00Z', mediaVersion: '2' },
  { id: 'v2.1', path: 'v2.1', status: 'CURRENT', version: MAX_VERSION, minVersion: MIN_VERSION, updated: '2013-07-23T11:33:21Z', mediaVersion: '2.1' },
];

const mediaTypes = (v: VersionInfo) => [{ base: 'application/json', type: `application/vnd.openstack.compute+json;version=${v.mediaVersion}` }];

export function versionsDocument(origin: string): unknown {
  return {
    versions: VERSIONS.map((v) => ({
      id: v.id,
      links: [{ href: `${origin}/${v.path}/`, rel: 'self' }],
      status: v.status,
      version: v.version,
      min_version: v.minVersion,
      updated: v.updated,
    })),
  };
}

export function versionDocument(origin: string, id: 'v2.0' | 'v2.1'): unknown {
  const v = VERSIONS.find((x) => x.id === id) ?? VERSIONS[1]!;
  return {
    version: {
      id: v.id,
      links: [
        { href: `${origin}/${v.path}/`, rel: 'self' },
        { href: 'http://docs.openstack.org/', rel: 'describedby', type: 'text/html' },
      ],
      'media-types': mediaTypes(v),
      status: v.status,
      version: v.version,
      min_version: v.minVersion,
      updated: v.updated,
    },
  };
}

/** 300 Multiple Choices for a path that names no version: where the same path lives in each version. */
export function choicesDocument(origin: string, path: string): unknown {
  return {
    choices: VERSIONS.map((v) => ({
      id: v.id,
      status: v.status,
      links: [{ href: `${origin}/${v.path}${path}`, rel: 'self' }],
      'media-types': mediaTypes(v),
    })),
  };
}
