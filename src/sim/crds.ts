// Minimal KubeVirt and CDI CRDs (schemaless), for `kova dev` when KubeVirt's real ones cannot be
// generated (no Go: test/tools/build.sh kubevirt-crds). Only names, scope and status subresources matter.
import type { KubeObject, ResourceType } from '../kube/types.ts';
import {
  CLUSTER_INSTANCETYPES, DATA_SOURCES, DATA_VOLUMES, INSTANCETYPES, VIRTUAL_MACHINES, VIRTUAL_MACHINE_INSTANCES, VIRTUAL_MACHINE_INSTANCE_MIGRATIONS,
} from '../kubevirt/types.ts';

function crd(t: ResourceType, shortNames: string[], statusSubresource: boolean): KubeObject {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${t.plural}.${t.group}` },
    spec: {
      group: t.group,
      names: { kind: t.kind, listKind: `${t.kind}List`, plural: t.plural, singular: t.kind.toLowerCase(), shortNames },
      scope: t.namespaced ? 'Namespaced' : 'Cluster',
      versions: [{
        name: t.version,
        served: true,
        storage: true,
        ...(statusSubresource ? { subresources: { status: {} } } : {}),
        schema: { openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } },
      }],
    },
  };
}

export const minimalKubevirtCrds = (): KubeObject[] => [
  crd(VIRTUAL_MACHINES, ['vm', 'vms'], true),
  crd(VIRTUAL_MACHINE_INSTANCES, ['vmi', 'vmis'], false),
  crd(VIRTUAL_MACHINE_INSTANCE_MIGRATIONS, ['vmim', 'vmims'], true),
  crd(CLUSTER_INSTANCETYPES, ['vmclusterinstancetype'], false),
  crd(INSTANCETYPES, ['vminstancetype'], false),
  crd(DATA_VOLUMES, ['dv'], true),
  crd(DATA_SOURCES, ['das'], false),
];
