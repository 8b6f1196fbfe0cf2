// The origin (scheme://host) a request was sent to: every absolute link in a body starts with it.
import type { FastifyRequest } from 'fastify';

export const originOf = (req: FastifyRequest): string => `${req.protocol}://${req.headers.host ?? 'localhost'}`;
