import { expect } from 'chai';
import { loadConfig, ConfigError } from '../../server/config.js';

/** The problems loadConfig reports for an environment (it must refuse it). */
function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (e) {
    expect(e).to.be.instanceOf(ConfigError);
    return (e as ConfigError).problems;
  }
  throw new Error('the configuration was accepted');
}

const named = (problems: string[], variable: string) => problems.filter((p) => p.startsWith(variable));

describe('configuration from environment variables', () => {
  it('starts on the embedded defaults with nothing set', () => {
    const c = loadConfig({});
    expect(c).to.include({ PORT: 3000, embeddedDatabase: true, embeddedStorage: true, publicUrl: 'http://localhost:3000', DEFAULT_LOCALE: 'id' });
  });

  it('names a non-numeric PORT', () => {
    const p = problemsOf({ PORT: 'abc' });
    expect(p).to.have.length(1);
    expect(p[0]).to.match(/^PORT: /);
  });

  it('names a DATABASE_URL that is not PostgreSQL', () => {
    expect(problemsOf({ DATABASE_URL: 'mysql://root@localhost/tnde' })).to.deep.equal(['DATABASE_URL: must be a postgres:// or postgresql:// URL']);
  });

  it('names the missing keys when S3_ENDPOINT is set without them', () => {
    expect(problemsOf({ S3_ENDPOINT: 'http://127.0.0.1:9000', S3_ACCESS_KEY: 'only-this' })).to.deep.equal(['S3_ACCESS_KEY and S3_SECRET_KEY: required when S3_ENDPOINT is set']);
  });

  it('requires SESSION_SECRET (and CA_PASSPHRASE) in production', () => {
    const p = problemsOf({ NODE_ENV: 'production' });
    expect(named(p, 'SESSION_SECRET')).to.have.length(1);
    expect(named(p, 'CA_PASSPHRASE')).to.have.length(1);
    expect(() => loadConfig({ NODE_ENV: 'production', SESSION_SECRET: 'k'.repeat(40), CA_PASSPHRASE: 'p'.repeat(20) })).to.not.throw();
  });

  it('names every bad variable at once, not only the first kind of problem', () => {
    const p = problemsOf({
      NODE_ENV: 'production',
      PORT: 'abc',
      DATABASE_URL: 'mysql://root@localhost/tnde',
      S3_ENDPOINT: 'http://127.0.0.1:9000',
      SESSION_SECRET: 'short',
    });
    for (const v of ['PORT', 'DATABASE_URL', 'S3_ACCESS_KEY', 'SESSION_SECRET', 'CA_PASSPHRASE']) expect(named(p, v), `${v} in ${p.join(' | ')}`).to.have.length(1);
    expect(p).to.include('SESSION_SECRET: must be at least 32 characters');
  });

  it('treats empty values as unset, as .env files write them', () => {
    expect(loadConfig({ DATABASE_URL: '', S3_ENDPOINT: '', PORT: '' })).to.include({ embeddedDatabase: true, embeddedStorage: true, PORT: 3000 });
  });
});
