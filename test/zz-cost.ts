import { requestSkeletons, skeleton } from '../describe/links.ts';
const arr = Array.from({ length: 20000 }, (_, i) => `résumé número ${i} 中文 données`);
const json = { q: arr };
const body = Buffer.from(JSON.stringify(json));
for (let r = 0; r < 3; r++) {
  let t0 = performance.now();
  requestSkeletons({ pathAndQuery: '/s?q=x', headers: [], body: { bytes: body, truncated: false }, summary: { truncated: false, json } });
  const a = performance.now() - t0;
  t0 = performance.now();
  const j = arr.join('\n');
  skeleton(j); skeleton(j.normalize('NFKD'));
  console.log('ms', a.toFixed(1), 'skel-join', (performance.now() - t0).toFixed(1));
}
