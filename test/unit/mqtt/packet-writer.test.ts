import mqttPacket from 'mqtt-packet';
import { describe, expect, it } from 'vitest';
import { useUncachedPacketNumbers } from '../../../src/mqtt/packet-writer.js';

describe('useUncachedPacketNumbers', () => {
  it('turns the cache off and packets still carry every message id and length', () => {
    useUncachedPacketNumbers();
    expect(mqttPacket.writeToStream.cacheNumbers).toBe(false);
    const ids = [1, 255, 256, 0x1234, 65_535];
    const parser = mqttPacket.parser({ protocolVersion: 4 });
    const seen: Array<[number | undefined, string]> = [];
    parser.on('packet', (p) => {
      if (p.cmd === 'publish') seen.push([p.messageId, p.topic]);
    });
    for (const id of ids) {
      const topic = `t/${'x'.repeat(id % 300)}`;
      parser.parse(
        mqttPacket.generate({
          cmd: 'publish',
          topic,
          payload: Buffer.from('{}'),
          qos: 1,
          messageId: id,
          retain: true,
          dup: false,
        }),
      );
    }
    expect(seen).toEqual(ids.map((id) => [id, `t/${'x'.repeat(id % 300)}`]));
  });
});
