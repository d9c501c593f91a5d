// The attendee's check-in QR code as an inline SVG (no extra request on a slow link), dark on
// white with the quiet zone scanners need.
import QRCode from 'qrcode';
import { checkInQrText } from './qr-text.js';

export async function checkInQrSvg(meetingId: string, attendeeId: string): Promise<string> {
  return QRCode.toString(checkInQrText(meetingId, attendeeId), { type: 'svg', errorCorrectionLevel: 'M', margin: 4 });
}
