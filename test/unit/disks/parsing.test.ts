import { describe, expect, it } from 'vitest';
import { parseScriptOutput } from '../../../src/capabilities/disks/df.js';
import { parseMountinfo, unescapeOctal } from '../../../src/capabilities/disks/mountinfo.js';
import { readingOf } from '../../../src/capabilities/disks/remote-reader.js';
import { DISKS_SCRIPT } from '../../../src/capabilities/disks/remote-script.js';
import { selectMounts } from '../../../src/capabilities/disks/selection.js';
import type { DiskReading, MountReading } from '../../../src/capabilities/disks/types.js';

const LONG = `/srv/${'a'.repeat(200)}/${'b'.repeat(200)}/${'c'.repeat(150)}`;

/** A mount table as the kernel prints it: spaces in paths escaped as \040. */
const MOUNTINFO = [
  '21 26 0:20 / /proc rw,relatime - proc proc rw',
  '22 26 0:21 / /sys rw,relatime - sysfs sysfs rw',
  '31 30 0:28 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu',
  '40 30 0:37 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw',
  '23 26 0:6 / /dev rw,relatime - devtmpfs devtmpfs rw,size=12334808k',
  '26 1 254:0 / / rw,relatime - ext4 /dev/vda rw,discard',
  '50 26 8:17 / /mnt/my\\040disk rw,relatime shared:5 - ext4 /dev/sdb1 rw',
  // The same device again, bind-mounted into a second place.
  '51 26 8:17 /sub /srv/bind rw,relatime - ext4 /dev/sdb1 rw',
  '52 26 0:45 / /run rw,nosuid - tmpfs tmpfs rw,size=1024k',
  '53 26 0:46 / /var/lib/docker/overlay2/abc/merged rw - overlay overlay rw,lowerdir=/x',
  '54 26 8:33 / /var/lib/docker/volumes/v1 rw - xfs /dev/sdc1 rw',
  `55 26 8:49 / ${LONG} rw - xfs /dev/sdd1 rw`,
  '56 26 7:0 / /snap/core/1 ro - squashfs /dev/loop0 ro',
].join('\n');

describe('the mount table', () => {
  it('undoes the kernel’s octal escapes', () => {
    expect(unescapeOctal('/mnt/my\\040disk\\011tab\\134back\\012nl')).toBe(
      '/mnt/my disk\ttab\\back\nnl',
    );
    const { entries, bad } = parseMountinfo(MOUNTINFO);
    expect(bad).toBe(0);
    expect(entries.find((e) => e.device === '8:17')).toEqual({
      mount: '/mnt/my disk',
      device: '8:17',
      root: '/',
      fstype: 'ext4',
      source: '/dev/sdb1',
    });
  });

  it('counts a line it cannot read instead of guessing at it', () => {
    const { entries, bad } = parseMountinfo(
      '26 1 254:0 / / rw - ext4 /dev/vda rw\ngarbage line\n27 1 x:y / /x rw - ext4 /dev/x rw\n',
    );
    expect(entries.map((e) => e.mount)).toEqual(['/']);
    expect(bad).toBe(2);
  });

  it('keeps real filesystems, each device once, and very long paths whole', () => {
    const chosen = selectMounts(parseMountinfo(MOUNTINFO).entries, { exclude: [] });
    expect(chosen.map((m) => m.mount)).toEqual(['/', '/mnt/my disk', LONG]);
    // Two binds of subdirectories: the shorter mount point stands for the device.
    const binds = parseMountinfo(
      '60 1 8:5 /a /srv/long/x rw - ext4 /dev/sda5 rw\n61 1 8:5 /b /srv/y rw - ext4 /dev/sda5 rw',
    );
    expect(selectMounts(binds.entries, { exclude: [] }).map((m) => m.mount)).toEqual(['/srv/y']);
  });

  it('takes tmpfs and runtime mounts only when an include glob names them', () => {
    const { entries } = parseMountinfo(MOUNTINFO);
    const chosen = selectMounts(entries, {
      include: ['/', '/run', '/var/lib/docker/volumes/*'],
      exclude: [],
    });
    expect(chosen.map((m) => m.mount)).toEqual(['/', '/run', '/var/lib/docker/volumes/v1']);
    // A glob that names no pseudo filesystem cannot bring one in.
    expect(selectMounts(entries, { include: ['/proc', '/sys*'], exclude: [] })).toEqual([]);
  });

  it('leaves out what exclude names; a bind mount of an excluded place keeps its device', () => {
    const { entries } = parseMountinfo(MOUNTINFO);
    const chosen = selectMounts(entries, { exclude: ['/mnt/*'] });
    expect(chosen.map((m) => m.mount)).toEqual(['/', '/srv/bind', LONG]);
  });

  it('a mount stacked on the same point hides the one beneath', () => {
    const { entries } = parseMountinfo(
      '26 1 254:0 / /data rw - ext4 /dev/vda rw\n27 26 8:1 / /data rw - xfs /dev/sda1 rw\n',
    );
    expect(selectMounts(entries, { exclude: [] })).toEqual([
      { mount: '/data', device: '8:1', root: '/', fstype: 'xfs', source: '/dev/sda1' },
    ]);
  });
});

/** DISKS_SCRIPT's output, with `df` and `dfi` lines of one's own. */
function report(df: string[], dfi: string[] = [], opts: { end?: boolean; unit?: 1 | 1024 } = {}) {
  return [
    '@@outpost-disks:mountinfo',
    MOUNTINFO,
    `@@outpost-disks:df ${opts.unit ?? 1}`,
    'Filesystem 1-blocks Used Available Capacity Mounted on',
    ...df,
    '@@outpost-disks:dfi',
    'Filesystem Inodes IUsed IFree IUse% Mounted on',
    ...dfi,
    ...(opts.end === false ? [] : ['@@outpost-disks:end']),
    '',
  ].join('\n');
}

