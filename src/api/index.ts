// The Kova custom resources: one definition per kind, the single source of crds/*.yaml.
import { AggregateDefinition } from './aggregate.ts';
import { FlavorDefinition } from './flavor.ts';
import { KeyPairDefinition } from './keypair.ts';
import { ServerDefinition } from './server.ts';
import { crdOf, type KindDefinition } from './schema.ts';
import { stringify } from 'yaml';

export const DEFINITIONS: KindDefinition[] = [FlavorDefinition, KeyPairDefinition, ServerDefinition, AggregateDefinition];

/** crds/<file> → its YAML text, as `npm run crds` writes it. */
export function renderCrds(): Map<string, string> {
  const out = new Map<string, string>();
  for (const d of DEFINITIONS) {
    const header = '# Generated from src/api/ by `npm run crds`. Do not edit.\n';
    out.set(`${d.group}_${d.plural}.yaml`, header + stringify(crdOf(d), { lineWidth: 0 }));
  }
  return out;
}
