// What an attendee's personal check-in QR code says. It names the meeting and the attendee,
// nothing secret (a coordinator can tap the same person in), in upper case so the code uses the
// compact alphanumeric mode and stays easy to scan. No imports: the browser bundle uses it too.
export function checkInQrText(meetingId: string, attendeeId: string): string {
  return `BP1:${meetingId}:${attendeeId}`.toUpperCase();
}

/** The ids a scanned code names, or undefined for any other QR code. */
export function parseCheckInQr(text: string): { meetingId: string; attendeeId: string } | undefined {
  const match = /^BP1:([0-9a-f]{24}):([0-9a-f]{24})$/i.exec(text.trim());
  return match ? { meetingId: match[1]!.toLowerCase(), attendeeId: match[2]!.toLowerCase() } : undefined;
}
