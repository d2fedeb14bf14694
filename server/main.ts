// Starts TNDE: configuration -> embedded services if needed -> migrations ->
// demo organisation on first start -> internal CA -> background jobs -> HTTP.
import http from 'node:http';
import { loadConfig, ConfigError } from './config.js';
import { startPlatform } from './platform/bootstrap.js';
import { buildApp } from './app.js';
import { seedDemoOrganisation, DEMO_ACCOUNTS } from './modules/org/demo.js';
import { ensureCa } from './modules/signing/service.js';
import { startJobs } from './platform/jobs/index.js';
import { APP_JOBS } from './platform/jobs/app-jobs.js';
import { dispatchPending } from './modules/dispatch/service.js';
import { installationKey } from './modules/exchange/keys.js';

async function main() {
  let config;
  try {
    config = loadConfig();
  } catch (e) {
    if (e instanceof ConfigError) {
      console.error(e.message);
      process.exit(2);
    }
    throw e;
  }
  const platform = await startPlatform(config);
  const { ctx } = platform;

  if (config.DEMO || config.embeddedDatabase) {
    const demo = await seedDemoOrganisation(ctx, config.DEMO_PASSWORD);
    if (demo.created) {
      // Printed once, to the console only (never to the structured log).
      console.log('\n  Demo organisation created: Pemerintah Provinsi Sukamaju');
      console.log(`  Accounts: ${DEMO_ACCOUNTS.join(', ')}`);
      console.log(demo.generated ? `  Password for every demo account (shown once): ${demo.password}` : '  Password: the value of DEMO_PASSWORD');
      console.log('  penandatangan holds a signing certificate; its signing passphrase is the same password.\n');
    }
  }
  // After the demo seeding, so a new CA is named after the organisation; idempotent.
  await ensureCa(ctx);
  // A crash between signing and dispatch leaves letters `signed`: they reach their readers now.
  const swept = await dispatchPending(ctx);
  if (swept) ctx.logger.info({ letters: swept }, 'dispatched letters left signed');
  // Made on first start, so an administrator can hand its public key to peers (/admin/peers).
  installationKey(ctx);

  // Background jobs (APP_JOBS in platform/jobs/app-jobs.ts); they resume from the database after a restart.
  const jobs = await startJobs(ctx, APP_JOBS);

  const server = http.createServer(buildApp(ctx));
  server.listen(config.PORT, config.HOST, () => {
    console.log(`  TNDE is running at ${config.publicUrl}  (database: ${config.embeddedDatabase ? 'embedded PGlite' : 'PostgreSQL'}, storage: ${config.embeddedStorage ? 'embedded S3' : config.S3_ENDPOINT})`);
  });

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    ctx.logger.info({ signal }, 'stopping');
    server.close();
    server.closeAllConnections();
    // Running jobs finish (or time out) before the pool they use closes.
    await jobs.stop().catch((err: unknown) => ctx.logger.warn({ err }, 'error while stopping jobs'));
    await platform.stop();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
}

main().catch((e) => {
  console.error('TNDE failed to start:', e instanceof Error ? e.message : e);
  process.exit(1);
});
