// The documentation stays true to the code: the OpenAPI description lists
// exactly the /api/v1 routes of the real app, the README and .env.example name
// every configuration variable, the state diagram is the transition table, and
// the ERD names every table the migrations create.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import YAML from 'yaml';
import { loadConfig } from '../../server/config.js';
import { TRANSITIONS, LETTER_STATES } from '../../server/modules/letters/state.js';
import { startTestEnv, type TestEnv } from '../support/harness.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const read = (file: string) => fs.readFileSync(path.join(root, file), 'utf8');

/** The body of a markdown section: from its heading to the next heading of the same or higher level. */
function section(markdown: string, heading: string): string {
  const lines = markdown.split('\n');
  const start = lines.findIndex((l) => l.trim() === heading);
  expect(start, `heading "${heading}"`).to.be.greaterThan(-1);
  const level = heading.indexOf(' ');
  const end = lines.findIndex((l, i) => i > start && /^#+ /.test(l) && l.indexOf(' ') <= level);
  return lines.slice(start + 1, end === -1 ? undefined : end).join('\n');
}

/** The code blocks of a markdown text, with their info string. */
function codeBlocks(markdown: string): { lang: string; body: string }[] {
  return [...markdown.matchAll(/^```([^\n]*)\n([\s\S]*?)^```$/gm)].map((m) => ({ lang: m[1].trim(), body: m[2] }));
}

function mermaid(file: string): string {
  const blocks = codeBlocks(read(file)).filter((b) => b.lang === 'mermaid');
  expect(blocks, `${file} has one mermaid block`).to.have.length(1);
  return blocks[0].body;
}

// ---------- the configuration variables, from server/config.ts ----------

/** The variable names of config.ts's zod schema, read from its source (the schema is not exported). */
function configVariables(): string[] {
  const src = read('server/config.ts');
  const block = /const schema = z\.object\(\{\n([\s\S]*?)\n\}\);/.exec(src);
  expect(block, 'the schema object in server/config.ts').to.not.equal(null);
  return [...block![1].matchAll(/^ {2}([A-Z][A-Z0-9_]*):/gm)].map((m) => m[1]);
}

describe('docs: configuration', () => {
  const vars = configVariables();

  it('reads every variable of the schema (each one with a default is among them)', () => {
    const withDefaults = Object.keys(loadConfig({})).filter((k) => /^[A-Z][A-Z0-9_]*$/.test(k));
    expect(withDefaults.length).to.be.greaterThan(10);
    expect(vars).to.include.members(withDefaults);
    expect(vars).to.include.members(['DATABASE_URL', 'S3_ENDPOINT', 'SESSION_SECRET', 'DEMO_PASSWORD', 'CA_PASSPHRASE']);
  });

  it('README has exactly the two quick-start command lines in one block', () => {
    const blocks = codeBlocks(section(read('README.md'), '## Quick start'));
    expect(blocks).to.have.length(1);
    expect(blocks[0].body.split('\n').filter((l) => l.trim() !== '')).to.deep.equal(['npm install && npm start', 'npm test']);
  });

  it('README tables every configuration variable, and no other', () => {
    const rows = [...section(read('README.md'), '## Configuration').matchAll(/^\| `([A-Z][A-Z0-9_]*)` \|/gm)].map((m) => m[1]);
    expect([...rows].sort()).to.deep.equal([...vars].sort());
  });

  it('.env.example sets every variable, once, and its values start a valid configuration', () => {
    const lines = read('.env.example').split('\n').filter((l) => /^[A-Z][A-Z0-9_]*=/.test(l));
    const names = lines.map((l) => l.slice(0, l.indexOf('=')));
    expect([...names].sort()).to.deep.equal([...vars].sort());
    const env = Object.fromEntries(lines.map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
    expect(() => loadConfig(env)).to.not.throw();
  });

  it('README names every benchmark script of package.json', () => {
    const scripts = Object.keys((JSON.parse(read('package.json')) as { scripts: Record<string, string> }).scripts).filter((s) => s.startsWith('bench:'));
    expect(scripts).to.not.be.empty;
    const readme = read('README.md');
    for (const s of scripts) expect(readme, s).to.contain(`npm run ${s}`);
  });

  it('README links only to files that exist', () => {
    const links = [...read('README.md').matchAll(/\]\(((?:docs\/|\.)[^)#\s]*)(?:#[^)]*)?\)/g)].map((m) => m[1]);
    expect(links.length).to.be.greaterThan(5);
    for (const l of links) expect(fs.existsSync(path.join(root, l)), l).to.equal(true);
  });
});

// ---------- state machine and ERD ----------

describe('docs: state machine and ERD', () => {
  it('the state diagram lists exactly the transitions of TRANSITIONS', () => {
    const edges = [...mermaid('docs/state-machine.md').matchAll(/^\s*(\w+)\s*-->\s*(\w+)\s*:\s*(\w+)\s*\((\w+)\)\s*$/gm)].map((m) => `${m[1]} -${m[3]}/${m[4]}-> ${m[2]}`);
    const table = TRANSITIONS.map((t) => `${t.from} -${t.action}/${t.who}-> ${t.to}`);
    expect([...edges].sort()).to.deep.equal([...table].sort());
  });

  it('the state table describes every state', () => {
    const doc = read('docs/state-machine.md');
    for (const s of LETTER_STATES) expect(doc, s).to.contain(`| \`${s}\` |`);
  });

  it('the ERD names every table the migrations create, and no other', () => {
    const dir = path.join(root, 'server/platform/db/migrations');
    const tables = new Set<string>();
    for (const f of fs.readdirSync(dir).filter((n) => n.endsWith('.ts'))) {
      const src = fs.readFileSync(path.join(dir, f), 'utf8');
      for (const m of src.matchAll(/CREATE TABLE\s+(?:IF NOT EXISTS\s+)?"?(\w+)"?/gi)) tables.add(m[1]);
      for (const m of src.matchAll(/createTable\(\s*['"](\w+)['"]/g)) tables.add(m[1]);
    }
    expect(tables.size).to.be.greaterThan(20);
    const diagram = mermaid('docs/erd.md');
    const entities = [...diagram.matchAll(/^\s*(\w+)\s*\{/gm)].map((m) => m[1]);
    expect([...entities].sort()).to.deep.equal([...tables].sort());
    const described = [...read('docs/erd.md').matchAll(/^\| `(\w+)` \|/gm)].map((m) => m[1]);
    expect([...described].sort()).to.deep.equal([...tables].sort());
  });
});

// ---------- OpenAPI against the real app ----------

interface Layer {
  route?: { path: unknown; methods: Record<string, boolean> };
  handle?: { stack?: Layer[] };
  rawPath?: unknown;
}

/** "METHOD /path" of every route in a router stack, with the mount paths of nested routers. */
function routesOf(stack: Layer[], prefix = ''): string[] {
  const out: string[] = [];
  for (const layer of stack) {
    if (layer.route) {
      if (typeof layer.route.path !== 'string') continue;
      for (const [method, on] of Object.entries(layer.route.methods)) {
        if (on && method !== '_all') out.push(`${method.toUpperCase()} ${prefix}${layer.route.path}`);
      }
    } else if (layer.handle?.stack) {
      const mount = typeof layer.rawPath === 'string' && layer.rawPath !== '/' ? layer.rawPath : '';
      out.push(...routesOf(layer.handle.stack, prefix + mount));
    }
  }
  return out;
}

const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

describe('docs: openapi.yaml', () => {
  let env: TestEnv;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  let spec: any;

  before(async () => {
    env = await startTestEnv();
    spec = YAML.parse(read('docs/openapi.yaml'));
  });
  after(() => env?.close());

  it('is OpenAPI 3.1 with paths, components, bearer and cookie security and the error schema', () => {
    expect(spec.openapi).to.match(/^3\.1\.\d+$/);
    expect(spec.info.title).to.be.a('string');
    expect(spec.servers.map((s: { url: string }) => s.url)).to.include('/api/v1');
    expect(Object.keys(spec.paths).length).to.be.greaterThan(20);
    expect(spec.components.securitySchemes.bearerAuth).to.include({ type: 'http', scheme: 'bearer' });
    expect(spec.components.securitySchemes.cookieAuth).to.include({ type: 'apiKey', in: 'cookie', name: 'tnde.sid' });
    expect(spec.security).to.deep.include({ bearerAuth: [] });
    const error = spec.components.schemas.Error;
    expect(error.required).to.deep.equal(['error']);
    expect(error.properties.error.required).to.have.members(['code', 'message']);
    expect(error.properties.error.properties).to.have.keys('code', 'message', 'details');
  });

  it('every operation has a unique operationId and responses; no key was split off a text by a stray comma', () => {
    const ids: string[] = [];
    for (const [p, item] of Object.entries(spec.paths as Record<string, Record<string, { operationId?: string; responses?: object }>>)) {
      for (const [method, op] of Object.entries(item).filter(([k]) => HTTP_METHODS.includes(k))) {
        expect(op.operationId, `${method} ${p}`).to.be.a('string');
        expect(Object.keys(op.responses ?? {}), `${method} ${p}`).to.not.be.empty;
        ids.push(op.operationId!);
      }
    }
    expect(new Set(ids).size).to.equal(ids.length);
    // In a YAML flow map `{ description: a, b }` makes "b" a key: keys never hold spaces here.
    const badKeys: string[] = [];
    const walk = (v: unknown, at: string) => {
      if (Array.isArray(v)) v.forEach((x, i) => walk(x, `${at}/${i}`));
      else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) (/\s/.test(k) ? badKeys.push(`${at}/${k}`) : walk(x, `${at}/${k}`));
    };
    walk(spec, '');
    expect(badKeys).to.deep.equal([]);
  });

  it('every $ref points at something that exists', () => {
    const refs: string[] = [];
    const walk = (v: unknown) => {
      if (Array.isArray(v)) v.forEach(walk);
      else if (v && typeof v === 'object') {
        for (const [k, x] of Object.entries(v)) {
          if (k === '$ref' && typeof x === 'string') refs.push(x);
          else walk(x);
        }
      }
    };
    walk(spec);
    expect(refs.length).to.be.greaterThan(50);
    for (const ref of new Set(refs)) {
      expect(ref, ref).to.match(/^#\//);
      const target = ref.slice(2).split('/').reduce<unknown>((o, k) => (o as Record<string, unknown> | undefined)?.[k], spec);
      expect(target, ref).to.not.equal(undefined);
    }
  });

  it('documents every /api/v1 route of the app with its method, and nothing the app lacks', () => {
    const app = env.app as unknown as { router: { stack: Layer[] } };
    const inApp = routesOf(app.router.stack)
      .filter((r) => r.split(' ')[1].startsWith('/api/v1/'))
      .map((r) => r.replace(' /api/v1', ' ').replace(/:(\w+)/g, '{$1}'));
    expect(inApp.length).to.be.greaterThan(20);
    const documented = Object.entries(spec.paths as Record<string, Record<string, unknown>>).flatMap(([p, item]) =>
      Object.keys(item).filter((k) => HTTP_METHODS.includes(k)).map((m) => `${m.toUpperCase()} ${p}`),
    );
    const missing = [...new Set(inApp)].filter((r) => !documented.includes(r)).sort();
    const extra = documented.filter((r) => !inApp.includes(r)).sort();
    expect(missing, 'routes of the app missing from docs/openapi.yaml').to.deep.equal([]);
    expect(extra, 'documented in docs/openapi.yaml but not in the app').to.deep.equal([]);
  });

  it('names each path parameter the way the route does, and declares it', () => {
    for (const [p, item] of Object.entries(spec.paths as Record<string, Record<string, { parameters?: { name?: string; in?: string; $ref?: string }[] }>>)) {
      const inPath = [...p.matchAll(/\{(\w+)\}/g)].map((m) => m[1]);
      for (const [method, op] of Object.entries(item).filter(([k]) => HTTP_METHODS.includes(k))) {
        const params = [...((item as { parameters?: unknown[] }).parameters ?? []), ...(op.parameters ?? [])].map((x) => {
          const ref = (x as { $ref?: string }).$ref;
          return ref ? spec.components.parameters[ref.split('/').pop()!] : x;
        }) as { name: string; in: string }[];
        const declared = params.filter((x) => x.in === 'path').map((x) => x.name);
        expect([...declared].sort(), `${method.toUpperCase()} ${p}`).to.deep.equal([...inPath].sort());
      }
    }
  });
});
