import { describe, expect, it } from 'vitest';
import { slugify } from '../../../src/core/slug.js';
import { topicMatches, topics } from '../../../src/core/topics.js';

const root = { base: 'outpost', node: 'edge-01' };

describe('topic contract', () => {
  it('builds the documented topics', () => {
    expect(topics.availability(root)).toBe('outpost/edge-01/availability');
    expect(topics.container(root, 'nas', 'my app')).toBe(
      'outpost/edge-01/hosts/nas/containers/my_app',
    );
    expect(topics.disk(root, 'local', '/var/lib')).toBe(
      'outpost/edge-01/hosts/local/disks/var_lib',
    );
    expect(topics.commandResult(root, 'restart_container')).toBe(
      'outpost/edge-01/cmd/restart_container/result',
    );
    expect(topics.haStatus('homeassistant')).toBe('homeassistant/status');
  });

  it('never lets wildcards or separators from names into a topic', () => {
    for (const name of ['a/b', '#', '+', '../etc', 'ünïcode', '   ', 'x\u0000y']) {
      expect(slugify(name)).toMatch(/^[a-zA-Z0-9_-]+$/);
    }
  });

  it('matches filters as MQTT 3.1.1 §4.7 says', () => {
    expect(topicMatches('a/+/c', 'a/b/c')).toBe(true);
    expect(topicMatches('a/+/c', 'a/b/d')).toBe(false);
    expect(topicMatches('a/#', 'a')).toBe(true);
    expect(topicMatches('a/#', 'a/b/c')).toBe(true);
    expect(topicMatches('a/+', 'a/b/c')).toBe(false);
    expect(topicMatches('#', '$SYS/x')).toBe(false);
    expect(topicMatches('a/b', 'a/b')).toBe(true);
    expect(topicMatches('a/b', 'a/b/c')).toBe(false);
  });
});
