import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { hostDevice } from '../../../discovery/device.js';
import { desiredConfigs } from '../../../discovery/model.js';
import { containerEntities } from '../../../discovery/entities/containers.js';
import { diskEntities } from '../../../discovery/entities/disks.js';
import { backupEntities } from '../../../discovery/entities/backups.js';
import { validateDiscovery } from '../../helpers/ha-rules/rules.js';
import { idToken } from '../../../discovery/ids.js';
import { agent, ctx, fullModel, fullSite, modelOf } from './fixtures.js';

const ID = /^[a-zA-Z0-9_-]+$/;
const odd = fc.oneof(
  fc.string({ minLength: 1, maxLength: 24 }),
  fc.constantFrom(
    'a b',
    'x/y',
    '../etc',
    '#',
    '+',
    '日本語',
    'Ünïcödé',
    '..',
    '/',
    ' ',
    'a\u0000b',
    'emoji 🚀',
  ),
);

describe('ids', () => {
  it('unique_ids survive renaming every display name', () => {
    const renamed = modelOf({
      ...fullSite,
      agent: { ...fullSite.agent, name: 'Something else' },
      hosts: fullSite.hosts.map((h) => ({
        ...h,
        name: `${h.name ?? h.id} (renamed)`,
        containers: h.containers?.map((c) => ({ ...c, displayName: 'Pretty name' })),
        disks: h.disks?.map((d) => ({ ...d, displayName: 'Data disk' })),
      })),
      backups: fullSite.backups?.map((b) => ({ ...b, displayName: 'Nightly' })),
    });
    const ids = (m: typeof fullModel) => desiredConfigs(ctx, m).map((c) => [c.topic, c.uniqueId]);
    expect(ids(renamed)).toEqual(ids(fullModel));
  });

  it('unique_ids survive container re-creation (new id and name, same compose labels)', () => {
    const nas = hostDevice(ctx.root, agent, { id: 'nas', remote: true });
    const labels = {
      'com.docker.compose.project': 'media',
      'com.docker.compose.service': 'radarr',
    };
    fc.assert(
      fc.property(fc.string({ minLength: 1 }), fc.string({ minLength: 1 }), (nameA, nameB) => {
        const a = containerEntities(ctx, nas, { host: 'nas', name: nameA, labels });
        const b = containerEntities(ctx, nas, { host: 'nas', name: nameB, labels });
        expect(b.map((c) => c.uniqueId)).toEqual(a.map((c) => c.uniqueId));
        expect(b.map((c) => c.topic)).toEqual(a.map((c) => c.topic));
      }),
    );
  });

  it('odd names give valid topic ids, unique ids and state topics', () => {
    fc.assert(
      fc.property(odd, odd, (host, name) => {
        const device = hostDevice(ctx.root, agent, {
          id: 'h',
          name: 'Device-for-odd-names',
          remote: true,
        });
        const configs = [
          ...containerEntities(ctx, device, { host, name }),
          ...diskEntities(ctx, device, { host, mount: name }),
          ...backupEntities(ctx, device, { job: name }),
        ];
        for (const c of configs) {
          const levels = c.topic.split('/');
          expect(levels).toHaveLength(5);
          expect(levels[2]).toMatch(ID);
          expect(levels[3]).toMatch(ID);
          expect(c.uniqueId).toMatch(ID);
          for (const t of c.stateTopics)
            expect(t.split('/').every((l) => l !== '..' && l !== '')).toBe(true);
        }
        expect(validateDiscovery(configs).filter((v) => !v.includes('via_device'))).toEqual([]);
      }),
    );
  });

  it('keeps distinct keys distinct where slugify would merge them', () => {
    expect(idToken('mnt_data')).toBe('mnt_data');
    expect(idToken('mnt/data')).not.toBe(idToken('mnt_data'));
    expect(idToken('日本')).not.toBe(idToken('中国'));
    expect(idToken('日本')).toMatch(ID);
  });
});
