/**
 * Home Assistant MQTT discovery (docs/protocol.md §8): retained configs that make a
 * household's meter appear in Home Assistant — and in its Energy dashboard — with
 * no setup. Energy is device_class energy, state_class total_increasing, in kWh;
 * values are picked out of the signed reading envelope by templates.
 */
import { topics } from '../../protocol/index.ts';
import type { MeterEntry } from '../ledger/entities.ts';

export interface Discovery {
  topic: string;
  /** The config; undefined means "remove" (an empty retained payload). */
  config?: Record<string, unknown>;
}

const ENTITIES = ['import', 'export', 'power', 'credit'] as const;

export function discoveryConfigs(grid: string, m: MeterEntry, fw = ''): Discovery[] {
  const id = m.meter;
  const reading = topics.meter(grid, id, 'reading');
  const status = topics.meter(grid, id, 'status');
  const device = {
    identifiers: [`helios_${id}`],
    name: `Helios meter ${id.slice(0, 8)}`,
    manufacturer: 'Helios',
    model: 'ESP32 energy meter',
    suggested_area: m.location,
    ...(fw ? { sw_version: fw } : {}),
    via_device: `helios_gateway_${grid}`,
  };
  const availability = {
    availability_topic: status,
    availability_template: "{{ 'online' if value_json.state == 'online' else 'offline' }}",
    payload_available: 'online',
    payload_not_available: 'offline',
  };
  const base = (entity: string, name: string) => ({
    name,
    unique_id: `helios_${id}_${entity}`,
    object_id: `helios_${id.slice(0, 8)}_${entity}`,
    state_topic: reading,
    device,
    ...availability,
  });
  const configs: Discovery[] = [
    {
      topic: topics.homeAssistant('sensor', id, 'import'),
      config: { ...base('import', 'Energy imported'), device_class: 'energy', state_class: 'total_increasing', unit_of_measurement: 'kWh', suggested_display_precision: 3, value_template: '{{ (value_json.body.importMWh / 1000000) | round(6) }}' },
    },
    {
      topic: topics.homeAssistant('sensor', id, 'export'),
      config: { ...base('export', 'Energy exported'), device_class: 'energy', state_class: 'total_increasing', unit_of_measurement: 'kWh', suggested_display_precision: 3, value_template: '{{ (value_json.body.exportMWh / 1000000) | round(6) }}' },
    },
    {
      topic: topics.homeAssistant('sensor', id, 'power'),
      config: { ...base('power', 'Power'), device_class: 'power', state_class: 'measurement', unit_of_measurement: 'W', value_template: '{{ value_json.body.powerW }}' },
    },
    {
      topic: topics.homeAssistant('sensor', id, 'credit'),
      config: { ...base('credit', 'Energy credit'), device_class: 'energy', state_class: 'measurement', unit_of_measurement: 'kWh', suggested_display_precision: 3, value_template: '{{ (value_json.body.creditMWh / 1000000) | round(6) }}' },
    },
  ];
  if (m.relay) {
    configs.push({
      topic: topics.homeAssistant('binary_sensor', id, 'relay'),
      config: { ...base('relay', 'Supply relay'), device_class: 'power', payload_on: 'closed', payload_off: 'open', value_template: '{{ value_json.body.relay }}' },
    });
  }
  return configs;
}

/** The empty retained payloads that remove a meter's entities. */
export function discoveryRemovals(m: MeterEntry): Discovery[] {
  return [
    ...ENTITIES.map((e) => ({ topic: topics.homeAssistant('sensor', m.meter, e) })),
    { topic: topics.homeAssistant('binary_sensor', m.meter, 'relay') },
  ];
}
