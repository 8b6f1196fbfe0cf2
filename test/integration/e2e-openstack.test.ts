// End to end with the real openstack CLI against `kova dev`, as the README tells a new user:
// start the sandbox, point OS_CLIENT_CONFIG_FILE at the clouds.yaml it wrote, and go.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import { startSandbox, type Sandbox } from '../support/sandbox.ts';
import { eventually } from '../support/waiting.ts';
import { openstackCli } from './openstack-cli.ts';

const exec = promisify(execFile);

describe('openstack CLI against kova dev', () => {
  let cwd: string;
  let osc: string;
  let dev: Sandbox | undefined;

  before(async () => {
    osc = await openstackCli();
    cwd = mkdtempSync(join(tmpdir(), 'kova-e2e-'));
    dev = await startSandbox(cwd, ['--step-ms', '100']);
  });
  after(async () => {
    if (dev) assert.equal(await dev.stop(), 0, dev.output());
  });

  const os = async (...args: string[]): Promise<string> => {
    try {
      const { stdout } = await exec(osc, args, { cwd, env: { ...process.env, OS_CLIENT_CONFIG_FILE: join(cwd, '.kova', 'dev', 'clouds.yaml'), OS_CLOUD: 'kova' }, timeout: 120_000 });
      return stdout;
    } catch (e) {
      throw new Error(`openstack ${args.join(' ')} failed: ${(e as { stderr?: string }).stderr ?? (e as Error).message}`);
    }
  };
  const json = async <T = any>(...args: string[]): Promise<T> => JSON.parse(await os(...args, '-f', 'json')) as T;

  test('the printed clouds.yaml is the written one', () => {
    const written = readFileSync(join(cwd, '.kova', 'dev', 'clouds.yaml'), 'utf8');
    const out = dev!.output();
    assert.match(out, /auth_url: http:\/\/127\.0\.0\.1:\d+\/identity\/v3/);
    assert.ok(out.includes(written.split('\n')[3]?.trim() ?? 'x'));
  });

  test('flavor list / create / set', async () => {
    const flavors = await json<{ Name: string }[]>('flavor', 'list');
    assert.deepEqual(flavors.map((f) => f.Name).sort(), ['m1.large', 'm1.medium', 'm1.small', 'm1.tiny', 'm1.xlarge']);
    const made = await json<{ name: string; vcpus: number; ram: number }>('flavor', 'create', '--vcpus', '2', '--ram', '1024', '--disk', '5', 'e2e.small');
    assert.deepEqual([made.name, made.vcpus, made.ram], ['e2e.small', 2, 1024]);
    await os('flavor', 'set', '--property', 'hw:cpu_policy=dedicated', 'e2e.small');
    const shown = await json<{ properties: Record<string, string> }>('flavor', 'show', 'e2e.small');
    assert.deepEqual(shown.properties, { 'hw:cpu_policy': 'dedicated' });
  });

  test('keypair create / list / delete', async () => {
    const made = await json<{ name: string; fingerprint: string }>('keypair', 'create', '--private-key', join(cwd, 'e2e-key.pem'), 'e2e-key');
    assert.match(readFileSync(join(cwd, 'e2e-key.pem'), 'utf8'), /PRIVATE KEY/);
    assert.equal(made.name, 'e2e-key');
    assert.match(made.fingerprint, /^([0-9a-f]{2}:){15}[0-9a-f]{2}$/);
    const list = await json<{ Name: string }[]>('keypair', 'list');
    assert.deepEqual(list.map((k) => k.Name), ['e2e-key']);
    await os('keypair', 'delete', 'e2e-key');
    assert.deepEqual(await json('keypair', 'list'), []);
  });

  test('server create --wait / list / show / delete', async () => {
    const made = await json<{ id: string; name: string; status: string; addresses: unknown; 'OS-EXT-AZ:availability_zone': string }>(
      'server', 'create', '--flavor', 'm1.tiny', '--image', 'cirros', '--nic', 'auto', '--availability-zone', 'zone-b', '--wait', 'e2e-vm');
    assert.equal(made.status, 'ACTIVE');
    assert.equal(made['OS-EXT-AZ:availability_zone'], 'zone-b');
    const list = await json<{ ID: string; Name: string; Status: string; Networks: unknown; Image: string; Flavor: string }[]>('server', 'list');
    const row = list.find((s) => s.ID === made.id);
    assert.ok(row);
    assert.deepEqual([row.Name, row.Status, row.Image, row.Flavor], ['e2e-vm', 'ACTIVE', 'cirros', 'm1.tiny']);
    const shown = await json<{ status: string; 'OS-EXT-SRV-ATTR:host': string }>('server', 'show', 'e2e-vm');
    assert.equal(shown['OS-EXT-SRV-ATTR:host'], 'compute-3', 'zone-b is compute-3');
    await os('server', 'delete', '--wait', 'e2e-vm');
    const after = await json<unknown[]>('server', 'list');
    assert.deepEqual(after, []);
  });

  test('server group create / show / delete; server create --hint group=… is placed by it; a hint Kova cannot honour is refused', async () => {
    const g = await json<{ id: string }>('server', 'group', 'create', '--policy', 'anti-affinity', 'e2e-spread');
    const ids: string[] = [];
    const hosts: string[] = [];
    for (const name of ['e2e-g1', 'e2e-g2']) {
      const s = await json<{ id: string }>('server', 'create', '--flavor', 'm1.tiny', '--image', 'cirros', '--nic', 'auto', '--availability-zone', 'zone-a', '--hint', `group=${g.id}`, '--wait', name);
      ids.push(s.id);
      hosts.push((await json<{ 'OS-EXT-SRV-ATTR:host': string }>('server', 'show', name))['OS-EXT-SRV-ATTR:host']);
    }
    assert.equal(new Set(hosts).size, 2, 'zone-a has two hosts: one member on each');
    const shown = await json<{ members: unknown }>('server', 'group', 'show', 'e2e-spread');
    assert.deepEqual([...(Array.isArray(shown.members) ? shown.members : String(shown.members).split(/,\s*/))].sort(), [...ids].sort());
    await assert.rejects(os('server', 'create', '--flavor', 'm1.tiny', '--image', 'cirros', '--nic', 'auto', '--hint', 'query=[">=","$free_ram_mb",1024]', 'e2e-refused'), /Scheduler hint query is not supported by Kova/);
    for (const name of ['e2e-g1', 'e2e-g2']) await os('server', 'delete', '--wait', name);
    await os('server', 'group', 'delete', 'e2e-spread');
    assert.deepEqual(await json<unknown[]>('server', 'group', 'list'), []);
  });

  test('server stop / start / reboot --wait / pause / unpause / lock / unlock / event list; console url show; console log show', async () => {
    const made = await json<{ id: string; status: string }>('server', 'create', '--flavor', 'm1.tiny', '--image', 'cirros', '--nic', 'auto', '--wait', 'e2e-life');
    assert.equal(made.status, 'ACTIVE');
    const vnc = await json<{ type: string; url: string }>('console', 'url', 'show', 'e2e-life');
    const log = await os('console', 'log', 'show', '--lines', '3', 'e2e-life');
    assert.equal(log.trimEnd().split('\n').length, 3, 'the last three lines of the guest console');
    assert.match(log, /login:/);
    assert.equal(vnc.type, 'novnc');
    assert.match(vnc.url, /^http:\/\/127\.0\.0\.1:\d+\/novnc\/vnc_lite\.html\?path=novnc%2Fwebsockify%3Ftoken%3Dkovavnc1\./);
    const until = (want: string) => eventually(`e2e-life ${want}`, async () => {
      const s = await json<{ status: string; 'OS-EXT-STS:task_state': string | null }>('server', 'show', 'e2e-life');
      return s.status === want && !s['OS-EXT-STS:task_state'] ? s : undefined;
    }, 60_000);
    await os('server', 'stop', 'e2e-life');
    assert.equal((await until('SHUTOFF') as { status: string }).status, 'SHUTOFF');
    await os('server', 'start', 'e2e-life');
    await until('ACTIVE');
    await os('server', 'reboot', '--hard', '--wait', 'e2e-life');
    await until('ACTIVE');
    await os('server', 'pause', 'e2e-life');
    assert.equal((await until('PAUSED') as { status: string }).status, 'PAUSED');
    await os('server', 'unpause', 'e2e-life');
    await until('ACTIVE');
    await os('server', 'lock', '--reason', 'freeze', 'e2e-life');
    assert.equal((await json<{ locked: boolean }>('server', 'show', 'e2e-life')).locked, true);
    await os('server', 'unlock', 'e2e-life');
    const events = await json<{ Action: string }[]>('server', 'event', 'list', 'e2e-life');
    assert.deepEqual(events.map((e) => e.Action), ['unlock', 'lock', 'unpause', 'pause', 'reboot', 'start', 'stop', 'create']);
    await os('server', 'delete', '--wait', 'e2e-life');
  });

  test('server resize / confirm / shelve / unshelve / rebuild / image create / migrate / event list', async () => {
    await json('server', 'create', '--flavor', 'm1.tiny', '--image', 'cirros', '--nic', 'auto', '--wait', 'e2e-ops');
    const until = (want: string) => eventually(`e2e-ops ${want}`, async () => {
      const s = await json<{ status: string; 'OS-EXT-STS:task_state': string | null; flavor: string | { original_name: string }; 'OS-EXT-SRV-ATTR:host': string | null }>('server', 'show', 'e2e-ops');
      return s.status === want && !s['OS-EXT-STS:task_state'] ? s : undefined;
    }, 60_000);
    await os('server', 'resize', '--flavor', 'm1.small', '--wait', 'e2e-ops');
    assert.equal((await json<{ status: string }>('server', 'show', 'e2e-ops')).status, 'VERIFY_RESIZE', '--wait returns when the resize waits for confirmation');
    await os('server', 'resize', 'confirm', 'e2e-ops');
    assert.match(JSON.stringify((await until('ACTIVE')).flavor), /m1\.small/);
    await os('server', 'shelve', 'e2e-ops');
    assert.equal((await until('SHELVED_OFFLOADED'))['OS-EXT-SRV-ATTR:host'], null);
    await os('server', 'unshelve', '--wait', 'e2e-ops');
    await until('ACTIVE');
    await os('server', 'rebuild', '--image', 'cirros', '--wait', 'e2e-ops');
    await until('ACTIVE');
    const image = await json<{ id: string; name: string }>('server', 'image', 'create', '--name', 'e2e-snap', '--wait', 'e2e-ops');
    assert.equal(image.name, 'e2e-snap');
    assert.equal((await json<{ status: string }>('image', 'show', image.id)).status, 'active');
    const host = (await until('ACTIVE'))['OS-EXT-SRV-ATTR:host'];
    await os('server', 'migrate', '--wait', 'e2e-ops');
    const moved = await until('VERIFY_RESIZE');
    assert.notEqual(moved['OS-EXT-SRV-ATTR:host'], host);
    await os('server', 'migrate', 'confirm', 'e2e-ops');
    await until('ACTIVE');
    const events = await json<{ Action: string }[]>('server', 'event', 'list', 'e2e-ops');
    assert.deepEqual(events.map((e) => e.Action).slice(0, 8), ['confirmResize', 'migrate', 'createImage', 'rebuild', 'unshelve', 'shelve', 'confirmResize', 'resize']);
    await os('server', 'delete', '--wait', 'e2e-ops');
  });

  test('network list / show, subnet list, server create --nic net-id=<name>, port list --server (Neutron, read-only)', async () => {
    const networks = await json<{ ID: string; Name: string; Subnets: string[] }[]>('network', 'list');
    assert.equal(networks.length, 1);
    const [net] = networks;
    assert.equal(net!.Name, 'default', 'the name the server view shows addresses under');
    const shown = await json<{ id: string; shared: boolean; status: string; subnets: string[] }>('network', 'show', 'default');
    assert.deepEqual([shown.id, shown.shared, shown.status], [net!.ID, true, 'ACTIVE']);
    const subnets = await json<{ ID: string; Network: string; Subnet: string }[]>('subnet', 'list');
    assert.deepEqual(subnets.map((x) => [x.ID, x.Network, x.Subnet]), [[shown.subnets[0], net!.ID, '10.244.0.0/16']]);
    // The CLI finds the network by name in Neutron and asks Nova for it by id.
    const made = await json<{ id: string; addresses: Record<string, string[]> | string }>('server', 'create', '--flavor', 'm1.tiny', '--image', 'cirros', '--nic', 'net-id=default', '--wait', 'e2e-net');
    const server = await json<{ id: string; addresses: Record<string, string[]>; 'OS-EXT-AZ:availability_zone': string }>('server', 'show', made.id);
    const ports = await json<{ ID: string; 'MAC Address': string; 'Fixed IP Addresses': { subnet_id: string; ip_address: string }[]; Status: string }[]>('port', 'list', '--server', 'e2e-net');
    assert.equal(ports.length, 1);
    const [port] = ports;
    assert.deepEqual(port!['Fixed IP Addresses'], [{ subnet_id: shown.subnets[0], ip_address: server.addresses.default?.[0] }]);
    assert.match(port!['MAC Address'], /^fa:16:3e(:[0-9a-f]{2}){3}$/);
    assert.equal(port!.Status, 'ACTIVE');
    const detail = await json<{ device_id: string; device_owner: string; network_id: string }>('port', 'show', port!.ID);
    assert.deepEqual([detail.device_id, detail.device_owner, detail.network_id], [made.id, `compute:${server['OS-EXT-AZ:availability_zone']}`, net!.ID]);
    await assert.rejects(os('network', 'create', 'e2e-mine'), /disallowed by policy/);
    await os('server', 'delete', '--wait', 'e2e-net');
    assert.deepEqual(await json('port', 'list', '--mac-address', port!['MAC Address']), [], 'the port goes with its server');
  });

  test('aggregate create / add host, hypervisor list, availability zone list', async () => {
    const agg = await json<{ name: string; availability_zone: string }>('aggregate', 'create', '--zone', 'zone-b', 'e2e-agg');
    assert.deepEqual([agg.name, agg.availability_zone], ['e2e-agg', 'zone-b']);
    const added = await json<{ hosts: string[] }>('aggregate', 'add', 'host', 'e2e-agg', 'compute-3');
    assert.deepEqual(added.hosts, ['compute-3']);
    const hypervisors = await json<{ 'Hypervisor Hostname': string; State: string }[]>('hypervisor', 'list');
    assert.deepEqual(hypervisors.map((h) => h['Hypervisor Hostname']).sort(), ['compute-1', 'compute-2', 'compute-3']);
    assert.ok(hypervisors.every((h) => h.State === 'up'));
    const zones = await json<{ 'Zone Name': string; 'Zone Status': string }[]>('availability', 'zone', 'list');
    assert.deepEqual(zones.map((z) => [z['Zone Name'], z['Zone Status']]), [['zone-a', 'available'], ['zone-b', 'available']]);
  });
});
