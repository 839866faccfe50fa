import type { Tracing } from '@tasklane/tracing';
import type { Middleware } from 'koa';

/**
 * Outermost middleware when tracing is on (`createApp` leaves it out when off): one HTTP server span
 * per request, continuing the caller's trace when the request carries a W3C `traceparent`, active
 * for everything the request does (the upsert, the dispatch to a lane, an in-process run).
 *
 * Named and attributed after the OpenTelemetry HTTP semantic conventions (stable): `{method}
 * {http.route}` once the router matched (`PUT /resources/:id`), else `{method}`; `http.request.method`,
 * `url.path`, `url.scheme`, `http.route`, `http.response.status_code`, `server.address`,
 * `server.port`, `client.address`, `network.protocol.version`, `user_agent.original`. A 5xx marks the
 * span failed (`error.type` = the status code); a 4xx does not (the conventions leave client errors
 * unset on server spans). The query string is left out: it is not needed to follow a write.
 */
export function traceRequests(tracing: Tracing): Middleware {
  return async (ctx, next) => {
    const method = ctx.method;
    const host = ctx.request.host;
    const colon = host.lastIndexOf(':');
    await tracing.inSpan(
      method,
      {
        kind: 'server',
        parent: tracing.extract(ctx.headers),
        attributes: {
          'http.request.method': method,
          'url.path': ctx.path,
          'url.scheme': ctx.protocol,
          'server.address': colon > 0 && !host.endsWith(']') ? host.slice(0, colon) : host,
          'server.port': colon > 0 && !host.endsWith(']') ? Number(host.slice(colon + 1)) : undefined,
          'client.address': ctx.ip,
          'network.protocol.version': ctx.req.httpVersion,
          'user_agent.original': ctx.get('User-Agent') || undefined,
        },
      },
      async (span) => {
        try {
          await next();
        } finally {
          const route = (ctx as { _matchedRoute?: unknown })._matchedRoute;
          if (typeof route === 'string') span.updateName(`${method} ${route}`);
          span.setAttributes({
            'http.route': typeof route === 'string' ? route : undefined,
            'http.response.status_code': ctx.status,
            'tasklane.request.id': typeof ctx.state.requestId === 'string' ? ctx.state.requestId : undefined,
            'tasklane.lane': typeof ctx.state.lane === 'string' ? ctx.state.lane : undefined,
          });
          if (ctx.status >= 500) span.fail(String(ctx.status));
        }
      },
    );
  };
}
