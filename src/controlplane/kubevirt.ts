// Real KubeVirt control-plane components — virt-api (admission webhooks, subresources.kubevirt.io)
// and virt-controller (VM → VMI → launcher pod, migrations, printableStatus) — started as plain
// processes beside the local kube-apiserver, with what virt-operator would have installed: the
// service accounts, RBAC and webhook configurations generated from virt-operator's own code
// (test/tools/kubevirt/geninstall), a KubeVirt CR, the CA and certificates. The node side (what
// virt-handler, the kubelet and CDI's importer do) is the simulator's (docs/adr/015-real-kubevirt.md).
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { sleep } from '../kube/informer.ts';
import { API_SERVICES, CONFIG_MAPS, NAMESPACES, SERVICES, type KubeObject, type ResourceType } from '../kube/types.ts';
import { certificateAuthority, signedCert } from './certs.ts';
import { freePort, httpOk, runBuildScript, type ControlPlane } from './controlplane.ts';
import { KubeClient } from '../kube/client.ts';
import { readYamlObjects } from './crds.ts';

export const KUBEVIRT_NAMESPACE = 'kubevirt';
/** The identities KubeVirt's components act as (virt-api's webhooks check who writes VMI status). */
export const KUBEVIRT_IDENTITIES = {
  api: 'system:serviceaccount:kubevirt:kubevirt-apiserver',
  controller: 'system:serviceaccount:kubevirt:kubevirt-controller',
  handler: 'system:serviceaccount:kubevirt:kubevirt-handler',
} as const;
/** The groups a KubeVirt service account is in. */
export const KUBEVIRT_SA_GROUPS = ['system:serviceaccounts', 'system:serviceaccounts:kubevirt', 'system:authenticated'];

const KUBEVIRTS: ResourceType = { group: 'kubevirt.io', version: 'v1', plural: 'kubevirts', kind: 'KubeVirt', namespaced: true };

/** Install objects generated from virt-operator's code, by file, in the order they are applied. */
const INSTALL_FILES: [string, ResourceType][] = [
  ['serviceaccounts.yaml', { group: '', version: 'v1', plural: 'serviceaccounts', kind: 'ServiceAccount', namespaced: true }],
  ['clusterroles.yaml', { group: 'rbac.authorization.k8s.io', version: 'v1', plural: 'clusterroles', kind: 'ClusterRole', namespaced: false }],
  ['clusterrolebindings.yaml', { group: 'rbac.authorization.k8s.io', version: 'v1', plural: 'clusterrolebindings', kind: 'ClusterRoleBinding', namespaced: false }],
  ['roles.yaml', { group: 'rbac.authorization.k8s.io', version: 'v1', plural: 'roles', kind: 'Role', namespaced: true }],
  ['rolebindings.yaml', { group: 'rbac.authorization.k8s.io', version: 'v1', plural: 'rolebindings', kind: 'RoleBinding', namespaced: true }],
  ['validatingadmissionpolicies.yaml', { group: 'admissionregistration.k8s.io', version: 'v1', plural: 'validatingadmissionpolicies', kind: 'ValidatingAdmissionPolicy', namespaced: false }],
  ['validatingadmissionpolicybindings.yaml', { group: 'admissionregistration.k8s.io', version: 'v1', plural: 'validatingadmissionpolicybindings', kind: 'ValidatingAdmissionPolicyBinding', namespaced: false }],
];
const WEBHOOK_FILES: [string, ResourceType][] = [
  ['mutatingwebhookconfigurations.yaml', { group: 'admissionregistration.k8s.io', version: 'v1', plural: 'mutatingwebhookconfigurations', kind: 'MutatingWebhookConfiguration', namespaced: false }],
  ['validatingwebhookconfigurations.yaml', { group: 'admissionregistration.k8s.io', version: 'v1', plural: 'validatingwebhookconfigurations', kind: 'ValidatingWebhookConfiguration', namespaced: false }],
];

export interface KubeVirtOptions {
  /** Working folder: certificates, kubeconfigs. */
  dir: string;
  /** Folder holding virt-api and virt-controller. */
  binDir: string;
  /** Folder of the objects geninstall wrote. */
  installDir: string;
  apiServerUrl: string;
  /** The apiserver's serving CA (for the components' kubeconfigs). */
  apiServerCa: Buffer;
  /** A token allowed to impersonate (the control plane's admin). */
  adminToken: string;
  /** Starts a process the control plane supervises; its log goes to `<dir>/<name>.log`. */
  launch: (name: string, bin: string, args: string[]) => void;
  /** Whether a launched process has exited (start fails fast then). */
  exited: (name: string) => boolean;
}

/** What the node side needs to play virt-handler for real virt-api. */
export interface HandlerEndpoint {
  /** The port virt-api calls virt-handler on (its --console-server-port). */
  port: number;
  /** virt-handler's serving and client certificate (CN kubevirt.io:system:node:virt-handler), signed by KubeVirt's CA. */
  cert: Buffer;
  key: Buffer;
  /** KubeVirt's CA (what virt-api's client certificate is signed by). */
  ca: Buffer;
}

