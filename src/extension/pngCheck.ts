/** The host's check of a PNG the webview rasterized: another process's bytes, trusted for nothing. */

/** A PNG's signature and IHDR size, or what is wrong (the bytes come from the webview). */
export function pngProblem(bytes: Uint8Array): string | undefined {
  const signature = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
  if (bytes.length < 33 || signature.some((b, i) => bytes[i] !== b)) return 'no PNG signature';
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (String.fromCharCode(...bytes.subarray(12, 16)) !== 'IHDR') return 'no IHDR chunk first';
  const width = view.getUint32(16);
  const height = view.getUint32(20);
  if (width < 1 || height < 1 || width > 20_000 || height > 20_000) return `a size of ${width} × ${height} pixels`;
  return undefined;
}
