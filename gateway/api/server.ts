/**
 * The HTTP API (fastify). Bodies are parsed with Helios's strict JSON parser
 * (duplicate keys, fractions and lone surrogates refused, as on every other edge),
 * params and queries are checked by route schemas, and every error leaves as
 * { code, message, path? } with the status of docs/protocol.md §9. Every
 * state-changing call is written to the audit log.
 */
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { HeliosError, isHeliosError, parseJson } from '../../protocol/index.ts';
import type { Logger } from '../log.ts';
import { statusOf } from './errors.ts';

export interface ApiOptions {
  maxBodyBytes: number;
  log: Logger;
  /** Counts every refusal by code (helios_http_refused_total). */
  refused?: (code: string) => void;
  /** Runs before any answer is sent: what an answer promises is durable first (the mempool's writes). */
  beforeAnswer?: () => void;
}

/** Longest path parameter: a 64-hex transaction id, an email of up to 254 characters (RFC 5321), percent-encoded. */
const MAX_PARAM_CHARS = 1024;

export function createApi(opts: ApiOptions): FastifyInstance {
  const app = Fastify({
    logger: false, bodyLimit: opts.maxBodyBytes, routerOptions: { maxParamLength: MAX_PARAM_CHARS },
    ajv: { customOptions: { removeAdditional: false, coerceTypes: 'array' } },
    // The router's own refusals (an over-long or badly encoded path) leave in our shape, not Fastify's.
    frameworkErrors: (err: Error & { code?: string }, _req: FastifyRequest, reply: FastifyReply) => {
      const tooLong = err.code === 'FST_ERR_MAX_PARAM_LENGTH';
      const code = tooLong ? 'E_TOO_LONG' : 'E_BAD_REQUEST';
      opts.refused?.(code);
      void reply.status(tooLong ? 414 : 400).send({
        code,
        message: tooLong ? `a path segment is over ${MAX_PARAM_CHARS} characters; no Helios id is that long` : 'the path is not valid percent-encoded UTF-8',
      });
    },
  });
  if (opts.beforeAnswer) {
    const barrier = opts.beforeAnswer;
    app.addHook('onSend', async () => {
      barrier();
    });
  }
  app.removeAllContentTypeParsers();
  // The size limit is the route's (a batch route allows more), else the server's.
  app.addContentTypeParser(['application/json', 'text/plain'], { parseAs: 'string' }, (req, body, done) => {
    try {
      done(null, parseJson(body as string, { maxLength: req.routeOptions.bodyLimit ?? opts.maxBodyBytes }));
    } catch (e) {
      done(e as Error, undefined);
    }
  });
  app.addContentTypeParser('*', { parseAs: 'string', bodyLimit: opts.maxBodyBytes }, (_req, _body, done) => {
    done(new HeliosError('E_BAD_REQUEST', 'send JSON with Content-Type: application/json'), undefined);
  });

  app.setErrorHandler((err: Error & { code?: string; statusCode?: number; validation?: unknown; path?: string }, req: FastifyRequest, reply: FastifyReply) => {
    let code: string;
    let status: number;
    let message = err.message;
    if (isHeliosError(err)) {
      code = err.code;
      status = statusOf(code);
    } else if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      code = 'E_TOO_LARGE';
      status = 413;
      message = `request body is over the limit of ${req.routeOptions.bodyLimit ?? opts.maxBodyBytes} bytes`;
    } else if (err.validation) {
      code = 'E_BAD_REQUEST';
      status = 400;
    } else if (err.code === 'FST_ERR_CTP_EMPTY_JSON_BODY' || err.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
      code = 'E_BAD_REQUEST';
      status = 400;
    } else if (err.statusCode && err.statusCode < 500) {
      code = 'E_BAD_REQUEST';
      status = err.statusCode;
    } else {
      code = 'E_INTERNAL';
      status = 500;
      message = 'internal error; see the gateway log';
      opts.log.error('unhandled error in HTTP handler', { url: req.url, error: String(err.stack ?? err) });
    }
    opts.refused?.(code);
    if (req.method !== 'GET') opts.log.info('refused', { method: req.method, url: req.url.slice(0, 200), code, message });
    void reply.status(status).send({ code, message, ...(isHeliosError(err) && err.path ? { path: err.path } : {}) });
  });
  app.setNotFoundHandler((req, reply) => {
    opts.refused?.('E_NOT_FOUND');
    void reply.status(404).send({ code: 'E_NOT_FOUND', message: `no route ${req.method} ${req.url.length > 200 ? req.url.slice(0, 200) + '…' : req.url}` });
  });
  return app;
}
