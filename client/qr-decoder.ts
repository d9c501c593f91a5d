// jsQR, as its own bundle: the check-in page loads it only when someone scans on a browser
// without BarcodeDetector, so the page itself stays small on a slow link.
import jsQRModule from 'jsqr';

// jsQR is CommonJS with an ES default export: bundlers hand over either the function or its module.
type Decode = typeof jsQRModule.default;
const jsQR: Decode = (jsQRModule as unknown as { default?: Decode }).default ?? (jsQRModule as unknown as Decode);

export function decodeQr(image: ImageData): string | undefined {
  return jsQR(image.data, image.width, image.height, { inversionAttempts: 'dontInvert' })?.data;
}
