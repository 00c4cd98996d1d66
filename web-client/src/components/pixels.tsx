import { useEffect, useRef } from 'react';

/** Draws RGBA pixels into a canvas at their own size (CSS scales it). */
export function Pixels(props: {
  width: number;
  height: number;
  rgba: Uint8ClampedArray;
  label?: string;
}) {
  const ref = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    const ctx = ref.current?.getContext('2d');
    if (!ctx) return;
    const img = new ImageData(props.width, props.height);
    img.data.set(props.rgba);
    ctx.putImageData(img, 0, 0);
  }, [props.width, props.height, props.rgba]);
  return (
    <canvas
      ref={ref}
      width={props.width}
      height={props.height}
      aria-label={props.label}
      role="img"
    />
  );
}

/** The same pixels as a PNG data URL (for SVG <image>). */
export function pixelsToDataUrl(width: number, height: number, rgba: Uint8ClampedArray): string {
  const canvas = document.createElement('canvas');
  canvas.width = width;
  canvas.height = height;
  const ctx = canvas.getContext('2d');
  if (!ctx) return '';
  const img = new ImageData(width, height);
  img.data.set(rgba);
  ctx.putImageData(img, 0, 0);
  return canvas.toDataURL('image/png');
}
