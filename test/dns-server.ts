// A minimal DNS server on 127.0.0.1 for tests: one question per message, A records of 127.0.0.1
// only. `answer` says per name what a real server would do: answer, say there is no such name
// (NXDOMAIN; an AAAA question of a known name gets no records), or never answer at all (a name
// server that drops the query, which is what makes a resolver wait its whole timeout).
import dgram from 'node:dgram';

export type DnsAnswer = 'address' | 'nxdomain' | 'silent';

export function startDns(answer: (name: string) => DnsAnswer, queries: string[] = []): dgram.Socket {
  const sock = dgram.createSocket('udp4');
  sock.on('message', (msg, rinfo) => {
    if (msg.length < 12) return;
    const labels: string[] = [];
    let i = 12;
    while (i < msg.length && msg[i] !== 0 && labels.length < 64) {
      const len = msg[i]!;
      labels.push(msg.subarray(i + 1, i + 1 + len).toString('latin1'));
      i += len + 1;
    }
    if (i + 5 > msg.length) return;
    const name = labels.join('.').toLowerCase();
    const qtype = msg.readUInt16BE(i + 1);
    queries.push(name);
    const how = answer(name);
    if (how === 'silent') return;
    const question = msg.subarray(12, i + 5);
    const known = how === 'address';
    const withRecord = known && qtype === 1;
    const head = Buffer.alloc(12);
    msg.copy(head, 0, 0, 2);
    head.writeUInt16BE(known ? 0x8180 : 0x8183, 2);
    head.writeUInt16BE(1, 4);
    head.writeUInt16BE(withRecord ? 1 : 0, 6);
    const rr = withRecord ? Buffer.from([0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 5, 0, 4, 127, 0, 0, 1]) : Buffer.alloc(0);
    sock.send(Buffer.concat([head, question, rr]), rinfo.port, rinfo.address);
  });
  return sock;
}

/** Binds the server to a free port on 127.0.0.1; resolves with the port. */
export function listenDns(sock: dgram.Socket): Promise<number> {
  return new Promise((resolve) => sock.bind(0, '127.0.0.1', () => resolve(sock.address().port)));
}