const ROOT_DF = '/dev/vda 270553174016 25153146880 83791147008 24% /';
const MY_DISK_DF = '/dev/sdb1       1000000000     900000000     100000000      90% /mnt/my disk';
const LONG_DF = `/dev/sdd1 2000000 1000000 1000000 50% ${LONG}`;

function mounts(r: DiskReading): readonly MountReading[] {
  if (!r.complete) throw new Error(`expected a complete reading, got: ${r.error}`);
  return r.mounts;
}

describe('the disk report of an SSH host', () => {
  it('is one fixed script, naming no mount point', () => {
    expect(DISKS_SCRIPT).toContain('cat /proc/self/mountinfo');
    expect(DISKS_SCRIPT).toContain('df -P -B1 -a');
    expect(DISKS_SCRIPT).toContain('LC_ALL=C');
    // Nothing is expanded on the host: no variable, no substitution.
    expect(DISKS_SCRIPT).not.toMatch(/[$`]/);
  });

  it('reads bytes and inodes per mount, spaces in mount points and very long paths included', () => {
    const r = readingOf(
      report(
        [ROOT_DF, MY_DISK_DF, LONG_DF],
        [
          '/dev/vda 16777216 1677722 15099494 10% /',
          '/dev/sdb1 1000 999 1 100% /mnt/my disk',
          `/dev/sdd1 0 0 0 - ${LONG}`,
        ],
      ),
      { exclude: [] },
    );
    expect(mounts(r)).toEqual([
      {
        mount: '/',
        fstype: 'ext4',
        usage: {
          size: 270553174016,
          used: 25153146880,
          free: 83791147008,
          usedPct: 23.1,
          inodesUsedPct: 10,
        },
      },
      {
        mount: '/mnt/my disk',
        fstype: 'ext4',
        usage: { size: 1e9, used: 9e8, free: 1e8, usedPct: 90, inodesUsedPct: 99.9 },
      },
      {
        mount: LONG,
        fstype: 'xfs',
        usage: { size: 2e6, used: 1e6, free: 1e6, usedPct: 50, inodesUsedPct: null },
      },
    ]);
  });

  it('reads busybox’s kibibytes as bytes', () => {
    const r = readingOf(report(['/dev/vda 1000 250 750 25% /'], [], { unit: 1024 }), {
      include: ['/'],
      exclude: [],
    });
    expect(mounts(r)).toEqual([
      {
        mount: '/',
        fstype: 'ext4',
        usage: { size: 1024000, used: 256000, free: 768000, usedPct: 25, inodesUsedPct: null },
      },
    ]);
  });

  it('trusts no output cut short: no end marker is an error for the host, not vanished mounts', () => {
    const whole = report([ROOT_DF, MY_DISK_DF, LONG_DF]);
    expect(
      readingOf(whole.slice(0, whole.indexOf('@@outpost-disks:end')), { exclude: [] }),
    ).toEqual({
      complete: false,
      error: 'the disk report ended early (no end marker): output truncated',
    });
    // Cut inside a df line: still no number at all.
    const cut = whole.slice(0, whole.indexOf(MY_DISK_DF) + 30);
    expect(readingOf(cut, { exclude: [] }).complete).toBe(false);
    expect(readingOf('', { exclude: [] })).toMatchObject({ complete: false });
  });

  it('gives a per-mount error, never a number, for a line it cannot read', () => {
    const r = readingOf(
      report([
        // Localised thousands separators: no number is read from it.
        '/dev/vda 270.553.174.016 25.153.146.880 83.791.147.008 24% /',
        // Numbers that disagree with their own percentage.
        '/dev/sdb1 1000000000 100000000 900000000 90% /mnt/my disk',
      ]),
      { exclude: [] },
    );
    expect(mounts(r)).toEqual([
      { mount: '/', fstype: 'ext4', error: 'df printed no line for this mount point' },
      { mount: '/mnt/my disk', fstype: 'ext4', error: 'df says 90% but its numbers give 10%' },
      { mount: LONG, fstype: 'xfs', error: 'df printed no line for this mount point' },
    ]);
  });

  it('reads a localised header and odd spacing; refuses numbers past the size or out of range', () => {
    const r = readingOf(
      [
        '@@outpost-disks:mountinfo',
        MOUNTINFO,
        '@@outpost-disks:df 1',
        'Dateisystem 1B-Blöcke Benutzt Verfügbar Kapazität Eingehängt auf',
        '/dev/vda\t100 50  50   50%   /',
        '/dev/sdb1 100 150 0 100% /mnt/my disk',
        `/dev/sdd1 ${'9'.repeat(30)} 1 1 1% ${LONG}`,
        '@@outpost-disks:end',
      ].join('\n'),
      { exclude: [] },
    );
    expect(mounts(r)).toEqual([
      {
        mount: '/',
        fstype: 'ext4',
        usage: { size: 100, used: 50, free: 50, usedPct: 50, inodesUsedPct: null },
      },
      { mount: '/mnt/my disk', fstype: 'ext4', error: 'df numbers exceed the size' },
      { mount: LONG, fstype: 'xfs', error: 'numbers out of range' },
    ]);
  });

  it('says which section is missing', () => {
    expect(parseScriptOutput('@@outpost-disks:end\n')).toEqual({
      error: 'the disk report has no mount table',
    });
    expect(parseScriptOutput('@@outpost-disks:mountinfo\n@@outpost-disks:end\n')).toEqual({
      error: 'the disk report has no df output',
    });
  });
});
