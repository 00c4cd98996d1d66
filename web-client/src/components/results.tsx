import { elementCount, type Tensor, tensorValues } from '@peergrid/shared';
import { useMemo, useState } from 'react';
import { tensorImages } from '../lib/image-from-tensor.ts';
import { accuracy, predictions } from '../lib/labels.ts';
import { memoByObject } from '../lib/memo.ts';
import { textBoxes } from '../lib/text-boxes.ts';
import type { JobResults } from '../state/runtime.ts';
import { Pixels, pixelsToDataUrl } from './pixels.tsx';

// The views re-read results as tasks are verified, with the same tensor objects each time
// (inputs from the job spec, accepted outputs from the engine): each one is decoded once.
const imagesOf = memoByObject((t: Tensor) => tensorImages(t));
const grayImageOf = memoByObject((t: Tensor) => {
  const img = tensorImages(t, { gray: true })[0];
  return img ? { img, url: pixelsToDataUrl(img.width, img.height, img.rgba) } : null;
});
const predictionsOf = memoByObject(predictions);

/** Digits drawn before "Show all". Default 48. */
export const DIGITS_SHOWN = 48;

/** Results made for people: digits with labels, text boxes on images, or tensor summaries. */
export function Results({ results }: { results: JobResults }) {
  const done = results.tasks.filter((t) => t.outputs);
  if (done.length === 0) return <p className="empty">Results appear here as tasks are verified.</p>;
  if (results.kind === 'mnist') return <DigitResults results={results} />;
  if (results.kind === 'ocr') return <TextResults results={results} />;
  return <TensorResults results={results} />;
}

function DigitResults({ results }: { results: JobResults }) {
  const items = useMemo(
    () =>
      results.tasks.flatMap((t) => {
        const input = Object.values(t.inputs)[0];
        const out = t.outputs && Object.values(t.outputs)[0];
        if (!input || !out) return [];
        // Images are drawn for the digits shown only (imagesOf, below).
        return predictionsOf(out).map((p, i) => ({
          key: `${t.taskId}:${i}`,
          p,
          input,
          row: i,
          truth: t.labels?.[i],
        }));
      }),
    [results],
  );
  const [all, setAll] = useState(false);
  const shown = all ? items : items.slice(0, DIGITS_SHOWN);
  const acc = accuracy(
    items.map((i) => i.p),
    items.map((i) => i.truth ?? -1).filter((x) => x >= 0),
  );
  return (
    <div className="stack">
      <p className="muted" data-testid="result-summary">
        {items.length} digits classified
        {acc !== null && items.every((i) => i.truth !== undefined)
          ? ` · ${Math.round(acc * 100)}% match the known labels`
          : ''}
      </p>
      <div className="digits" data-testid="digit-results">
        {shown.map(({ key, p, input, row, truth }) => {
          const img = imagesOf(input)[row];
          return (
            <div
              key={key}
              className={`digit ${truth !== undefined && truth !== p.label ? 'wrong' : ''}`}
              data-testid="digit-result"
              data-label={p.label}
            >
              {img && <Pixels {...img} label={`digit image, predicted ${p.label}`} />}
              <span className="pred">{p.label}</span>
              <span className="conf">
                {truth !== undefined && truth !== p.label
                  ? `true ${truth}`
                  : `${Math.round(p.confidence * 100)}%`}
              </span>
            </div>
          );
        })}
      </div>
      {items.length > shown.length && (
        <button
          type="button"
          className="btn"
          data-testid="show-all-results"
          onClick={() => setAll(true)}
        >
          Show all {items.length}
        </button>
      )}
    </div>
  );
}

function TextResults({ results }: { results: JobResults }) {
  const figures = useMemo(
    () =>
      results.tasks.flatMap((t) => {
        const input = Object.values(t.inputs)[0];
        const out = t.outputs && Object.values(t.outputs)[0];
        const drawn = input && out ? grayImageOf(input) : null;
        if (!drawn || !out) return [];
        const { img, url } = drawn;
        const mapW = out.dims.at(-1) ?? img.width;
        const mapH = out.dims.at(-2) ?? img.height;
        const boxes = textBoxes(out, { scaleX: img.width / mapW, scaleY: img.height / mapH });
        return [{ id: t.taskId, img, url, boxes }];
      }),
    [results],
  );
  return (
    <div className="ocr" data-testid="text-results">
      {figures.map((f) => (
        <figure key={f.id} data-testid="text-result" data-boxes={f.boxes.length}>
          <svg
            viewBox={`0 0 ${f.img.width} ${f.img.height}`}
            role="img"
            aria-label={`${f.boxes.length} text regions`}
          >
            <image href={f.url} width={f.img.width} height={f.img.height} />
            {f.boxes.map((b) => (
              <rect
                key={`${b.x},${b.y}`}
                x={b.x}
                y={b.y}
                width={b.w}
                height={b.h}
                fill="rgba(32,94,232,0.12)"
                stroke="#205ee8"
                strokeWidth={Math.max(1.5, f.img.width / 300)}
                rx={2}
              />
            ))}
          </svg>
          <figcaption>
            {f.id}: {f.boxes.length} text region{f.boxes.length === 1 ? '' : 's'}
          </figcaption>
        </figure>
      ))}
    </div>
  );
}

/** Largest output drawn as a picture in the table, pixels. Default 1 048 576 (1 MPixel). */
const PREVIEW_MAX_PIXELS = 1 << 20;

function TensorResults({ results }: { results: JobResults }) {
  return (
    <div className="table-wrap">
      <table data-testid="tensor-results">
        <thead>
          <tr>
            <th>Task</th>
            <th>Output</th>
            <th>Shape</th>
            <th>Values</th>
          </tr>
        </thead>
        <tbody>
          {results.tasks.flatMap((t) =>
            Object.entries(t.outputs ?? {}).map(([name, out]) => {
              // Image-shaped outputs ([1, 1|3, H, W], e.g. a detection map) are drawn.
              const picture =
                out.dims.length === 4 &&
                (out.dims.at(-1) ?? 0) * (out.dims.at(-2) ?? 0) <= PREVIEW_MAX_PIXELS
                  ? imagesOf(out)[0]
                  : undefined;
              return (
                <tr key={`${t.taskId}:${name}`}>
                  <td>
                    <code>{t.taskId}</code>
                  </td>
                  <td>{name}</td>
                  <td className="mono">
                    {out.dtype}[{out.dims.join('×')}]
                  </td>
                  <td className="mono">
                    {picture ? (
                      <span className="preview" data-testid="output-preview">
                        <Pixels {...picture} label={`${name} drawn as an image`} />
                      </span>
                    ) : (
                      <>
                        {firstValues(out, 6)
                          .map((x) => (Number.isInteger(x) ? x : x.toPrecision(4)))
                          .join(', ')}
                        {elementCount(out.dims) > 6 ? ' …' : ''}
                      </>
                    )}
                  </td>
                </tr>
              );
            }),
          )}
        </tbody>
      </table>
    </div>
  );
}

/** The first `n` values of a tensor as numbers, without decoding the rest. */
function firstValues(t: Tensor, n: number): number[] {
  return Array.from(tensorValues(t).subarray(0, n) as ArrayLike<number | bigint>, Number);
}
