// Protocol-level behaviour of the proxy on raw sockets: Host/SNI/CONNECT agreement, userinfo,
// request smuggling shapes, oversized headers, slow clients, upstream failures, hop-by-hop headers,
// redirects, h2c, WebSocket upgrades, destination safety end to end, and the Enforcer seam.
import fs from 'node:fs';
import https from 'node:https';
import net from 'node:net';
import path from 'node:path';
import { Transform } from 'node:stream';
import t from 'tap';
import { WebSocketServer } from 'ws';
import type { Enforcer } from '../../proxy/enforcers.ts';
import {
  auditRecords, connectTunnel, httpUpstream, httpsUpstream, rawExchange, readResponse, startProxy, tempDir, tlsOver, upstreamCert,
} from './helpers.ts';

// Exercises every hook of the Enforcer seam on /seam/* paths only.
const seam: Enforcer = {
  name: 'test-seam',
  handlesApproval: false,
  describe(d) {
    if (d.request.path.startsWith('/seam')) d.grants.push({ id: 'g1', agent: d.agent.id, method: 'GET', host: d.request.host, expires: '2099-01-01T00:00:00Z' });
  },
  beforeForward(ctx) {
    if (!ctx.description.request.path.startsWith('/seam')) return undefined;
    if (ctx.description.request.path === '/seam/limited') {
      return { status: 429, type: 'rate-limited', title: 'Rate limit exceeded', detail: 'bucket k is empty', outcome: 'rate-limited', headers: { 'retry-after': '7' } };
    }
    ctx.outgoing.headers.push(['x-injected', 'by-enforcer']);
    ctx.audit.injected = ['x-injected'];
    return undefined;
  },
  onResponse(ctx, head) {
    if (!ctx.description.request.path.startsWith('/seam')) return undefined;
    head.headers.push(['x-scrubbed', '1']);
    return new Transform({ transform: (c: Buffer, _e, cb) => cb(null, Buffer.from(c.toString().replaceAll('by-enforcer', '[scrubbed]'))) });
  },
};

