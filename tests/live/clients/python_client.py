"""A site kiosk written in Python (python-socketio), following docs/api/live.md only.

Connects with a coordinator's link token, joins the meeting, checks one person in twice with the
same operation id, and prints one JSON line: the acks and the events it received.
Usage: python_client.py BASE_URL TOKEN MEETING_ID ATTENDEE_ID OP_ID
"""
import json
import sys
import threading

import socketio

base_url, token, meeting_id, attendee_id, op_id = sys.argv[1:6]
events = []
counted = threading.Event()
client = socketio.Client(reconnection=False)


@client.on("event")
def on_event(event, *recovery_offset):
    # Connection State Recovery appends its offset as an extra argument (docs/api/live.md).
    events.append(event)
    if event.get("type") == "attendance.counts":
        counted.set()


client.connect(base_url, transports=["websocket"], auth={"token": token, "lang": "en"}, wait_timeout=10)
joined = client.call("meeting:join", {"meetingId": meeting_id, "screen": "coordinator"}, timeout=10)
check_in = {"meetingId": meeting_id, "attendeeId": attendee_id, "opId": op_id}
first = client.call("attendance:checkIn", check_in, timeout=10)
again = client.call("attendance:checkIn", check_in, timeout=10)
refused = client.call("attendance:checkIn", {"meetingId": meeting_id, "attendeeId": "not-an-id", "opId": op_id + "-x"}, timeout=10)
counted.wait(5)
client.disconnect()
print(json.dumps({"joined": joined, "first": first, "again": again, "refused": refused, "events": events}))
