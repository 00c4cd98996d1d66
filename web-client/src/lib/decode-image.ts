/** Decodes an image file in the page and draws it at a given size (browser only). */
export async function decodeImage(
  blob: Blob,
  size?: (w: number, h: number) => { width: number; height: number },
): Promise<{ width: number; height: number; rgba: Uint8ClampedArray }> {
  let bitmap: ImageBitmap;
  try {
    bitmap = await createImageBitmap(blob);
  } catch {
    throw new Error('not an image the browser can decode');
  }
  const target = size
    ? size(bitmap.width, bitmap.height)
    : { width: bitmap.width, height: bitmap.height };
  const canvas = new OffscreenCanvas(target.width, target.height);
  const ctx = canvas.getContext('2d');
  if (!ctx) throw new Error('no 2D canvas in this browser');
  ctx.fillStyle = '#fff';
  ctx.fillRect(0, 0, target.width, target.height);
  ctx.drawImage(bitmap, 0, 0, target.width, target.height);
  bitmap.close();
  const data = ctx.getImageData(0, 0, target.width, target.height).data;
  return { ...target, rgba: data };
}
