// Nova's server group view per microversion (os-server-groups): `policies` and an empty `metadata`
// before 2.64, `policy` and `rules` from it; `project_id` and `user_id` from 2.13. Pure.
import type { ServerGroup } from '../../api/server-group.ts';
import type { ViewContext } from './links.ts';

/** A group with what the view needs from elsewhere: its project's id and its members' ids. */
export interface GroupViewInputs {
  projectId: string;
  members: string[];
}

export function serverGroupView(c: ViewContext, g: ServerGroup, i: GroupViewInputs): Record<string, unknown> {
  const out: Record<string, unknown> = { id: g.metadata.uid ?? '', name: g.spec.name };
  if (c.version.atLeast('2.64')) {
    out.policy = g.spec.policy;
    out.rules = g.spec.rules?.maxServerPerHost !== undefined ? { max_server_per_host: g.spec.rules.maxServerPerHost } : {};
  } else {
    out.policies = [g.spec.policy];
    out.metadata = {};
  }
  out.members = i.members;
  if (c.version.atLeast('2.13')) {
    out.project_id = i.projectId;
    out.user_id = g.spec.userId ?? '';
  }
  return out;
}

export const serverGroupShown = (c: ViewContext, g: ServerGroup, i: GroupViewInputs) => ({ server_group: serverGroupView(c, g, i) });

export const serverGroupList = (c: ViewContext, groups: readonly ServerGroup[], inputs: (g: ServerGroup) => GroupViewInputs) => ({
  server_groups: groups.map((g) => serverGroupView(c, g, inputs(g))),
});
