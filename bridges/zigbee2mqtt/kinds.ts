// Apart from watch.ts so that module.ts, loaded whether the section is on or off, does not
// load the watch itself.
export const Z2M_KIND = 'zigbee2mqtt';
export const Z2M_EVENTS = ['zigbee2mqtt_offline', 'zigbee2mqtt_online'] as const;
