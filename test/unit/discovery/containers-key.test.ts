import { describe, expect, it } from 'vitest';
import { containersFamily, type WatchedHost } from '../../../discovery/entities/containers.js';

/**
 * A host's containers key (what its device's fingerprint is taken from) is a digest of what
 * the containers show, kept per description array (issue 15: a round after each host's
 * poll took it again for every container of every host). Kept or not, it must follow the
 * content: a new array with the same content gives the same key, any shown change a new one.
 */
const web = { name: 'web', labels: { 'com.docker.compose.service': 'frontend' } };
const db = { name: 'db', withRestart: true };

const keyOf = (hosts: WatchedHost[], host = 'h1') => containersFamily(hosts).hostKey!(host);

describe('the containers family’s host key', () => {
  it('is the same for the same array and for a copy with the same content', () => {
    const list = [web, db];
    const first = keyOf([{ id: 'h1', containers: list }]);
    expect(keyOf([{ id: 'h1', containers: list }])).toBe(first);
    expect(keyOf([{ id: 'h1', containers: [{ ...web }, { ...db }] }])).toBe(first);
  });

  it('changes with each field a container’s entities show, and with the set', () => {
    const base = keyOf([{ id: 'h1', containers: [web, db] }]);
    const changed = [
      [{ ...web, name: 'web2' }, db],
      [{ ...web, labels: { 'com.docker.compose.service': 'api' } }, db],
      [{ ...web, displayName: 'Web' }, db],
      [web, { ...db, withRestart: false }],
      [web],
      [db, web],
    ];
    const keys = changed.map((containers) => keyOf([{ id: 'h1', containers }]));
    for (const k of keys) expect(k).not.toBe(base);
    expect(new Set(keys).size).toBe(keys.length);
  });

  it('is null for a host it does not watch, and its own for each watched host', () => {
    const hosts = [
      { id: 'h1', containers: [web] },
      { id: 'h2', containers: [db] },
    ];
    expect(keyOf(hosts, 'nowhere')).toBeNull();
    expect(keyOf(hosts, 'h1')).not.toBe(keyOf(hosts, 'h2'));
  });
});
