import { describe, expect, it } from 'vitest';
import { rsyncStatsSize } from '../../../src/capabilities/backups/size.js';
import { Tail } from '../../../src/capabilities/backups/tail.js';

describe('a run’s output', () => {
  it('keeps the last bytes of a long stream and marks the cut', () => {
    const t = new Tail(10);
    for (let i = 0; i < 100; i++) t.push(Buffer.from(`line ${i}\n`));
    expect(t.text()).toBe('…8\nline 99\n');
    const short = new Tail(100);
    short.push(Buffer.from('ok\n'));
    expect(short.text()).toBe('ok\n');
  });

  it('reads rsync --stats’ total file size, with or without digit groups', () => {
    const stats = (n: string) =>
      `Number of files: 3\nTotal file size: ${n} bytes\nTotal transferred file size: 12 bytes\n`;
    expect(rsyncStatsSize(stats('1,234,567'))).toBe(1_234_567);
    expect(rsyncStatsSize(stats('1234567'))).toBe(1_234_567);
    expect(rsyncStatsSize('Total file size: 1.23M bytes\n')).toBeUndefined();
    expect(rsyncStatsSize('sent 10 bytes\n')).toBeUndefined();
  });
});
