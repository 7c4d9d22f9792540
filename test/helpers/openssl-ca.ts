import { execFile } from 'node:child_process';
import { chmod, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

/** A throwaway CA with a server certificate for 127.0.0.1/localhost and a client certificate. */
export interface OpenSslCa {
  dir: string;
  caFile: string;
  caKeyFile: string;
  serverCertFile: string;
  serverKeyFile: string;
  clientCertFile: string;
  clientKeyFile: string;
  /** Common name of the client certificate. */
  clientName: string;
  caPem: string;
  clientCertPem: string;
  clientKeyPem: string;
}

export interface OpenSslCaOptions {
  /** Client certificate CN; default "outpost-test-client". */
  clientName?: string;
}

/**
 * Generates the CA and certificates with openssl into `dir`. Keys are made world-readable
 * (644) because a server started as root may read them after dropping to another user.
 */
export async function startOpenSslCa(dir: string, opts: OpenSslCaOptions = {}): Promise<OpenSslCa> {
  const clientName = opts.clientName ?? 'outpost-test-client';
  const f = (name: string) => join(dir, name);
  await openssl([
    'req',
    '-x509',
    ...newKey(f('ca.key')),
    '-days',
    '2',
    '-subj',
    '/CN=outpost-test-ca',
    '-out',
    f('ca.crt'),
  ]);
  await writeFile(
    f('server.ext'),
    'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n' +
      'keyUsage=digitalSignature,keyEncipherment\nbasicConstraints=CA:FALSE\n',
  );
  await writeFile(
    f('client.ext'),
    'extendedKeyUsage=clientAuth\nkeyUsage=digitalSignature\nbasicConstraints=CA:FALSE\n',
  );
  await signed(dir, 'server', '/CN=localhost');
  await signed(dir, 'client', `/CN=${clientName}`);
  for (const key of ['ca.key', 'server.key', 'client.key']) await chmod(f(key), 0o644);
  return {
    dir,
    caFile: f('ca.crt'),
    caKeyFile: f('ca.key'),
    serverCertFile: f('server.crt'),
    serverKeyFile: f('server.key'),
    clientCertFile: f('client.crt'),
    clientKeyFile: f('client.key'),
    clientName,
    caPem: await readFile(f('ca.crt'), 'utf8'),
    clientCertPem: await readFile(f('client.crt'), 'utf8'),
    clientKeyPem: await readFile(f('client.key'), 'utf8'),
  };
}

// EC P-256 keys: as good as RSA here and generated in a fraction of the time.
const newKey = (keyFile: string) => [
  '-newkey',
  'ec',
  '-pkeyopt',
  'ec_paramgen_curve:prime256v1',
  '-nodes',
  '-keyout',
  keyFile,
];

async function signed(dir: string, name: string, subject: string): Promise<void> {
  const f = (suffix: string) => join(dir, `${name}.${suffix}`);
  await openssl(['req', '-new', ...newKey(f('key')), '-subj', subject, '-out', f('csr')]);
  await openssl([
    'x509',
    '-req',
    '-in',
    f('csr'),
    '-out',
    f('crt'),
    '-days',
    '2',
    '-extfile',
    f('ext'),
    '-CA',
    join(dir, 'ca.crt'),
    '-CAkey',
    join(dir, 'ca.key'),
    '-CAcreateserial',
  ]);
}

async function openssl(args: string[]): Promise<void> {
  try {
    await execFileAsync('openssl', args);
  } catch (err) {
    const e = err as Error & { stderr?: string };
    throw new Error(`openssl ${args.join(' ')} failed: ${e.stderr ?? e.message}`);
  }
}
