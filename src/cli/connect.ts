import { randomBytes } from 'node:crypto';
import type { Config } from '../config/schema.js';
import { silentLogger } from '../core/logger.js';
import { MqttLink } from '../mqtt/client.js';
import { linkOptions } from '../mqtt/link-options.js';
import type { Options } from './args.js';

/** Options every command that talks to the broker takes. */
export const brokerOptions: Options = {
  url: { type: 'string' },
  username: { type: 'string' },
  password: { type: 'string' },
};

/**
 * A link for a command-line tool: no availability, no will, nothing queued. With the
 * embedded broker it reaches the configured listen port on loopback; --url and the
 * credentials override.
 */
export function toolLink(
  config: Config,
  values: Record<string, string | boolean | undefined>,
): MqttLink {
  const str = (k: string) => (typeof values[k] === 'string' ? values[k] : undefined);
  let embedded;
  if (config.broker.mode === 'embedded') {
    embedded = {
      url: embeddedUrl(config.broker.listen),
      username: str('username') ?? '',
      password: str('password') ?? '',
    };
  }
  const opts = linkOptions(config, silentLogger(), embedded);
  return new MqttLink({
    ...opts,
    url: str('url') ?? opts.url,
    username: str('username') ?? opts.username,
    password: str('password') ?? opts.password,
    clientId: `outpost-cli-${randomBytes(4).toString('hex')}`,
    availabilityTopic: undefined,
    queueLimit: 0,
  });
}

/** The broker a tool reaches: --url, else the external broker, else the embedded one on loopback. */
export function toolUrl(
  config: Config,
  values: Record<string, string | boolean | undefined>,
): string {
  if (typeof values.url === 'string') return values.url;
  return config.broker.mode === 'embedded'
    ? embeddedUrl(config.broker.listen)
    : (config.broker.url ?? '(no broker.url)');
}

/** The embedded broker's listener as a loopback URL when it listens on every address. */
function embeddedUrl(l: Config['broker']['listen']): string {
  const host =
    l.host === '0.0.0.0'
      ? '127.0.0.1'
      : l.host === '::'
        ? '[::1]'
        : l.host.includes(':')
          ? `[${l.host}]`
          : l.host;
  return `mqtt://${host}:${l.port}`;
}
