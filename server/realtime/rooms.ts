// Room names: everyone following a meeting, one site's screens, and the organizers' desks.
export const meetingRoom = (meetingId: string) => `meeting:${meetingId}`;
export const siteRoom = (meetingId: string, siteId: string) => `meeting:${meetingId}:site:${siteId}`;
export const organizersRoom = (meetingId: string) => `meeting:${meetingId}:organizers`;
