import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { anchors, docFiles, inRepo, links, readDoc, ROOT } from './markdown.js';

/**
 * No link in README.md or docs/ leaves the repository, except to the upstream projects
 * outpost works with: a relative link names a file of the repository (and, where it has
 * one, a heading of that file), an absolute one is https on a host below.
 */

/** Upstream projects, by host; github.com only under these owners. */
const UPSTREAM_HOSTS = new Set([
  'www.home-assistant.io',
  'home-assistant.io',
  'developers.home-assistant.io',
  'companion.home-assistant.io',
  'mosquitto.org',
  'docs.docker.com',
  'www.docker.com',
  'docs.podman.io',
  'podman.io',
  'docs.influxdata.com',
  'www.influxdata.com',
  'www.zigbee2mqtt.io',
  'zigbee2mqtt.io',
  'www.emqx.io',
  'mqtt.org',
  'nodejs.org',
  'www.npmjs.com',
  'www.freedesktop.org',
  'www.smartmontools.org',
  'grafana.com',
  'core.telegram.org',
  'esbuild.github.io',
]);
const UPSTREAM_GITHUB_OWNERS = new Set([
  'home-assistant',
  'eclipse',
  'eclipse-mosquitto',
  'moscajs',
  'mqttjs',
  'koenkk',
  'influxdata',
  'docker',
  'containers',
  'nodejs',
]);

function upstream(url: URL): boolean {
  if (url.protocol !== 'https:') return false;
  if (url.hostname === 'github.com') {
    const owner = url.pathname.split('/')[1]?.toLowerCase() ?? '';
    return UPSTREAM_GITHUB_OWNERS.has(owner);
  }
  return UPSTREAM_HOSTS.has(url.hostname);
}

/** What is wrong with one link, or undefined when it is fine. */
function problem(file: string, target: string): string | undefined {
  if (/^[a-z][a-z0-9+.-]*:/i.test(target)) {
    let url: URL;
    try {
      url = new URL(target);
    } catch {
      return 'expected a URL that parses';
    }
    return upstream(url) ? undefined : 'expected https on an upstream project (or a repo file)';
  }
  const [pathPart, anchor] = target.split('#', 2) as [string, string | undefined];
  const path = pathPart === '' ? file : inRepo(file, decodeURI(pathPart));
  if (path === undefined) return 'expected a path inside the repository';
  if (!existsSync(join(ROOT, path))) {
    return `expected ${path} to exist`;
  }
  if (anchor === undefined || anchor === '') return undefined;
  if (!path.endsWith('.md') || statSync(join(ROOT, path)).isDirectory()) return undefined;
  return anchors(readDoc(path)).has(anchor)
    ? undefined
    : `expected a heading #${anchor} in ${path}`;
}

describe('links in README.md and docs/', () => {
  it.each(docFiles())('%s links only inside the repository or to upstream projects', (file) => {
    const bad = links(readDoc(file))
      .map((l) => ({ ...l, why: problem(file, l.target) }))
      .filter((l) => l.why !== undefined)
      .map((l) => `${file}:${l.line}: ${l.target}: ${l.why}`);
    expect(bad).toEqual([]);
  });

  it('README.md links the reference docs', () => {
    const targets = links(readDoc('README.md')).map((l) => l.target.split('#')[0]);
    for (const doc of [
      'docs/configuration.md',
      'docs/topics.md',
      'docs/architecture.md',
      'docs/security.md',
      'docs/benchmarks.md',
    ]) {
      expect(targets, `README.md links ${doc}`).toContain(doc);
    }
  });
});

describe('the link checker', () => {
  it('refuses what leaves the repository', () => {
    expect(problem('README.md', '../shared/DESIGN.md')).toMatch(/inside the repository/);
    expect(problem('docs/a.md', '../../x.md')).toMatch(/inside the repository/);
    expect(problem('README.md', '/etc/passwd')).toMatch(/inside the repository/);
    expect(problem('README.md', 'http://www.home-assistant.io/')).toMatch(/https/);
    expect(problem('README.md', 'https://example.com/')).toMatch(/upstream/);
    expect(problem('README.md', 'https://github.com/someone/fork')).toMatch(/upstream/);
    expect(problem('README.md', 'docs/nope.md')).toMatch(/to exist/);
    expect(problem('README.md', 'docs/configuration.md#no-such-heading')).toMatch(/heading/);
  });

  it('takes repo files, their headings and upstream projects', () => {
    expect(problem('README.md', 'docs/configuration.md')).toBeUndefined();
    expect(problem('docs/security.md', '../README.md#the-two-commands')).toBeUndefined();
    expect(problem('README.md', 'https://www.home-assistant.io/integrations/mqtt/')).toBe(
      undefined,
    );
    expect(problem('README.md', 'https://github.com/Koenkk/zigbee2mqtt')).toBeUndefined();
  });

  it('finds links outside code and anchors as GitHub makes them', () => {
    const md =
      '# A `b` c\n\n## A b c\n\n[x](y.md) `[no](z.md)`\n\n```\n[no](w.md)\n```\n[r]: r.md\n';
    expect(links(md).map((l) => l.target)).toEqual(['y.md', 'r.md']);
    expect([...anchors(md)]).toEqual(['a-b-c', 'a-b-c-1']);
  });
});
