import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { DomainError, type ErrorCode, type ErrorDetail } from '../domain/errors.ts';

const STATUS: Record<ErrorCode, number> = {
  invalid: 400,
  unauthenticated: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  held: 409,
  rate_limited: 429,
  unavailable: 503,
  remote_failed: 502,
};

export function sendError(
  reply: FastifyReply,
  status: number,
  code: string,
  message: string,
  details: ErrorDetail[] = [],
) {
  return reply.code(status).type('application/json').send({ error: { code, message, details } });
}

interface AjvError {
  instancePath?: string;
  message?: string;
  params?: Record<string, unknown>;
  keyword?: string;
}

function validationDetails(
  err: FastifyError & { validation?: AjvError[]; validationContext?: string },
): ErrorDetail[] {
  return (err.validation ?? []).map((v) => {
    let path = `${err.validationContext ?? 'body'}${v.instancePath ?? ''}`;
    if (v.keyword === 'required' && v.params?.missingProperty) path += `/${String(v.params.missingProperty)}`;
    if (v.keyword === 'additionalProperties' && v.params?.additionalProperty)
      path += `/${String(v.params.additionalProperty)}`;
    return { path, message: v.message ?? 'is invalid' };
  });
}

/** The one error handler: domain errors map to HTTP, client mistakes are 4xx, nothing leaks a stack. */
export function errorHandler(err: FastifyError, req: FastifyRequest, reply: FastifyReply) {
  if (err instanceof DomainError)
    return sendError(reply, STATUS[err.code], err.code, err.message, err.details);
  const e = err as FastifyError & { validation?: AjvError[] };
  if (e.validation) return sendError(reply, 400, 'invalid', 'the request is invalid', validationDetails(e));
  const status = e.statusCode ?? 500;
  if (status >= 400 && status < 500) {
    const code =
      status === 413
        ? 'too_large'
        : status === 415
          ? 'unsupported_media_type'
          : status === 429
            ? 'rate_limited'
            : 'bad_request';
    return sendError(reply, status, code, e.message);
  }
  req.log.error({ err }, 'request failed');
  return sendError(reply, 500, 'internal', 'internal error; see the server log');
}