export class KubeVirtComponents {
  private readonly o: KubeVirtOptions;
  handler: HandlerEndpoint | undefined;

  constructor(o: KubeVirtOptions) {
    this.o = o;
  }

  /** Installs what virt-operator would, starts virt-api (webhooks on) and virt-controller, and waits until they serve. */
  async start(client: KubeClient): Promise<HandlerEndpoint> {
    const o = this.o;
    const certs = join(o.dir, 'kubevirt-certs');
    if (!(await certificateAuthority(certs, 'kubevirt.io'))) throw new Error('openssl is needed to run KubeVirt (certificates)');
    const ok = await signedCert(certs, 'virt-api', 'virt-api.kubevirt.svc', { server: true, ips: ['127.0.0.1'], dns: ['localhost', 'virt-api.kubevirt.svc'] })
      && await signedCert(certs, 'virt-api-handler-client', 'kubevirt.io:system:client:virt-handler', { client: true })
      && await signedCert(certs, 'virt-handler', 'kubevirt.io:system:node:virt-handler', { server: true, client: true, ips: ['127.0.0.1'], dns: ['localhost'] })
      && await signedCert(certs, 'virt-controller', 'virt-controller.kubevirt.svc', { server: true, ips: ['127.0.0.1'] });
    if (!ok) throw new Error('could not make KubeVirt\'s certificates with openssl');
    const ca = readFileSync(join(certs, 'ca.crt'));

    await client.apply(NAMESPACES, { metadata: { name: KUBEVIRT_NAMESPACE } }, { fieldManager: 'kova-kubevirt' });
    for (const [file, type] of INSTALL_FILES) await this.applyFile(client, file, type, (x) => x);
    await client.apply(CONFIG_MAPS, { metadata: { name: 'kubevirt-ca', namespace: KUBEVIRT_NAMESPACE }, data: { 'ca-bundle': ca.toString() } }, { fieldManager: 'kova-kubevirt' });
    await this.kubevirtCr(client);

    const [apiPort, handlerPort, controllerPort] = [await freePort(), await freePort(), await freePort()];
    o.launch('virt-api', join(o.binDir, 'virt-api'), [
      '--kubeconfig', this.kubeconfig('virt-api', KUBEVIRT_IDENTITIES.api),
      '--listen', '127.0.0.1', '--port', String(apiPort), '--console-server-port', String(handlerPort),
      '--tls-cert-file', join(certs, 'virt-api.crt'), '--tls-key-file', join(certs, 'virt-api.key'),
      '--handler-cert-file', join(certs, 'virt-api-handler-client.crt'), '--handler-key-file', join(certs, 'virt-api-handler-client.key'),
      '-v', '2',
    ]);
    await this.waitFor('virt-api', () => httpOk(`https://127.0.0.1:${apiPort}/apis/subresources.kubevirt.io/v1/healthz`), 90_000);

    // Webhooks and the subresource API point at the loopback port (there is no kube-proxy here).
    const caBundle = ca.toString('base64');
    for (const [file, type] of WEBHOOK_FILES) {
      await this.applyFile(client, file, type, (cfg) => ({
        ...cfg,
        webhooks: (cfg.webhooks as { clientConfig: { service?: { path?: string } } }[] | undefined)?.map((w) => ({
          ...w,
          clientConfig: { url: `https://127.0.0.1:${apiPort}${w.clientConfig.service?.path ?? '/'}`, caBundle },
        })),
      }));
    }
    await client.apply(SERVICES, { metadata: { name: 'virt-api', namespace: KUBEVIRT_NAMESPACE }, spec: { type: 'ExternalName', externalName: 'localhost', ports: [{ name: 'https', port: apiPort }] } }, { fieldManager: 'kova-kubevirt' });
    await this.applyFile(client, 'apiservices.yaml', API_SERVICES, (svc) => ({
      ...svc,
      spec: { ...(svc.spec as object), service: { namespace: KUBEVIRT_NAMESPACE, name: 'virt-api', port: apiPort }, caBundle },
    }));

    o.launch('virt-controller', join(o.binDir, 'virt-controller'), [
      '--kubeconfig', this.kubeconfig('virt-controller', KUBEVIRT_IDENTITIES.controller),
      '--listen', '127.0.0.1', '--port', String(controllerPort),
      '--launcher-image', 'quay.io/kubevirt/virt-launcher:v1.8.0', '--exporter-image', 'quay.io/kubevirt/virt-exportserver:v1.8.0',
      '--prom-cert-file', join(certs, 'virt-controller.crt'), '--prom-key-file', join(certs, 'virt-controller.key'),
      '-v', '2',
    ]);
    await this.waitFor('virt-controller', () => httpOk(`https://127.0.0.1:${controllerPort}/leader`), 90_000);
    return this.handlerEndpoint(certs, handlerPort);
  }

  private handlerEndpoint(certs: string, port: number): HandlerEndpoint {
    this.handler = handlerEndpointOf(`${port}:${certs}`);
    return this.handler;
  }

