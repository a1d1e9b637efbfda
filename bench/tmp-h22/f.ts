import { describeRequest } from '../../describe/describe.ts';
const agent = { id: 'a', labels: {} };
const shapes: Record<string, [string, string]> = {
  form: ['application/x-www-form-urlencoded', Array.from({ length: 4500 }, (_, i) => `${i.toString(36)}=1`).join('&')],
  formSame: ['application/x-www-form-urlencoded', 'a=1&'.repeat(7800)],
  json: ['application/json', JSON.stringify(Object.fromEntries(Array.from({ length: 3000 }, (_, i) => [i.toString(36), 1])))],
  jsonArr: ['application/json', JSON.stringify(Array.from({ length: 7000 }, () => 1))],
  multipart: ['multipart/form-data; boundary=b', Array.from({ length: 600 }, (_, i) => `--b\r\nContent-Disposition: form-data; name="f${i}"\r\n\r\n1\r\n`).join('') + '--b--\r\n'],
  plain: ['text/plain', 'x'.repeat(31000)],
};
for (const [k, [ct, body]] of Object.entries(shapes)) {
  const b = Buffer.from(body);
  const t0 = performance.now();
  let n = 0;
  for (; n < 10 && performance.now() - t0 < 5000; n++) describeRequest({ method: 'POST', url: 'http://api.example.test/x', headers: [['host', 'api.example.test'], ['content-type', ct]], body: b, bodyTruncated: false }, { agent });
  console.log(k, b.length, ((performance.now() - t0) / n).toFixed(1), 'ms/request');
}
