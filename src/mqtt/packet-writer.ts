import mqttPacket from 'mqtt-packet';

/**
 * mqtt-packet (under both mqtt.js and aedes) pre-builds a 2-byte Buffer for every number
 * up to 65,535 the first time it writes a packet: ~7 MiB of heap held for the process's
 * life, in an agent whose idle budget is 80 MiB. Without the cache it allocates those two
 * bytes per packet instead, which costs nothing measurable at the agent's message rates.
 * Call it before the first packet is written.
 */
export function useUncachedPacketNumbers(): void {
  mqttPacket.writeToStream.cacheNumbers = false;
}
