/**
 * Post-processing of PaddleOCR's text detector. The code is shared's
 * (`shared/src/ocr/ocr-boxes.ts`), so the page and pipelines use the same;
 * re-exported here for the workloads.
 */
export { type BoxOptions, probabilityMapToBoxes, type TextBox } from '@peergrid/shared';
