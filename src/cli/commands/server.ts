import type { Command } from 'commander';
import { configFromEnv } from '../../server/config.ts';

export function registerServerCommand(program: Command) {
  program
    .command('server')
    .description('run the grim control plane (API, web UI, background work)')
    .option('--listen <host:port>', 'address to listen on (default 127.0.0.1:8080, env GRIM_LISTEN)')
    .option('--data-dir <dir>', 'state directory (default ./grim-data, env GRIM_DATA_DIR)')
    .option('--database-url <url>', 'postgres://... instead of the embedded SQLite (env GRIM_DATABASE_URL)')
    .option('--tls-cert <file>', 'TLS certificate (env GRIM_TLS_CERT)')
    .option('--tls-key <file>', 'TLS key (env GRIM_TLS_KEY)')
    .option('--insecure-http', 'allow plain HTTP on a non-loopback address')
    .action(async (o) => {
      const env = { ...process.env };
      if (o.listen) env.GRIM_LISTEN = o.listen;
      if (o.dataDir) env.GRIM_DATA_DIR = o.dataDir;
      if (o.databaseUrl) env.GRIM_DATABASE_URL = o.databaseUrl;
      if (o.tlsCert) env.GRIM_TLS_CERT = o.tlsCert;
      if (o.tlsKey) env.GRIM_TLS_KEY = o.tlsKey;
      if (o.insecureHttp) env.GRIM_INSECURE_HTTP = '1';
      // the server (fastify, ssh2, the stores, every service) loads only here: other commands stay light
      const { startServer } = await import('../../server/start.ts');
      const { stop } = await startServer(configFromEnv({}, env));
      const shutdown = () => {
        stop().then(
          () => process.exit(0),
          () => process.exit(1),
        );
      };
      process.once('SIGINT', shutdown);
      process.once('SIGTERM', shutdown);
    });
}
