// The Kova custom resources and user roles: one definition each, the single source of every
// generated manifest (crds/, the chart's crds/, config/rbac and the chart's user roles).
import { stringify } from 'yaml';
import { AggregateDefinition } from './aggregate.ts';
import { DeletedServerDefinition } from './deleted-server.ts';
import { FlavorDefinition } from './flavor.ts';
import { KeyPairDefinition } from './keypair.ts';
import { QuotaSetDefinition } from './quotaset.ts';
import { CLUSTER_ROLES, imageUsersBinding, OPERATOR_ROLES } from './rbac.ts';
import { crdOf, type KindDefinition } from './schema.ts';
import { ServerDefinition } from './server.ts';
import { ServerGroupDefinition } from './server-group.ts';

export const DEFINITIONS: KindDefinition[] = [FlavorDefinition, KeyPairDefinition, ServerDefinition, AggregateDefinition, ServerGroupDefinition, QuotaSetDefinition, DeletedServerDefinition];

const HEADER = '# Generated from src/api/ by `npm run crds`. Do not edit.\n';
const yaml = (o: unknown): string => stringify(o, { lineWidth: 0 });

/** crds/<file> → its YAML text. */
export function renderCrds(): Map<string, string> {
  const out = new Map<string, string>();
  for (const d of DEFINITIONS) out.set(`${d.group}_${d.plural}.yaml`, HEADER + yaml(crdOf(d)));
  return out;
}

/** Every generated file, by path from the repository root. */
export function renderGenerated(): Map<string, string> {
  const out = new Map<string, string>();
  const crds = renderCrds();
  for (const [file, text] of crds) {
    out.set(`crds/${file}`, text);
    out.set(`charts/kova/crds/${file}`, text);
  }
  out.set('crds/kustomization.yaml', HEADER + yaml({ apiVersion: 'kustomize.config.k8s.io/v1beta1', kind: 'Kustomization', resources: [...crds.keys()] }));
  const roles = HEADER + CLUSTER_ROLES.map(yaml).join('---\n');
  out.set('config/rbac/user-roles.yaml', roles);
  out.set('charts/kova/templates/user-roles.yaml', roles);
  // The images namespace's binding: the chart's namespace is a value.
  out.set('config/rbac/image-users.yaml', HEADER + yaml(imageUsersBinding('kova-images')));
  out.set('charts/kova/templates/image-users.yaml', HEADER + yaml(imageUsersBinding('__IMAGES__')).replace('__IMAGES__', '{{ .Values.imagesNamespace }}'));
  const operator = HEADER + OPERATOR_ROLES.map(yaml).join('---\n');
  out.set('config/rbac/operator-roles.yaml', operator);
  out.set('charts/kova/templates/operator-roles.yaml', operator);
  return out;
}
