// The Compute API façade: a Fastify app that speaks Nova v2.1 (microversions 2.1–2.104) and the
// small pieces of Keystone v3, Glance v2 and Neutron v2.0 (read-only) that clients need. Reads come from the informer caches;
// writes go to the kube-apiserver as the caller (impersonation). One error handler renders every
// error as a Nova fault; one hook negotiates the microversion and authenticates. The dependencies
// are decorated on the app once (`app.kova`); every route plugin reads them from there.
import { randomUUID } from 'node:crypto';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { KubeError } from '../kube/client.ts';
import { withinRoles } from '../identity/auth.ts';
import type { Logger } from '../log.ts';
import { faultBody, NovaError } from '../nova/faults.ts';
import { MIN, negotiate } from '../nova/microversion.ts';
import { keystoneError } from '../nova/views/identity.ts';
import { NeutronError, neutronErrorBody } from '../neutron/query.ts';
import { serveConsoleProxy } from './console-proxy.ts';
import type { FacadeDeps, NovaRequestContext } from './deps.ts';
import { originOf } from './origin.ts';
import { glanceRoutes } from './routes/glance.ts';
import { identityRoutes } from './routes/identity.ts';
import { computeRoutes } from './routes/index.ts';
import { neutronRoutes } from './routes/neutron.ts';
import { novncRoutes } from './routes/novnc.ts';
import { versionRoutes } from './routes/versions.ts';

const COMPUTE_MEDIA = 'application/vnd.openstack.compute+json';
const OWN_PREFIXES = ['/v2.1', '/v2', '/identity', '/image', '/networking', '/novnc', '/healthz', '/readyz', '/metrics'];