  /** The handler endpoint as one string (`port:certificates folder`), for processes started later (test files, `kova sim`). */
  get handlerRef(): string {
    return this.handler ? `${this.handler.port}:${join(this.o.dir, 'kubevirt-certs')}` : '';
  }

  /**
   * The KubeVirt CR: emulation (no /dev/kvm here), and the status virt-operator would write — a phase
   * (without one the configuration is ignored) and the default architecture (without it every VMI
   * is refused "unsupported architecture").
   */
  private async kubevirtCr(client: KubeClient): Promise<void> {
    const kv = await client.apply<KubeObject & { status?: object }>(KUBEVIRTS, {
      apiVersion: 'kubevirt.io/v1', kind: 'KubeVirt',
      metadata: { name: 'kubevirt', namespace: KUBEVIRT_NAMESPACE },
      // Feature gates a cluster needs for the flavors Kova maps to host devices, vGPUs and SEV.
      spec: { configuration: { developerConfiguration: { useEmulation: true, featureGates: ['HostDevices', 'GPU', 'WorkloadEncryptionSEV'] } } },
    }, { fieldManager: 'kova-kubevirt' });
    await client.replace(KUBEVIRTS, { ...kv, status: { phase: 'Deployed', defaultArchitecture: 'amd64', observedKubeVirtVersion: 'v1.8.0', targetKubeVirtVersion: 'v1.8.0' } }, 'status');
  }

  private async applyFile(client: KubeClient, file: string, type: ResourceType, edit: (o: KubeObject) => KubeObject): Promise<void> {
    const path = join(this.o.installDir, file);
    if (!readdirSync(this.o.installDir).includes(file)) return;
    for (const obj of readYamlObjects(readFileSync(path, 'utf8'))) {
      const { status: _status, ...rest } = edit(obj) as KubeObject & { status?: unknown };
      await client.apply(type, rest as KubeObject, { fieldManager: 'kova-kubevirt' });
    }
  }

  /** A kubeconfig that acts as `user` (the admin token impersonating a KubeVirt service account). */
  private kubeconfig(name: string, user: string): string {
    const path = join(this.o.dir, `${name}.kubeconfig`);
    writeFileSync(path, stringify({
      apiVersion: 'v1', kind: 'Config',
      clusters: [{ name: 'kova', cluster: { server: this.o.apiServerUrl, 'certificate-authority-data': this.o.apiServerCa.toString('base64') } }],
      users: [{ name, user: { token: this.o.adminToken, as: user, 'as-groups': KUBEVIRT_SA_GROUPS } }],
      contexts: [{ name: 'kova', context: { cluster: 'kova', user: name } }],
      'current-context': 'kova',
    }), { mode: 0o600 });
    return path;
  }

  private async waitFor(name: string, probe: () => Promise<boolean>, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (await probe()) return;
      if (this.o.exited(name)) throw new Error(`${name} exited during start; see ${join(this.o.dir, `${name}.log`)}`);
      await sleep(250);
    }
    throw new Error(`${name} did not become ready within ${timeoutMs / 1000}s; see ${join(this.o.dir, `${name}.log`)}`);
  }
}

/**
 * virt-api and virt-controller built from their Go modules, and what virt-operator would install
 * (test/tools/build.sh kubevirt: built once, cached); $KOVA_KUBEVIRT_BIN and $KOVA_KUBEVIRT_INSTALL
 * point elsewhere.
 */
export async function kubevirtBuild(onProgress: (line: string) => void = () => {}): Promise<{ binDir: string; installDir: string }> {
  const binDir = process.env.KOVA_KUBEVIRT_BIN;
  const installDir = process.env.KOVA_KUBEVIRT_INSTALL;
  if (binDir && installDir) return { binDir, installDir };
  const out = await runBuildScript(['kubevirt'], onProgress);
  return { binDir: join(out, 'bin'), installDir: join(out, 'install') };
}

/** Starts KubeVirt's components beside a started control plane (their processes stop with it). */
export async function startKubeVirt(cp: ControlPlane, build: { binDir: string; installDir: string }): Promise<KubeVirtComponents> {
  const components = new KubeVirtComponents({
    dir: cp.dir, binDir: build.binDir, installDir: build.installDir,
    apiServerUrl: cp.apiServerUrl, apiServerCa: cp.servingCa(), adminToken: cp.token,
    launch: (name, bin, args) => cp.launch(name, bin, args, { restart: true }), exited: (name) => cp.hasExited(name),
  });
  const client = await KubeClient.load(cp.kubeconfigPath);
  try {
    await components.start(client);
  } finally {
    client.close();
  }
  return components;
}

/** The handler endpoint a `handlerRef` names. */
export function handlerEndpointOf(ref: string): HandlerEndpoint {
  const i = ref.indexOf(':');
  const certs = ref.slice(i + 1);
  return { port: Number(ref.slice(0, i)), cert: readFileSync(join(certs, 'virt-handler.crt')), key: readFileSync(join(certs, 'virt-handler.key')), ca: readFileSync(join(certs, 'ca.crt')) };
}

