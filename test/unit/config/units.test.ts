import { describe, expect, it } from 'vitest';
import { parseDuration, parseListen, parseSize } from '../../../src/config/units.js';

describe('units', () => {
  it('parses durations', () => {
    expect(parseDuration('500ms')).toBe(500);
    expect(parseDuration('5m')).toBe(300_000);
    expect(parseDuration('1h30m')).toBe(5_400_000);
    expect(parseDuration('26h')).toBe(93_600_000);
    expect(parseDuration('5')).toBeUndefined();
    expect(parseDuration('5 minutes')).toBeUndefined();
    expect(parseDuration('')).toBeUndefined();
  });

  it('parses sizes', () => {
    expect(parseSize('512MiB')).toBe(512 * 1024 * 1024);
    expect(parseSize('1GB')).toBe(1e9);
    expect(parseSize(2048)).toBe(2048);
    expect(parseSize('12 parsecs')).toBeUndefined();
    expect(parseSize(-1)).toBeUndefined();
  });

  it('parses listen addresses', () => {
    expect(parseListen('0.0.0.0:1883')).toEqual({ host: '0.0.0.0', port: 1883 });
    expect(parseListen(':1883')).toEqual({ host: '0.0.0.0', port: 1883 });
    expect(parseListen('[::]:8883')).toEqual({ host: '::', port: 8883 });
    expect(parseListen('127.0.0.1:0')).toEqual({ host: '127.0.0.1', port: 0 });
    expect(parseListen('host:70000')).toBeUndefined();
    expect(parseListen('1883')).toBeUndefined();
  });
});
