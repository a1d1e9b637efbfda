// Entity tags of a host that got a secret. Most frameworks compute a body's tag from the body
// (Express and Koa: its length and SHA-1, Rack and Rails: MD5, Django, Werkzeug, Spring: a hex
// digest; nginx and Apache: its size and mtime), and the service computes it from the record it
// keeps, the real value in it. Shown as it is, the tag lets the agent check a guess offline (the
// scrubbed body with the guess in the placeholder's place, hashed); sent back as `If-Match` on a
// write, a 412 or not answers the guess online. So the tags such a host sends are sealed
// (encrypted under a key of this process: equal tags stay equal, nothing of the real one shows),
// and a request's `If-Match`/`If-None-Match` gets the real tag back for a sealed one. A tag
// Airlock did not hand out is dropped from a read; on a write it goes on only when no body could
// have given it (an opaque version from a JSON body: Microsoft Graph's `@odata.etag`, Cosmos DB's
// `_etag`, Azure's `0x8D…`), and a tag of a shape frameworks compute from a body is replaced by one
// that matches nothing, so the write is refused (412) whether the guess was right or not.
import crypto from 'node:crypto';

const KEY = crypto.randomBytes(32);
const NONCE_KEY = crypto.randomBytes(32);
/** A sealed tag's opaque part starts so. */
const SEALED = 'al1.';
/** What an unissued tag of a computable shape becomes: no server has it. */
export const UNISSUED_TAG = '"airlock-unissued-tag"';

/** One entity tag of a list (`W/"x"`, `"x"`, `*`), or a bare token some servers accept. */
const TAG = /\s*((?:W\/)?"[^"]*"|\*|[^\s,]+)\s*(?:,|$)/gy;

function parseTags(value: string): string[] | undefined {
  TAG.lastIndex = 0;
  const tags: string[] = [];
  while (TAG.lastIndex < value.length) {
    const m = TAG.exec(value);
    if (!m) return undefined;
    tags.push(m[1]!);
  }
  return tags;
}

/**
 * Tags sealed lately: sealing is deterministic, and a host answers the same few tags again and
 * again (an HMAC and an AES-GCM cipher per answer were a tenth of scrubbing a small one).
 */
const recentlySealed = new Map<string, string>();
const RECENT_SEALS = 512;

/** A tag as Airlock hands it out: the real one encrypted, deterministically (a nonce keyed by the tag). */
function sealOne(tag: string): string {
  const known = recentlySealed.get(tag);
  if (known !== undefined) return known;
  const sealed = sealFresh(tag);
  if (recentlySealed.size >= RECENT_SEALS) recentlySealed.delete(recentlySealed.keys().next().value!);
  if (tag.length <= 256) recentlySealed.set(tag, sealed);
  return sealed;
}

function sealFresh(tag: string): string {
  const weak = tag.startsWith('W/');
  const nonce = crypto.createHmac('sha256', NONCE_KEY).update(tag).digest().subarray(0, 12);
  const c = crypto.createCipheriv('aes-256-gcm', KEY, nonce);
  const body = Buffer.concat([nonce, c.update(tag, 'utf8'), c.final(), c.getAuthTag()]);
  return `${weak ? 'W/' : ''}"${SEALED}${body.toString('base64url')}"`;
}

/** The real tag of a sealed one; undefined for a tag Airlock did not seal. */
function unsealOne(tag: string): string | undefined {
  const m = /^(?:W\/)?"al1\.([A-Za-z0-9_-]+)"$/.exec(tag);
  if (!m) return undefined;
  const b = Buffer.from(m[1]!, 'base64url');
  if (b.length < 12 + 16 + 1) return undefined;
  try {
    const d = crypto.createDecipheriv('aes-256-gcm', KEY, b.subarray(0, 12));
    d.setAuthTag(b.subarray(b.length - 16));
    return Buffer.concat([d.update(b.subarray(12, b.length - 16)), d.final()]).toString('utf8');
  } catch {
    return undefined;
  }
}

/** An answer's ETag value, sealed (each tag of a list; a value that is no tag list, whole). */
export function sealTags(value: string): string {
  const tags = parseTags(value);
  return tags ? tags.map((t) => (t === '*' ? t : sealOne(t))).join(', ') : sealOne(value);
}

/**
 * Shapes of tags computed from a body: a hex digest (MD5, SHA-1, SHA-256; Spring's `0` + MD5), a
 * digest in base64 (16, 20 or 32 bytes), Express's and Koa's `<length hex>-<SHA-1 base64>`,
 * nginx's and Apache's `<hex>-<hex>[-<hex>]` (size and mtime).
 */
const COMPUTABLE = /^(?:[0-9a-f]{16,}|[A-Za-z0-9+/_-]{22}(?:==)?|[A-Za-z0-9+/_-]{27}=?|[A-Za-z0-9+/_-]{43}=?|[0-9a-f]{1,16}-[A-Za-z0-9+/]{27}|[0-9a-f]{1,16}-[0-9a-f]{1,16}(?:-[0-9a-f]{1,16})?)$/i;

/**
 * A request's `If-Match`/`If-None-Match` value for a host that got a secret: sealed tags become
 * the real ones; another tag is dropped from a read, kept on a write when no body computes it,
 * and made one that matches nothing otherwise. Undefined: drop the header.
 */
export function unsealTags(value: string, write: boolean): string | undefined {
  const tags = parseTags(value);
  if (!tags) return write ? UNISSUED_TAG : undefined;
  const out: string[] = [];
  for (const t of tags) {
    const real = t === '*' ? t : unsealOne(t);
    if (real) out.push(real);
    else if (write) {
      const opaque = t.replace(/^W\//, '').replace(/^"|"$/g, '');
      out.push(COMPUTABLE.test(opaque) || opaque.startsWith(SEALED) ? UNISSUED_TAG : t);
    }
  }
  return out.length ? [...new Set(out)].join(', ') : undefined;
}
