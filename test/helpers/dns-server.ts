import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';

/**
 * A tiny authoritative DNS server over UDP on loopback for the dns check's tests (never a
 * real resolver): answers A and AAAA from `records`, NXDOMAIN for other names, and nothing
 * at all for names in `silent` (a server that drops queries). RFC 1035 §4 packet format.
 */
export interface DnsServer {
  readonly host: string;
  readonly port: number;
  /** "127.0.0.1:PORT" / "[::1]:PORT": the form the check's `servers` take. */
  readonly address: string;
  /** Queries received, as "TYPE name". */
  readonly queries: string[];
  close(): Promise<void>;
}

export interface DnsRecords {
  readonly A?: Readonly<Record<string, readonly string[]>>;
  readonly AAAA?: Readonly<Record<string, readonly string[]>>;
  readonly silent?: readonly string[];
}

const TYPE_A = 1;
const TYPE_AAAA = 28;
const NXDOMAIN = 3;

export async function startDnsServer(records: DnsRecords, host = '127.0.0.1'): Promise<DnsServer> {
  const socket = createSocket(host.includes(':') ? 'udp6' : 'udp4');
  const queries: string[] = [];
  socket.on('message', (msg, from) => answer(socket, msg, from, records, queries));
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(0, host, () => resolve());
  });
  const port = socket.address().port;
  return {
    host,
    port,
    address: host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`,
    queries,
    close: () => new Promise<void>((resolve) => socket.close(() => resolve())),
  };
}

function answer(
  socket: Socket,
  msg: Buffer,
  from: RemoteInfo,
  records: DnsRecords,
  queries: string[],
): void {
  if (msg.length < 12) return;
  // The question: labels up to a zero byte, then QTYPE and QCLASS.
  const labels: string[] = [];
  let at = 12;
  while (at < msg.length && msg[at]! > 0) {
    labels.push(msg.subarray(at + 1, at + 1 + msg[at]!).toString('ascii'));
    at += 1 + msg[at]!;
  }
  const questionEnd = at + 5;
  if (questionEnd > msg.length) return;
  const qtype = msg.readUInt16BE(at + 1);
  const name = labels.join('.').toLowerCase();
  const type = qtype === TYPE_A ? 'A' : qtype === TYPE_AAAA ? 'AAAA' : String(qtype);
  queries.push(`${type} ${name}`);
  if (records.silent?.includes(name)) return;
  const found = type === 'A' || type === 'AAAA' ? records[type]?.[name] : undefined;
  const header = Buffer.alloc(12);
  header.writeUInt16BE(msg.readUInt16BE(0), 0); // the query's id
  // QR (a response), AA, RD copied from the query; RCODE NXDOMAIN when the name is unknown.
  header.writeUInt16BE(0x8400 | (msg.readUInt16BE(2) & 0x0100) | (found ? 0 : NXDOMAIN), 2);
  header.writeUInt16BE(1, 4);
  header.writeUInt16BE(found?.length ?? 0, 6);
  const answers = (found ?? []).map((address) => {
    const rdata = type === 'A' ? ipv4Bytes(address) : ipv6Bytes(address);
    const rr = Buffer.alloc(12);
    rr.writeUInt16BE(0xc00c, 0); // the name: a pointer to the question's
    rr.writeUInt16BE(qtype, 2);
    rr.writeUInt16BE(1, 4); // class IN
    rr.writeUInt32BE(60, 6); // TTL
    rr.writeUInt16BE(rdata.length, 10);
    return Buffer.concat([rr, rdata]);
  });
  const reply = Buffer.concat([header, msg.subarray(12, questionEnd), ...answers]);
  socket.send(reply, from.port, from.address);
}

function ipv4Bytes(address: string): Buffer {
  return Buffer.from(address.split('.').map(Number));
}

function ipv6Bytes(address: string): Buffer {
  const [head = '', tail = ''] = address.split('::');
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = address.includes('::')
    ? [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t]
    : h;
  const out = Buffer.alloc(16);
  groups.forEach((g, i) => out.writeUInt16BE(Number.parseInt(g, 16), i * 2));
  return out;
}