t.test('protocol', async (t) => {
  // The core alone (no approval/limit/credential enforcers): this file tests the seam itself.
  const px = await startProxy(t, {
    builtinEnforcers: false, extraEnforcers: [seam], timeouts: { headersMs: 1500, upstreamFirstByteMs: 2000 }, maxHeaderSize: 8 * 1024,
    resolve: ['api.github.com=127.0.0.1', 'wrong-name.example=127.0.0.1'],
  });
  const up = await httpUpstream(t);
  const secure = await httpsUpstream(t, px.upstreamCert);
  const origin = `127.0.0.1:${up.port}`;
  const get = (target: string, host: string, extra = ''): string => `GET ${target} HTTP/1.1\r\nHost: ${host}\r\nProxy-Authorization: ${px.auth}\r\n${extra}\r\n`;
  const status = (s: string): number => Number(/^HTTP\/1\.1 (\d{3})/.exec(s)?.[1] ?? 0);

  t.test('absolute-form: the target decides the Host; userinfo and origin-form are refused', async (t) => {
    t.equal(status(await rawExchange(px.proxyPort, get(`http://${origin}/ok`, origin))), 200);
    // RFC 9112 §3.2.2: the received Host is replaced by the target's authority, for the policy and the upstream.
    const mismatch = await rawExchange(px.proxyPort, get(`http://${origin}/hostswap`, 'evil.example'));
    t.equal(status(mismatch), 200);
    t.equal(up.seen.find((s) => s.url === '/hostswap')!.headers.host, origin);
    const rec = (await auditRecords(px.airlock)).find((r) => String(r.url).endsWith('/hostswap')) as { description: { request: { headers: Record<string, string[]> } } };
    t.same(rec.description.request.headers.host, [origin], 'the policy sees the real destination as Host');
    const userinfo = await rawExchange(px.proxyPort, get(`http://user:pw@${origin}/x`, origin));
    t.equal(status(userinfo), 400);
    t.match(userinfo, /userinfo/);
    const logged = (await auditRecords(px.airlock)).find((r) => r.outcome === 'rejected' && String(r.url).includes('[userinfo]'));
    t.equal(logged?.url, `http://[userinfo]@${origin}/x`, 'the audit log never keeps userinfo');
    const trick = await rawExchange(px.proxyPort, get(`http://api.github.com@${origin}/x`, origin));
    t.equal(status(trick), 400, 'user@host deception is refused');
    t.equal(status(await rawExchange(px.proxyPort, get('/x', origin))), 400, 'origin-form is not a proxy request');
    const noHost = await rawExchange(px.proxyPort, `GET http://${origin}/nohost HTTP/1.1\r\nProxy-Authorization: ${px.auth}\r\n\r\n`);
    t.equal(status(noHost), 400, 'HTTP/1.1 without Host');
    t.match(noHost, /application\/problem\+json/);
    t.equal(status(await rawExchange(px.proxyPort, get(`ftp://${origin}/x`, origin))), 400);
  });

  t.test('CONNECT: inner Host and SNI must match the CONNECT target', async (t) => {
    const host = `api.github.com:${secure.port}`;
    const good = await tlsOver(await connectTunnel(px.proxyPort, host, px.auth), px.caFile, 'api.github.com');
    good.write(`GET /one HTTP/1.1\r\nHost: ${host}\r\n\r\n`);
    t.equal((await readResponse(good)).status, 200);
    // Same connection, keep-alive: a denied request, then an allowed one — each decided.
    good.write(`GET /deny/two HTTP/1.1\r\nHost: ${host}\r\n\r\n`);
    t.equal((await readResponse(good)).status, 403);
    good.write(`GET /three HTTP/1.1\r\nHost: ${host}\r\n\r\n`);
    t.equal((await readResponse(good)).status, 200);
    good.write(`GET /four HTTP/1.1\r\nHost: other.example:${secure.port}\r\n\r\n`);
    const wrongHost = await readResponse(good);
    t.equal(wrongHost.status, 421, 'inner Host differs from the CONNECT target');
    t.match(wrongHost.head, /connection: close/i);
    good.destroy();

    // A token revoked while its tunnel is open stops working on the next request.
    const extra = await px.airlock.agents.issueToken('agent-1', { label: 'short' });
    const extraAuth = `Basic ${Buffer.from(`agent-1:${extra.token}`).toString('base64')}`;
    const open = await tlsOver(await connectTunnel(px.proxyPort, host, extraAuth), px.caFile, 'api.github.com');
    open.write(`GET /before-revoke HTTP/1.1\r\nHost: ${host}\r\n\r\n`);
    t.equal((await readResponse(open)).status, 200);
    await px.airlock.agents.revokeToken('agent-1', extra.id);
    open.write(`GET /after-revoke HTTP/1.1\r\nHost: ${host}\r\n\r\n`);
    t.equal((await readResponse(open)).status, 407, 'revocation reaches open tunnels');
    open.destroy();

    const sni = await tlsOver(await connectTunnel(px.proxyPort, host, px.auth), px.caFile, 'evil.example');
    sni.write(`GET /x HTTP/1.1\r\nHost: ${host}\r\n\r\n`);
    const sniRes = await readResponse(sni);
    t.equal(sniRes.status, 421, 'SNI differs from the CONNECT target');
    t.match(sniRes.body, /SNI/);
    sni.destroy();
    t.equal(secure.seen.filter((s) => s.url === '/x' || s.url === '/four').length, 0, 'nothing mismatched reached the upstream');

    const bad = await rawExchange(px.proxyPort, `CONNECT nohost HTTP/1.1\r\nHost: nohost\r\nProxy-Authorization: ${px.auth}\r\n\r\n`);
    t.equal(status(bad), 400);
    const self = await rawExchange(px.proxyPort, `CONNECT 127.0.0.1:${px.proxyPort} HTTP/1.1\r\nHost: x\r\nProxy-Authorization: ${px.auth}\r\n\r\n`);
    t.equal(status(self), 403, 'no tunnel to the proxy itself');
  });

  t.test('request smuggling shapes and malformed heads are rejected before anything is forwarded', async (t) => {
    const before = up.seen.length;
    const shapes: Record<string, string> = {
      'Content-Length + Transfer-Encoding': `POST http://${origin}/s HTTP/1.1\r\nHost: ${origin}\r\nProxy-Authorization: ${px.auth}\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\n\r\n`,
      'duplicate Content-Length': `POST http://${origin}/s HTTP/1.1\r\nHost: ${origin}\r\nProxy-Authorization: ${px.auth}\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!`,
      'bare LF line endings': `GET http://${origin}/s HTTP/1.1\nHost: ${origin}\nProxy-Authorization: ${px.auth}\n\n`,
      'obs-fold header continuation': `GET http://${origin}/s HTTP/1.1\r\nHost: ${origin}\r\nProxy-Authorization: ${px.auth}\r\nX-A: 1\r\n  folded\r\n\r\n`,
      'Transfer-Encoding not chunked': `POST http://${origin}/s HTTP/1.1\r\nHost: ${origin}\r\nProxy-Authorization: ${px.auth}\r\nTransfer-Encoding: gzip\r\n\r\nxx`,
      'space before colon': `GET http://${origin}/s HTTP/1.1\r\nHost: ${origin}\r\nProxy-Authorization: ${px.auth}\r\nContent-Length : 0\r\n\r\n`,
    };
    for (const [name, bytes] of Object.entries(shapes)) {
      const res = await rawExchange(px.proxyPort, bytes);
      t.equal(status(res), 400, name);
    }
    t.equal(up.seen.length, before, 'no smuggling shape reached the upstream');
  });

  t.test('oversized headers → 431; a slow client is cut off', async (t) => {
    const big = await rawExchange(px.proxyPort, get(`http://${origin}/x`, origin, `X-Big: ${'a'.repeat(10 * 1024)}\r\n`));
    t.equal(status(big), 431);
    const s = net.connect(px.proxyPort, '127.0.0.1');
    const slow = await rawExchange(px.proxyPort, `GET http://${origin}/slow HTTP/1.1\r\nHost: ${origin}\r\n`, { socket: s, waitMs: 8000 });
    t.equal(status(slow), 408, 'headers not finished within the headers timeout');
  });

  t.test('upstream failures are problem+json 502/504; a reset mid-body breaks the response', async (t) => {
    const closed = await new Promise<number>((r) => {
      const srv = net.createServer().listen(0, '127.0.0.1', () => {
        const p = (srv.address() as net.AddressInfo).port;
        srv.close(() => r(p));
      });
    });
    const refused = await rawExchange(px.proxyPort, get(`http://127.0.0.1:${closed}/x`, `127.0.0.1:${closed}`));
    t.equal(status(refused), 502);
    t.match(refused, /upstream-error.*refused the connection/s);

    const silent = net.createServer(() => undefined).listen(0, '127.0.0.1');
    await new Promise((r) => silent.once('listening', r));
    t.teardown(() => silent.close());
    const sp = (silent.address() as net.AddressInfo).port;
    const timeout = await rawExchange(px.proxyPort, get(`http://127.0.0.1:${sp}/x`, `127.0.0.1:${sp}`), { waitMs: 6000 });
    t.equal(status(timeout), 504);
    t.match(timeout, /upstream-timeout/);

    const resetter = net.createServer((c) => {
      c.once('data', () => {
        c.write('HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n');
        c.write(Buffer.alloc(1000, 120), () => c.resetAndDestroy());
      });
    }).listen(0, '127.0.0.1');
    await new Promise((r) => resetter.once('listening', r));
    t.teardown(() => resetter.close());
    const rp = (resetter.address() as net.AddressInfo).port;
    const partial = await rawExchange(px.proxyPort, get(`http://127.0.0.1:${rp}/x`, `127.0.0.1:${rp}`), { waitMs: 5000 });
    t.equal(status(partial), 200);
    const body = partial.slice(partial.indexOf('\r\n\r\n') + 4);
    t.ok(body.length < 100000, 'the agent sees a short body and a closed connection, never a complete-looking one');
    const records = await auditRecords(px.airlock);
    t.ok(records.some((r) => r.url === `http://127.0.0.1:${rp}/x` && r.outcome === 'upstream-error' && r.upstream_status === 200));
  });

  t.test('upstream TLS is verified: wrong name or untrusted certificate → 502', async (t) => {
    const host = `wrong-name.example:${secure.port}`;
    const s = await tlsOver(await connectTunnel(px.proxyPort, host, px.auth), px.caFile, 'wrong-name.example');
    s.write(`GET /x HTTP/1.1\r\nHost: ${host}\r\n\r\n`);
    const res = await readResponse(s);
    s.destroy();
    t.equal(res.status, 502, 'the upstream certificate does not name wrong-name.example');
    t.match(res.body, /upstream TLS verification failed/);
    const stranger = await httpsUpstream(t, upstreamCert(tempDir(t)));
    const r2 = await rawExchange(px.proxyPort, get(`https://127.0.0.1:${stranger.port}/x`, `127.0.0.1:${stranger.port}`));
    t.equal(status(r2), 502, 'a certificate from an untrusted CA');
    t.equal(stranger.seen.length, 0);
  });

  t.test('the Unix socket speaks the same protocol, private to the user', async (t) => {
    const sock = px.airlock.socketPath!;
    t.equal(fs.statSync(sock).mode & 0o777, 0o600);
    const viaSocket = (bytes: string): Promise<string> => rawExchange(0, bytes, { socket: net.connect(sock) });
    t.equal(status(await viaSocket(get(`http://${origin}/unix`, origin))), 200);
    t.equal(up.seen.at(-1)!.url, '/unix');
    t.equal(status(await viaSocket(get(`http://${origin}/deny/unix`, origin))), 403);
    t.equal(status(await viaSocket(`GET http://${origin}/x HTTP/1.1\r\nHost: ${origin}\r\n\r\n`)), 407, 'agents still authenticate');
  });

  t.test('hop-by-hop headers dropped both ways; redirects returned, not followed; h2c refused', async (t) => {
    const res = await rawExchange(px.proxyPort, get(`http://${origin}/hop`, origin, 'Connection: keep-alive, X-Secret\r\nX-Secret: 1\r\nKeep-Alive: 5\r\nTE: trailers\r\nX-Kept: yes\r\n'), { waitMs: 1500 });
    const seen = up.seen.find((s) => s.url === '/hop')!;
    t.equal(seen.headers['x-kept'], 'yes');
    t.notOk(seen.headers['x-secret'], 'header named in Connection is not forwarded');
    t.notOk(seen.headers['te']);
    t.notOk(seen.headers['proxy-authorization']);
    t.notOk(/x-private/i.test(res.split('\r\n\r\n')[0]!), 'response header named in Connection is dropped');
    t.match(res, /x-upstream: yes/i);

    const n = up.seen.length;
    const redirect = await rawExchange(px.proxyPort, get(`http://${origin}/redirect`, origin), { waitMs: 1500 });
    t.equal(status(redirect), 302);
    t.match(redirect, /location: http:\/\/169\.254\.169\.254/i);
    t.equal(up.seen.length, n + 1, 'one upstream request; the redirect was not followed');

    const h2c = await rawExchange(px.proxyPort, get(`http://${origin}/h2c`, origin, 'Connection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n'));
    t.equal(status(h2c), 400);
    t.notOk(up.seen.some((s) => s.url === '/h2c'), 'h2c never forwarded');
  });

  t.test('destination safety end to end', async (t) => {
    const meta = await rawExchange(px.proxyPort, get('http://169.254.169.254/latest/meta-data/', '169.254.169.254'));
    t.equal(status(meta), 403);
    t.match(meta, /destination-blocked/);
    const hex = await rawExchange(px.proxyPort, get(`http://0x7f.0.0.2:${up.port}/x`, `0x7f.0.0.2:${up.port}`));
    t.equal(status(hex), 403, '127.0.0.2 is outside --allow-private 127.0.0.1');
    const mapped = await rawExchange(px.proxyPort, get(`http://[::ffff:10.0.0.1]:${up.port}/x`, `[::ffff:10.0.0.1]:${up.port}`));
    t.equal(status(mapped), 403);
    const self = await rawExchange(px.proxyPort, get(`http://127.0.0.1:${px.proxyPort}/x`, `127.0.0.1:${px.proxyPort}`));
    t.equal(status(self), 403, 'the proxy does not proxy to itself');
    const decimal = await rawExchange(px.proxyPort, get(`http://2130706433:${up.port}/decimal`, `2130706433:${up.port}`));
    t.equal(status(decimal), 200, '2130706433 is 127.0.0.1, which this test allows');
    t.equal(up.seen.at(-1)!.headers.host, `127.0.0.1:${up.port}`, 'Host is the normalized name');
  });

  t.test('approve without an approval enforcer is denied; the enforcer seam runs every hook', async (t) => {
    const approve = await rawExchange(px.proxyPort, get(`http://${origin}/approve/x`, origin));
    t.equal(status(approve), 403);
    t.match(approve, /approval-unavailable/);
    t.notOk(up.seen.some((s) => s.url === '/approve/x'));

    const seamRes = await rawExchange(px.proxyPort, get(`http://${origin}/seam/a`, origin), { waitMs: 1500 });
    t.equal(status(seamRes), 200);
    t.equal(up.seen.at(-1)!.headers['x-injected'], 'by-enforcer', 'beforeForward changed the outgoing request');
    t.match(seamRes, /x-scrubbed: 1/i);
    t.match(seamRes, /\[scrubbed\]/, 'onResponse transformed the body');
    t.notMatch(seamRes, /content-length/i, 'length dropped when a transform may change the body');
    const limited = await rawExchange(px.proxyPort, get(`http://${origin}/seam/limited`, origin));
    t.equal(status(limited), 429);
    t.match(limited, /retry-after: 7/i);
    const records = await auditRecords(px.airlock);
    const rec = records.find((r) => r.url === `http://${origin}/seam/a`) as { description: { grants: unknown[] }; extra: unknown };
    t.equal(rec.description.grants.length, 1, 'describe hook ran before the decision');
    t.same(rec.extra, { injected: ['x-injected'] });
    t.ok(records.some((r) => r.url === `http://${origin}/seam/limited` && r.outcome === 'rate-limited'));
  });

  t.test('a corrupt agents file fails closed without stopping the proxy, and recovers', async (t) => {
    const file = px.airlock.agents.file;
    const good = fs.readFileSync(file);
    fs.writeFileSync(file, '{ torn');
    await new Promise((r) => setTimeout(r, 1100)); // the store re-reads a changed file at most once a second
    const plain = await rawExchange(px.proxyPort, get(`http://${origin}/corrupt`, origin));
    t.equal(status(plain), 500, 'absolute-form request refused');
    t.match(plain, /application\/problem\+json/);
    t.match(plain, /proxy-error.*internal error/s);
    const home = path.dirname(file);
    t.notOk(plain.includes(home) || plain.includes('agents.json'), 'the client is not shown the state folder or its files');
    const anonymous = await rawExchange(px.proxyPort, `GET http://${origin}/anon HTTP/1.1\r\nHost: ${origin}\r\n\r\n`);
    t.notOk(anonymous.includes(home), 'nor is a client that has not authenticated');
    const connect = await rawExchange(px.proxyPort, `CONNECT 127.0.0.1:${up.port} HTTP/1.1\r\nHost: x\r\nProxy-Authorization: ${px.auth}\r\n\r\n`, { waitMs: 1500 });
    t.equal(status(connect), 500, 'no tunnel: a CONNECT gets the same 500');
    t.notOk(connect.includes(home));
    const records = await auditRecords(px.airlock);
    t.ok(records.some((r) => r.status === 500 && String(r.detail).includes(file)), 'the audit log (the operator) gets the cause, file named');
    t.notOk(up.seen.some((x) => x.url === '/corrupt'));
    fs.writeFileSync(file, good);
    await new Promise((r) => setTimeout(r, 1100));
    const recovered = await rawExchange(px.proxyPort, get(`http://${origin}/recovered`, origin));
    t.equal(status(recovered), 200, `works again once the file is fixed: ${recovered.slice(0, 300)}`);
  });

  t.test('WebSocket upgrades are decided like any request, then relayed', async (t) => {
    const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
    await new Promise((r) => wss.once('listening', r));
    t.teardown(() => new Promise((r) => wss.close(r)));
    wss.on('connection', (ws) => ws.on('message', (m) => ws.send(`echo:${m.toString()}`)));
    const wp = (wss.address() as net.AddressInfo).port;
    const handshake = (path: string): string => get(`http://127.0.0.1:${wp}${path}`, `127.0.0.1:${wp}`, 'Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n');
    const denied = await rawExchange(px.proxyPort, handshake('/deny/ws'));
    t.equal(status(denied), 403);
    const s = net.connect(px.proxyPort, '127.0.0.1');
    const got = await new Promise<string>((resolve) => {
      let buf = Buffer.alloc(0);
      s.on('data', (d) => {
        buf = Buffer.concat([buf, d as Buffer]);
        const text = buf.toString('latin1');
        const end = text.indexOf('\r\n\r\n');
        if (end >= 0 && !text.startsWith('HTTP/1.1 101')) return resolve(text);
        if (end >= 0 && buf.length === end + 4) {
          // A masked text frame "hi".
          const mask = Buffer.from([1, 2, 3, 4]);
          const payload = Buffer.from('hi').map((b, i) => b ^ mask[i % 4]!);
          s.write(Buffer.concat([Buffer.from([0x81, 0x80 | 2]), mask, payload]));
        } else if (end >= 0 && buf.length > end + 4) {
          resolve(text);
        }
      });
      s.write(handshake('/ws'));
      setTimeout(() => resolve(buf.toString('latin1')), 4000);
    });
    s.destroy();
    t.match(got, /^HTTP\/1\.1 101/);
    t.match(got, /echo:hi/, 'frames relayed both ways');

    // wss: inside an intercepted CONNECT tunnel, to a TLS upstream verified by name.
    const tlsServer = https.createServer({ key: px.upstreamCert.key, cert: px.upstreamCert.cert });
    const wssServer = new WebSocketServer({ server: tlsServer });
    wssServer.on('connection', (ws) => ws.on('message', (m) => ws.send(`secure:${m.toString()}`)));
    await new Promise<void>((r) => tlsServer.listen(0, '127.0.0.1', r));
    t.teardown(() => new Promise((r) => { wssServer.close(); tlsServer.closeAllConnections(); tlsServer.close(r); }));
    const tp = (tlsServer.address() as net.AddressInfo).port;
    const host = `api.github.com:${tp}`;
    const tunnel = await tlsOver(await connectTunnel(px.proxyPort, host, px.auth), px.caFile, 'api.github.com');
    const secureGot = await new Promise<string>((resolve) => {
      let buf = Buffer.alloc(0);
      let sent = false;
      tunnel.on('data', (d: Buffer) => {
        buf = Buffer.concat([buf, d]);
        const text = buf.toString('latin1');
        const end = text.indexOf('\r\n\r\n');
        if (end < 0) return;
        if (!text.startsWith('HTTP/1.1 101')) return resolve(text);
        if (!sent) {
          sent = true;
          const mask = Buffer.from([9, 8, 7, 6]);
          const payload = Buffer.from('yo').map((b, i) => b ^ mask[i % 4]!);
          tunnel.write(Buffer.concat([Buffer.from([0x81, 0x80 | 2]), mask, payload]));
        }
        if (text.includes('secure:yo')) resolve(text);
      });
      tunnel.write(`GET /wss HTTP/1.1\r\nHost: ${host}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n`);
      setTimeout(() => resolve(buf.toString('latin1')), 4000);
    });
    tunnel.destroy();
    t.match(secureGot, /^HTTP\/1\.1 101/);
    t.match(secureGot, /secure:yo/, 'wss frames relayed through the intercepted tunnel');

    const records = await auditRecords(px.airlock);
    t.ok(records.some((r) => r.url === `wss://api.github.com:${tp}/wss` && r.status === 101), 'described as wss');
    t.ok(records.some((r) => r.url === `ws://127.0.0.1:${wp}/ws` && (r.description as { request: { upgrade: string } }).request.upgrade === 'websocket' && r.status === 101));
  });
});
