/**
 * Home Assistant's vocabulary the metadata table is written in: the docs it follows and
 * the platforms outpost publishes. The rest of HA's vocabulary (device classes, units,
 * state classes) is only checked against, by the tests' HA rules (test/helpers/ha-rules/).
 */

export const HA_DOCS = {
  discovery: 'https://www.home-assistant.io/integrations/mqtt/#mqtt-discovery',
  deviceDiscovery: 'https://www.home-assistant.io/integrations/mqtt/#device-discovery-payload',
  availability: 'https://www.home-assistant.io/integrations/mqtt/#using-availability-topics',
  birth: 'https://www.home-assistant.io/integrations/mqtt/#birth-and-last-will-messages',
  sensorClasses: 'https://www.home-assistant.io/integrations/sensor/#device-class',
  stateClasses:
    'https://developers.home-assistant.io/docs/core/entity/sensor/#available-state-classes',
  binarySensorClasses: 'https://www.home-assistant.io/integrations/binary_sensor/#device-class',
  sensorMqtt: 'https://www.home-assistant.io/integrations/sensor.mqtt/',
  binarySensorMqtt: 'https://www.home-assistant.io/integrations/binary_sensor.mqtt/',
  buttonMqtt: 'https://www.home-assistant.io/integrations/button.mqtt/',
  switchMqtt: 'https://www.home-assistant.io/integrations/switch.mqtt/',
  eventMqtt: 'https://www.home-assistant.io/integrations/event.mqtt/',
  selectMqtt: 'https://www.home-assistant.io/integrations/select.mqtt/',
  entityCategory: 'https://developers.home-assistant.io/docs/core/entity/#generic-properties',
  // HA 2025.10 deprecates `object_id` in favour of `default_entity_id` (removed in 2026.4):
  // https://github.com/SAIC-iSmart-API/saic-python-mqtt-gateway/issues/376 quotes the repair.
  defaultEntityId: 'https://www.home-assistant.io/integrations/mqtt/#naming-of-mqtt-entities',
} as const;

/** The MQTT platforms outpost publishes. */
export const PLATFORMS = [
  'sensor',
  'binary_sensor',
  'button',
  'switch',
  'event',
  'select',
] as const;
export type Platform = (typeof PLATFORMS)[number];