export async function buildFacade(deps: FacadeDeps): Promise<FastifyInstance> {
  const routeTable: { method: string; url: string }[] = [];
  const app = Fastify({
    logger: false,
    bodyLimit: deps.bodyLimit ?? 1024 * 1024,
    // Console tokens (GET /os-console-auth-tokens/{token}) are signed claims, longer than Nova's uuids.
    routerOptions: { maxParamLength: 1024 },
    // A path that is not valid percent-encoded UTF-8 never reaches a route: each API's 400.
    frameworkErrors: (err, req, res) => {
      const reply = res as unknown as FastifyReply;
      const path = req.url ?? '/';
      if (path.startsWith('/identity')) return void reply.code(400).send(keystoneError(400, 'Bad Request', 'The request URL is not valid.'));
      if (path.startsWith('/networking')) return void reply.code(400).send(neutronErrorBody(new NeutronError(400, 'HTTPBadRequest', 'The request URL is not valid.')));
      void reply.code(400).type('application/json; charset=UTF-8').send(faultBody(400, `The request URL is not valid: ${err.message}`));
    },
    // Nova picks the version from the media type when the URI names none.
    rewriteUrl: (req) => {
      const url = req.url ?? '/';
      if (url === '/' || OWN_PREFIXES.some((p) => url === p || url.startsWith(p + '/') || url.startsWith(p + '?'))) return url;
      const v = /application\/vnd\.openstack\.compute\+json;\s*version=([\d.]+)/.exec(String(req.headers.accept ?? ''))?.[1];
      if (v === '2.1') return `/v2.1${url}`;
      if (v === '2' || v === '2.0') return `/v2${url}`;
      return url;
    },
  });
  app.decorate('kova', deps);
  app.decorateRequest('nova', null as unknown as NovaRequestContext);
  app.decorateRequest('requestId', '');
  // Nova reads a POST or PUT body as JSON when its content type is JSON's, text/plain or none; an
  // empty body is no body, and other methods' bodies are ignored (many clients send the header on
  // every request). Any other content type is refused.
  app.removeContentTypeParser(['application/json', 'text/plain']);
  app.addContentTypeParser(['application/json', COMPUTE_MEDIA, 'text/plain'], { parseAs: 'string' }, (req, body, done) => done(...jsonBody(req.method, body as string)));
  app.addContentTypeParser('*', { parseAs: 'string' }, (req, body, done) => {
    if (req.headers['content-type']) return done(unsupportedMediaType(), undefined);
    done(...jsonBody(req.method, body as string));
  });
  app.addHook('onRoute', (r) => {
    for (const method of ([] as string[]).concat(r.method)) routeTable.push({ method, url: r.url });
  });
  app.decorate('routeTable', routeTable);

  // Request ids on every response; a valid incoming global id is echoed.
  app.addHook('onRequest', async (req, reply) => {
    const incoming = String(req.headers['x-openstack-request-id'] ?? '');
    req.requestId = /^req-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(incoming) ? incoming : `req-${randomUUID()}`;
    reply.header('x-compute-request-id', req.requestId);
    reply.header('x-openstack-request-id', req.requestId);
  });

  app.setErrorHandler((err, req, reply) => sendFault(reply, toNovaError(err, deps.log, req)));
  app.setNotFoundHandler((_req, reply) => sendFault(reply, new NovaError(404, 'The resource could not be found.')));

  // One structured line per request, with its request id; never bodies or tokens.
  app.addHook('onResponse', async (req, reply) => {
    deps.log.info('request', {
      requestId: req.requestId, method: req.method, route: req.routeOptions.url, status: reply.statusCode,
      ms: Math.round(reply.elapsedTime), user: req.nova?.caller?.user, project: req.nova?.project?.namespace, microversion: req.nova?.version ? String(req.nova.version) : undefined,
    });
  });
  const metrics = deps.metrics;
  if (metrics) {
    app.addHook('onResponse', async (req, reply) => {
      metrics.apiDuration.observe(
        { method: req.method, route: req.routeOptions.url ?? 'unknown', status_code: String(reply.statusCode), microversion: req.nova?.version ? String(req.nova.version) : '' },
        reply.elapsedTime / 1000,
      );
    });
    app.get('/metrics', async (_req, reply) => reply.type(metrics.contentType).send(await metrics.text()));
  }
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_req, reply) => {
    const ready = deps.caches.informers().every((i) => i.hasSynced);
    return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'syncing' });
  });

  await app.register(versionRoutes);
  serveConsoleProxy(app);
  await app.register(novncRoutes, { prefix: '/novnc' });
  await app.register(identityRoutes, { prefix: '/identity' });
  await app.register(neutronRoutes, { prefix: '/networking' });
  if (deps.glanceUpstream) {
    // A real Glance: /image goes to it; Nova's image proxy below still lists the DataSources.
    const { default: proxy } = await import('@fastify/http-proxy');
    await app.register(proxy, { upstream: deps.glanceUpstream, prefix: '/image', rewritePrefix: '' });
  } else {
    await app.register(glanceRoutes, { prefix: '/image' });
  }
  for (const base of ['/v2.1', '/v2']) {
    for (const withProject of [false, true]) {
      await app.register(async (compute) => {
        compute.addHook('onRequest', (req, reply) => computeContext(req, reply, deps, base));
        compute.addHook('onSend', async (req, reply) => {
          if (base !== '/v2.1') return;
          const v = req.nova?.version ?? MIN;
          reply.header('openstack-api-version', `compute ${v}`);
          reply.header('x-openstack-nova-api-version', `${v}`);
          reply.header('vary', 'OpenStack-API-Version, X-OpenStack-Nova-API-Version');
        });
        await computeRoutes(compute);
      }, { prefix: withProject ? `${base}/:project_id` : base });
    }
  }
  return app;
}

/** A request body as Nova reads it: JSON for POST and PUT, nothing when empty or for other methods. */
function jsonBody(method: string, text: string): [Error | null, unknown] {
  if ((method !== 'POST' && method !== 'PUT') || text === '') return [null, undefined];
  try {
    return [null, JSON.parse(text)];
  } catch {
    return [new NovaError(400, 'Malformed request body'), undefined];
  }
}

const unsupportedMediaType = (): NovaError => new NovaError(415, 'Unsupported Content-Type');

/** A connection to the kube-apiserver refused, reset or timed out (it is down or restarting). */
export const isUnreachable = (err: unknown): boolean => {
  const code = (err as { code?: unknown; cause?: { code?: unknown } })?.code ?? (err as { cause?: { code?: unknown } })?.cause?.code;
  return typeof code === 'string' && ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENOTFOUND', 'UND_ERR_SOCKET', 'ABORT_ERR', 'KOVA_KUBE_TIMEOUT'].includes(code);
};

function unavailable(log: Logger, req: FastifyRequest, err: unknown): NovaError {
  log.warn('the kube-apiserver is unavailable', { err, requestId: req.requestId, url: req.url });
  return new NovaError(503, 'The compute service is temporarily unavailable (its Kubernetes API cannot be reached); retry the request.');
}

