// A tar member as GNU tar writes it, for tests of archives read from answers.

/** A 512-byte ustar header (its checksum set), then the data padded to 512 bytes. */
export function tarEntry(name: string, data: Buffer): Buffer {
  const h = Buffer.alloc(512);
  h.write(name, 0);
  h.write('0000644\0', 100);
  h.write(`${data.length.toString(8).padStart(11, '0')}\0`, 124);
  h.write('        ', 148);
  h.write('0', 156);
  h.write('ustar\x0000', 257);
  h.write(`${[...h].reduce((a, b) => a + b, 0).toString(8).padStart(6, '0')}\0 `, 148);
  return Buffer.concat([h, data, Buffer.alloc((512 - (data.length % 512)) % 512)]);
}
