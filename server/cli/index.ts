// Operator commands: `npm run cli -- <command>`. On the embedded database they
// reach the running server's socket, or open the data directory when none runs.
import { parseArgs } from 'node:util';
import { loadConfig, ConfigError } from '../config.js';
import { startPlatform, type Platform } from '../platform/bootstrap.js';
import { commands } from './commands.js';

function usage(): string {
  return ['Usage: npm run cli -- <command> [options]', '', 'Commands:', ...Object.entries(commands).map(([name, c]) => `  ${name.padEnd(16)} ${c.summary}`)].join('\n');
}

async function main(argv: string[]) {
  const words: string[] = [];
  while (argv.length && !argv[0].startsWith('-')) words.push(argv.shift()!);
  const name = Object.keys(commands).sort((a, b) => b.length - a.length).find((c) => words.join(' ').startsWith(c) && (words.join(' ').length === c.length || words.join(' ')[c.length] === ' '));
  if (!name) {
    console.error(words.length ? `Unknown command: ${words.join(' ')}\n` : '');
    console.error(usage());
    return 2;
  }
  const cmd = commands[name];
  const { values } = parseArgs({ args: argv, options: cmd.options ?? {}, strict: true, allowPositionals: false });
  if (cmd.needsDatabase === false) return cmd.run(values as Record<string, string | boolean | undefined>);
  let config;
  try {
    config = loadConfig();
  } catch (e) {
    if (e instanceof ConfigError) {
      console.error(e.message);
      return 2;
    }
    throw e;
  }
  const refusal = await cmd.refuse?.(config);
  if (refusal) {
    console.error(refusal);
    return 1;
  }
  let platform: Platform | undefined;
  try {
    platform = await startPlatform(config, { storage: cmd.needsStorage ?? false, attachToRunning: true, migrate: true });
    return await cmd.run(platform.ctx, values as Record<string, string | boolean | undefined>);
  } finally {
    await platform?.stop();
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e) => {
    console.error(e instanceof Error ? e.message : e);
    process.exit(1);
  },
);