/** Nova refuses any other content type on every request, with or without a body. */
function checkContentType(req: FastifyRequest): void {
  const type = String(req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
  if (type && !['application/json', COMPUTE_MEDIA, 'text/plain'].includes(type)) throw unsupportedMediaType();
}

async function computeContext(req: FastifyRequest, reply: FastifyReply, deps: FacadeDeps, base: string): Promise<void> {
  // Version headers go on faults too: negotiate first, with 2.1 as the fallback for the fault itself.
  req.nova = { version: MIN } as NovaRequestContext;
  if (base === '/v2.1') {
    const n = negotiate(req.headers);
    if (!n.ok) throw new NovaError(n.status, n.message);
    req.nova.version = n.version;
  }
  const token = String(req.headers['x-auth-token'] ?? '');
  const caller = token ? await deps.authn.authenticate(token) : undefined;
  if (!caller) throw new NovaError(401, 'The request you have made requires authentication.');
  // A token limited to the reader role (an application credential's) only reads.
  if (req.method !== 'GET' && req.method !== 'HEAD' && !withinRoles(caller.roles, { verb: 'create', resource: '' })) {
    throw new NovaError(403, 'Policy doesn\'t allow this request to be performed: the token\'s roles allow reading only.');
  }
  const urlProject = (req.params as { project_id?: string }).project_id;
  let project = caller.project;
  if (urlProject) {
    // Nova's project ids are hex (with dashes); anything else is not a project prefix but an unknown path.
    if (!/^[0-9a-f-]+$/.test(urlProject)) throw new NovaError(404, 'The resource could not be found.');
    if (project && project.id !== urlProject && project.namespace !== urlProject) {
      throw new NovaError(400, `Malformed request URL: URL's project_id '${urlProject}' doesn't match Context's project_id '${project.id}'`);
    }
    project ??= deps.caches.projectByIdOrName(urlProject);
    if (!project) throw new NovaError(404, `Project ${urlProject} could not be found.`);
  }
  const origin = originOf(req);
  let admin: Promise<boolean> | undefined;
  req.nova = {
    version: req.nova.version,
    caller,
    project,
    prefix: `${base}${urlProject ? `/${urlProject}` : ''}`,
    bookmarkPrefix: urlProject ? `/${urlProject}` : '',
    origin,
    isAdmin: () => (admin ??= deps.authz.isAdmin(caller)),
  };
  checkContentType(req);
  void reply;
}

function sendFault(reply: FastifyReply, e: NovaError): FastifyReply {
  return reply.code(e.code).type('application/json; charset=UTF-8').send(faultBody(e.code, e.message));
}

/** Every error the app can meet, as the Nova fault a client would get from Nova. */
export function toNovaError(err: unknown, log: Logger, req: FastifyRequest): NovaError {
  if (err instanceof NovaError) return err;
  if (err instanceof KubeError) {
    const msg = err.status?.message ?? err.message;
    switch (err.code) {
      case 403:
        return new NovaError(403, `Policy doesn't allow this request to be performed. ${msg}`);
      case 404:
        return new NovaError(404, msg);
      case 409:
        return new NovaError(409, msg);
      case 422:
        return new NovaError(400, msg);
    }
    // The apiserver overloaded, starting or without its etcd: the cloud is unavailable, not broken.
    if (err.code === 429 || err.code >= 500) return unavailable(log, req, err);
  }
  if (isUnreachable(err)) return unavailable(log, req, err);
  const e = err as { statusCode?: number; code?: string; message?: string; validation?: unknown };
  if (e.validation) return new NovaError(400, e.message ?? 'Invalid input');
  switch (e.code) {
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return unsupportedMediaType();
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new NovaError(413, 'Request is too large.');
  }
  if (e.statusCode && e.statusCode >= 400 && e.statusCode < 500) return new NovaError(e.statusCode, e.message ?? 'Bad request');
  if (e instanceof SyntaxError) return new NovaError(400, 'Malformed request body');
  log.error('unexpected error', { err, requestId: req.requestId, url: req.url });
  return new NovaError(500, `Unexpected API Error. Please contact the administrator\n<class '${(err as Error)?.name ?? 'Error'}'>`);
}
