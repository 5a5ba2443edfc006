import { magento2Channel } from './magento2/channel.js';
import type { ChannelType, Connector } from './types.js';

/** Channel types by name (Oro: the integration channel type registry). */
const CHANNEL_TYPES = new Map<string, ChannelType>([[magento2Channel.type, magento2Channel]]);

export function channelType(type: string): ChannelType {
  const found = CHANNEL_TYPES.get(type);
  if (!found)
    throw new Error(`Unknown channel type "${type}"; known: ${[...CHANNEL_TYPES.keys()].join(', ')}.`);
  return found;
}

export function connectorFor(type: string, entity: string): Connector {
  const channel = channelType(type);
  const found = channel.connectors.find((c) => c.entity === entity);
  if (!found) {
    throw new Error(
      `Unknown entity "${entity}" for ${channel.label}; known: ${channel.connectors.map((c) => c.entity).join(', ')}.`,
    );
  }
  return found;
}
