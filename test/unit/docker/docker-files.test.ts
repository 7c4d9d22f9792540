import { existsSync, readFileSync } from 'node:fs';
import { join, posix, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ConfigError, parseConfig } from '../../../src/config/load.js';
import { readLauncher } from '../../helpers/launcher.js';
import {
  copyParts,
  isIgnored,
  parseDockerfile,
  stageChain,
  type Instruction,
  type Stage,
} from './docker-parse.js';

/**
 * docker/ checked without a Docker engine: compose.yaml's properties, the Dockerfile's
 * stage layout and layer order, the build context filter, and that the configs the image
 * and the compose stack run with pass the agent's own config loader.
 */

const ROOT = resolve(import.meta.dirname, '../../..');
const DOCKER = join(ROOT, 'docker');
const read = (...p: string[]) => readFileSync(join(...p), 'utf8');

interface ComposeService {
  image?: string;
  build?: { context: string; dockerfile: string };
  restart?: string;
  mem_limit?: string | number;
  oom_score_adj?: number;
  environment?: Record<string, string>;
  volumes?: string[];
  command?: string[];
}
interface Compose {
  services: Record<string, ComposeService>;
  volumes?: Record<string, unknown>;
}

const compose = parse(read(DOCKER, 'compose.yaml')) as Compose;
const dockerfileText = read(DOCKER, 'Dockerfile');
const { stages } = parseDockerfile(dockerfileText);
const ignore = read(DOCKER, 'Dockerfile.dockerignore');

/** "192m", "1g", 268435456 → bytes (compose's byte values). */
function bytes(v: string | number | undefined): number {
  if (typeof v === 'number') return v;
  const m = /^(\d+(?:\.\d+)?)\s*([bkmg])?b?$/i.exec(v ?? '');
  if (!m) return Number.NaN;
  const unit = { b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[(m[2] ?? 'b').toLowerCase() as 'b'];
  return Number(m[1]) * unit;
}

/** A short-syntax volume "source:target[:mode]". */
function mount(spec: string): { source: string; target: string; mode: string | undefined } {
  const [source, target, mode] = spec.split(':');
  return { source: source!, target: target!, mode };
}

/** Compose's own `${VAR:-default}` / `${VAR:?error}` interpolation, for the checks below. */
function interpolate(value: string, env: Record<string, string>): string {
  return value.replace(
    /\$\{(\w+)(?::?[-?]([^}]*))?\}/g,
    (_m, k: string, d: string | undefined) => env[k] ?? d ?? '',
  );
}

const runs = (stage: Stage) => stage.instructions.filter((i) => i.op === 'RUN').map((i) => i.args);
const stage = (name: string) => {
  const s = stages.find((st) => st.name === name);
  if (!s) throw new Error(`no stage "${name}" in docker/Dockerfile`);
  return s;
};
const finalStage = () => stages.at(-1)!;
/** ENV KEY=value pairs of a stage (space-separated, as the Dockerfile writes them). */
function envOf(s: Stage): Record<string, string> {
  const env: Record<string, string> = {};
  for (const ins of s.instructions.filter((i) => i.op === 'ENV')) {
    for (const m of ins.args.matchAll(/(\w+)=("[^"]*"|\S+)/g))
      env[m[1]!] = m[2]!.replace(/^"|"$/g, '');
  }
  return env;
}

describe('docker/compose.yaml', () => {
  const { outpost, mosquitto } = compose.services;

  it('has the outpost and mosquitto services', () => {
    expect(Object.keys(compose.services).sort()).toEqual(['mosquitto', 'outpost']);
    expect(mosquitto!.image).toMatch(/^eclipse-mosquitto:2(\.|$)/);
  });

  it('restarts both unless stopped and bounds their memory', () => {
    for (const [name, svc] of Object.entries(compose.services)) {
      expect(svc.restart, name).toBe('unless-stopped');
      expect(bytes(svc.mem_limit), `${name} mem_limit`).toBeGreaterThan(0);
    }
    // Room above the 80 MiB idle target (BENCHMARKS.md agent-idle-rss) for real load.
    expect(bytes(outpost!.mem_limit)).toBeGreaterThanOrEqual(128 * 1024 ** 2);
  });

  it('keeps the agent away from the OOM killer', () => {
    expect(outpost!.oom_score_adj).toBe(-900);
  });

  it('builds outpost from docker/Dockerfile with the repository as context', () => {
    const ctx = resolve(DOCKER, outpost!.build!.context);
    expect(ctx).toBe(ROOT);
    expect(existsSync(join(ctx, outpost!.build!.dockerfile))).toBe(true);
  });

  it('mounts the engine socket and the config read-only, the data dir as a named volume', () => {
    const mounts = outpost!.volumes!.map(mount);
    expect(mounts).toContainEqual({
      source: '/var/run/docker.sock',
      target: '/var/run/docker.sock',
      mode: 'ro',
    });
    const config = mounts.find((m) => m.target === '/etc/outpost/config.yaml');
    expect(config?.mode).toBe('ro');
    expect(existsSync(join(DOCKER, config!.source))).toBe(true);
    const data = mounts.find((m) => m.target === '/var/lib/outpost');
    expect(data, 'a volume at /var/lib/outpost').toBeDefined();
    expect(data!.source).not.toMatch(/^[./~]/); // a name, not a host path
    expect(Object.keys(compose.volumes ?? {})).toContain(data!.source);
  });

  it('gives mosquitto its own config, read-only, and a volume for its data', () => {
    const mounts = mosquitto!.volumes!.map(mount);
    const conf = mounts.find((m) => m.target === '/mosquitto/config/mosquitto.conf');
    expect(conf?.mode).toBe('ro');
    expect(existsSync(join(DOCKER, conf!.source))).toBe(true);
    const data = mounts.find((m) => m.target === '/mosquitto/data');
    expect(Object.keys(compose.volumes ?? {})).toContain(data?.source);
  });
});

describe('docker/mosquitto.conf', () => {
  const conf = read(DOCKER, 'mosquitto.conf')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
  const value = (key: string) => conf.find((l) => l.startsWith(`${key} `))?.slice(key.length + 1);

  it('listens where outpost.compose.yaml points and logs everyone in', () => {
    expect(value('listener')).toBe('1883');
    expect(value('allow_anonymous')).toBe('false');
    // The password file lives in the data volume, where the service's command writes it.
    expect(value('password_file')).toMatch(/^\/mosquitto\/data\//);
    expect(compose.services.mosquitto!.command!.join(' ')).toContain(value('password_file')!);
  });

  it('keeps retained messages in its volume', () => {
    expect(value('persistence')).toBe('true');
    expect(value('persistence_location')).toMatch(/^\/mosquitto\/data\/?$/);
  });
});

describe('docker/Dockerfile', () => {
  it('builds every stage on node:20-bookworm-slim', () => {
    const external = stages.filter((s) => !stages.some((o) => o.name === s.from));
    expect(external.map((s) => s.from)).toEqual(['node:20-bookworm-slim']);
    expect(stages.map((s) => s.name)).toEqual(
      expect.arrayContaining(['deps', 'build', 'prod-deps', 'runtime']),
    );
    expect(finalStage().name).toBe('runtime');
  });

  it('runs npm ci on the package files alone, before any source comes in', () => {
    const deps = stage('deps');
    const copies = deps.instructions.filter((i) => i.op === 'COPY').map(copyParts);
    const ci = deps.instructions.findIndex((i) => i.op === 'RUN' && /\bnpm ci\b/.test(i.args));
    expect(ci).toBeGreaterThan(-1);
    const before = deps.instructions
      .slice(0, ci)
      .filter((i) => i.op === 'COPY')
      .map(copyParts);
    expect(before.flatMap((c) => c.sources)).toEqual(
      expect.arrayContaining(['package.json', 'package-lock.json']),
    );
    // Nothing but package manager files in the dependency layer's inputs.
    for (const c of copies) {
      for (const src of c.sources) expect(src).toMatch(/^(package(-lock)?\.json|\.npmrc)$/);
    }
  });

  it('has a toolchain for the native install scripts where npm ci runs', () => {
    const apt = runs(stage('deps')).find((r) => r.includes('apt-get install'));
    for (const pkg of ['python3', 'make', 'g++']) expect(apt).toContain(pkg);
  });

  it('compiles in a stage built on the dependency layer, with the source copied after it', () => {
    const chain = stageChain(stages, 'build').map((s) => s.name);
    expect(chain).toContain('deps');
    const build = stage('build');
    const copySource = build.instructions.findIndex(
      (i) => i.op === 'COPY' && !/--from/.test(i.args),
    );
    const compile = build.instructions.findIndex(
      (i) => i.op === 'RUN' && /\btsc\b|npm run build/.test(i.args),
    );
    expect(copySource).toBeGreaterThan(-1);
    expect(compile).toBeGreaterThan(copySource);
  });

  it('ships production dependencies only, without the toolchain', () => {
    const runtime = finalStage();
    const nodeModules = runtime.instructions
      .filter((i) => i.op === 'COPY')
      .map(copyParts)
      .find((c) => c.sources.some((s) => s.endsWith('node_modules')));
    expect(nodeModules?.flags.get('from')).toBeDefined();
    const from = stage(nodeModules!.flags.get('from')!);
    expect(runs(from).join('\n')).toMatch(/npm (prune|ci) .*--omit=dev/);
    expect(runs(runtime).join('\n')).not.toMatch(/apt-get install|g\+\+/);
    expect(stageChain(stages, 'runtime').map((s) => s.name)).not.toContain('deps');
  });

  it('runs as a non-root user', () => {
    const users = finalStage().instructions.filter((i) => i.op === 'USER');
    expect(users.length).toBeGreaterThan(0);
    const user = users.at(-1)!.args.split(':')[0]!;
    expect(['root', '0', '']).not.toContain(user);
  });

  it('keeps state in a volume at OUTPOST_DATA_DIR and reads the config from OUTPOST_CONFIG', () => {
    const env = envOf(finalStage());
    expect(env.OUTPOST_DATA_DIR).toBe('/var/lib/outpost');
    expect(env.OUTPOST_CONFIG).toBe('/etc/outpost/config.yaml');
    const volumes = finalStage()
      .instructions.filter((i) => i.op === 'VOLUME')
      .map((i) => i.args);
    expect(volumes.join(' ')).toContain('/var/lib/outpost');
    const configCopy = finalStage()
      .instructions.filter((i) => i.op === 'COPY')
      .map(copyParts)
      .find((c) => c.dest === '/etc/outpost/config.yaml');
    expect(configCopy?.sources).toEqual(['config.yaml']);
  });

  it('exposes the MQTT port and has a health check that needs only node', () => {
    const runtime = finalStage().instructions;
    expect(runtime.filter((i) => i.op === 'EXPOSE').map((i) => i.args)).toContain('1883');
    const health = runtime.find((i: Instruction) => i.op === 'HEALTHCHECK');
    expect(health?.args).toMatch(/CMD \["node", "\/app\/docker\/healthcheck\.js"\]/);
    const copied = runtime
      .filter((i) => i.op === 'COPY')
      .map(copyParts)
      .find((c) => c.dest === './docker/healthcheck.js');
    expect(copied?.sources).toEqual(['docker/healthcheck.js']);
  });

  it('runs the agent through the launcher, shipped executable beside the built agent', () => {
    const runtime = finalStage();
    const last = (op: string) => runtime.instructions.filter((i) => i.op === op).at(-1)?.args;
    expect(JSON.parse(last('ENTRYPOINT') ?? 'null')).toEqual(['/app/bin/outpost']);
    expect(JSON.parse(last('CMD') ?? 'null')).toEqual(['run']);
    // The effective WORKDIR: the nearest stage up the chain that sets one.
    const workdir = stageChain(stages, runtime.name!)
      .map((s) => s.instructions.filter((i) => i.op === 'WORKDIR').at(-1)?.args)
      .find((w) => w !== undefined);
    const inImage = (dest: string) => (dest.startsWith('/') ? dest : posix.join(workdir!, dest));
    const copies = runtime.instructions.filter((i) => i.op === 'COPY').map(copyParts);
    const launcher = copies.find((c) => inImage(c.dest) === '/app/bin/outpost');
    expect(launcher?.sources).toEqual(['bin/outpost']);
    expect(launcher!.flags.get('chmod')).toBe('755');
    // The launcher runs ../dist/agent/main.js from where it is.
    const dist = copies.find((c) => inImage(c.dest) === '/app/dist');
    expect(dist?.sources).toEqual(['/app/dist']);
    expect(dist!.flags.get('from')).toBe('build');
  });

  it("leaves the launcher's environment to the launcher (no second copy)", () => {
    const env = envOf(finalStage());
    for (const name of Object.keys(readLauncher(ROOT).env))
      expect(env, name).not.toHaveProperty(name);
  });

  it('copies nothing from the context that Dockerfile.dockerignore leaves out', () => {
    for (const s of stages) {
      for (const ins of s.instructions.filter((i) => i.op === 'COPY')) {
        const c = copyParts(ins);
        if (c.flags.has('from')) continue;
        for (const src of c.sources.filter((x) => x !== '.')) {
          expect(isIgnored(ignore, src), `line ${ins.line}: ${src}`).toBe(false);
          expect(existsSync(join(ROOT, src)), `line ${ins.line}: ${src} exists`).toBe(true);
        }
      }
    }
  });
});

describe('docker/Dockerfile.dockerignore', () => {
  it('leaves out node_modules, dist, data, .git, tests and tooling', () => {
    for (const p of [
      'node_modules/mqtt/package.json',
      'dist/src/cli/main.js',
      'data/store/000001.log',
      '.git/HEAD',
      'test/unit/docker/docker-files.test.ts',
      'scripts/eslint.config.js',
      'BENCHMARKS.md',
      'docker/compose.yaml',
    ]) {
      expect(isIgnored(ignore, p), p).toBe(true);
    }
  });

  it('admits what the image is built from', () => {
    for (const p of [
      'package.json',
      'package-lock.json',
      'tsconfig.json',
      'config.yaml',
      'src/cli/main.ts',
      'discovery/device.ts',
      'bridges/uplink/bridge.ts',
      'docker/healthcheck.js',
      'bin/outpost',
      'scripts/bundle.mjs',
    ]) {
      expect(isIgnored(ignore, p), p).toBe(false);
    }
  });
});

describe('docker/healthcheck.js', () => {
  const text = read(DOCKER, 'healthcheck.js');

  it('imports only the agent modules that exist, and runtime dependencies', async () => {
    const specifiers = [...text.matchAll(/^import .* from '([^']+)';$/gm)].map((m) => m[1]!);
    const pkg = JSON.parse(read(ROOT, 'package.json')) as { dependencies: Record<string, string> };
    for (const spec of specifiers) {
      if (spec.startsWith('node:')) continue;
      const dist = /^\.\.\/dist\/(.+)\.js$/.exec(spec);
      if (!dist) {
        expect(Object.keys(pkg.dependencies), spec).toContain(spec);
        continue;
      }
      expect(existsSync(join(ROOT, `${dist[1]}.ts`)), spec).toBe(true);
    }
    const load = await import('../../../src/config/load.js');
    const topicsModule = await import('../../../src/core/topics.js');
    expect(typeof load.loadConfig).toBe('function');
    expect(typeof load.configPath).toBe('function');
    expect(topicsModule.topics.availability({ base: 'outpost', node: 'edge-01' })).toBe(
      'outpost/edge-01/availability',
    );
  });
});

describe('the configs the image and the compose stack run with', () => {
  const imageEnv = envOf(finalStage());

  it('the default config.yaml loads in the image and keeps state in the volume', () => {
    const file = '/etc/outpost/config.yaml';
    const { config } = parseConfig(read(ROOT, 'config.yaml'), { env: imageEnv, file });
    expect(config.data_dir).toBe('/var/lib/outpost');
    expect(config.broker.mode).toBe('embedded');
    expect(config.broker.listen).toMatchObject({ host: '0.0.0.0', port: 1883 });
  });

  it('the default config.yaml loads without any environment', () => {
    const { config } = parseConfig(read(ROOT, 'config.yaml'), {
      env: {},
      file: join(ROOT, 'config.yaml'),
    });
    expect(config.data_dir).toBe(join(ROOT, 'data'));
    expect(config.broker.mode).toBe('embedded');
  });

  it('outpost.compose.yaml points at the mosquitto service with the compose environment', () => {
    const composeEnv = Object.fromEntries(
      Object.entries(compose.services.outpost!.environment ?? {}).map(([k, v]) => [
        k,
        interpolate(v, { MQTT_PASSWORD: 'from-dot-env' }),
      ]),
    );
    const env = { ...imageEnv, ...composeEnv };
    const { config } = parseConfig(read(DOCKER, 'outpost.compose.yaml'), {
      env,
      file: '/etc/outpost/config.yaml',
    });
    expect(config.broker.mode).toBe('external');
    expect(config.broker.url).toBe('mqtt://mosquitto:1883');
    expect(config.broker.username).toBe('outpost');
    expect(config.broker.password).toBe('from-dot-env');
    expect(config.node.id).toBe('edge-01');
    expect(config.data_dir).toBe('/var/lib/outpost');
    expect(config.hosts.map((h) => h.id)).toEqual(['local']);
  });

  it('outpost.compose.yaml names MQTT_PASSWORD when the environment lacks it', () => {
    let error: unknown;
    try {
      parseConfig(read(DOCKER, 'outpost.compose.yaml'), { env: imageEnv });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems).toEqual([
      expect.objectContaining({
        path: 'broker.password',
        message: expect.stringContaining('MQTT_PASSWORD'),
      }),
    ]);
  });

  it('compose passes every variable outpost.compose.yaml needs without a default', () => {
    const text = read(DOCKER, 'outpost.compose.yaml');
    const required = [...text.matchAll(/\$\{(\w+)\}/g)].map((m) => m[1]!);
    const provided = [
      ...Object.keys(compose.services.outpost!.environment ?? {}),
      ...Object.keys(imageEnv),
    ];
    for (const v of required) expect(provided, v).toContain(v);
  });
});
