#!/usr/bin/env python3
"""A department's subscriber for gridhub, in Python: stream, print, acknowledge, report back.

It speaks the stream protocol of docs/wire-protocol.md with Debian's python3-zmq and
python3-protobuf and the modules protoc generates from schemas/gridhub/v1/*.proto (the build puts
them in build/python; without a build: `protoc --python_out=py -I schemas schemas/gridhub/v1/*.proto`;
point PYTHONPATH there). One JSON line per delivered record on stdout.

    PYTHONPATH=build/python examples/python/department.py \\
        --stream ipc:///run/gridhub/stream.sock --as water-bureau --assignee CTY_SWJ --accept-all
"""
import argparse
import json
import signal
import sys
import time

import zmq

from gridhub.v1 import log_pb2, ticket_pb2, wire_pb2

KEEPALIVE_S = 1.0
ACK_EVERY_S = 1.0       # acknowledge at least this often while records are handled (stream.ack_timeout_ms is 30 s)
SUBSCRIBE_WAIT_S = 5.0  # no Subscribed or Denied this long after a Subscribe: say so


class Department:
    def __init__(self, args):
        self.args = args
        self.ctx = zmq.Context()
        self.sock = self.ctx.socket(zmq.DEALER)
        self.sock.setsockopt(zmq.LINGER, 2000)  # the last Acknowledge must leave before we exit
        self.sock.connect(args.stream)
        self.next_seq = 0       # first seq not yet handled in this run (0: none yet)
        self.acked = 0
        self.consumed = 0       # records taken since credit was last granted
        self.last_sent = 0.0
        self.last_ack = time.monotonic()
        self.subscribing = 0.0  # when the unanswered Subscribe was sent (0: none outstanding)
        self.pending = {}       # request_id -> ticket_id: updates sent, answer not yet seen
        self.stop = False
        self.records = 0

    def send(self, msg):
        self.sock.send(msg.SerializeToString())
        self.last_sent = time.monotonic()

    def subscribe(self):
        m = wire_pb2.SubscriberToHub()
        s = m.subscribe
        s.name = self.args.name
        s.credit = self.args.credit
        s.filter.assignees.extend(self.args.assignee)
        if self.next_seq:
            # Continue after what this run handled (and move the durable cursor there).
            s.start = wire_pb2.START_POINT_SEQ
            s.from_seq = self.next_seq
            self.acked = self.next_seq - 1
        else:
            s.start = wire_pb2.START_POINT_RESUME
        self.consumed = 0
        self.send(m)
        self.subscribing = time.monotonic()

    def on_session_unknown(self):
        # The hub answers each credit, keepalive and ack of an unknown session, so several of these
        # arrive after a hub restart: one Subscribe answers them all (those that arrive before its
        # Subscribed answer messages sent before it).
        if not self.subscribing:
            self.subscribe()

    def acknowledge(self):
        if self.next_seq and self.next_seq - 1 > self.acked:
            m = wire_pb2.SubscriberToHub()
            m.acknowledge.through_seq = self.next_seq - 1
            self.acked = self.next_seq - 1
            self.send(m)
        self.last_ack = time.monotonic()

    def grant(self, force=False):
        if self.consumed and (force or self.consumed >= self.args.credit // 2):
            m = wire_pb2.SubscriberToHub()
            m.credit.credit = self.consumed
            self.consumed = 0
            self.send(m)

    def report(self, ticket_id, action, text=""):
        m = wire_pb2.SubscriberToHub()
        u = m.update
        # A request id derived from the work makes a resend after our own restart harmless.
        u.request_id = f"{self.args.name}/{log_pb2.UpdateAction.Name(action).lower()}/{ticket_id}"
        u.ticket_id = ticket_id
        u.action = action
        u.text = text
        self.pending[u.request_id] = ticket_id
        self.send(m)

    def on_delivery(self, d):
        self.consumed += 1
        if self.next_seq and d.seq < self.next_seq:
            if d.seq <= self.acked:
                self.acked = d.seq - 1  # our Acknowledge was lost: say it again
            return
        self.next_seq = d.seq + 1
        self.records += 1
        rec = log_pb2.LogRecord()
        rec.ParseFromString(d.record)
        kind = rec.WhichOneof("body") or "unknown"
        ticket = None
        if kind == "intake_accepted" and rec.intake_accepted.HasField("ticket"):
            ticket = rec.intake_accepted.ticket
        elif kind in ("ticket_update", "escalation"):
            ticket = getattr(rec, kind).ticket
        line = {"seq": d.seq, "redelivered": d.redelivered, "kind": kind, "ticket_id": rec.ticket_id}
        if ticket is not None:
            line.update(status=ticket_pb2.TicketStatus.Name(ticket.status), assignee=ticket.assignee_code,
                        category=ticket.category_code, text=ticket.text[:40])
        print(json.dumps(line, ensure_ascii=False, separators=(",", ":")), flush=True)
        if ticket is not None and kind == "intake_accepted" and ticket.status == ticket_pb2.TICKET_STATUS_ASSIGNED:
            if self.args.accept_all:
                self.report(rec.ticket_id, log_pb2.UPDATE_ACTION_ACCEPT)
            elif self.args.resolve_all:
                self.report(rec.ticket_id, log_pb2.UPDATE_ACTION_RESOLVE, self.args.resolve_all)
        # Acknowledge every credit/4 records, and at least every second however slowly records are
        # handled: the hub sends again what is not acknowledged within stream.ack_timeout_ms.
        if self.records % max(1, self.args.credit // 4) == 0 or time.monotonic() - self.last_ack >= ACK_EVERY_S:
            self.acknowledge()

    def on_update_result(self, r):
        ticket_id = self.pending.pop(r.request_id, "?")
        if r.ok:
            print(f"department: {ticket_id}: seq {r.seq}, now {ticket_pb2.TicketStatus.Name(r.ticket.status)}", file=sys.stderr)
        else:
            print(f"department: {ticket_id}: refused: {wire_pb2.UpdateError.Name(r.error)}: {r.reason}", file=sys.stderr)

    def run(self):
        self.subscribe()
        poller = zmq.Poller()
        poller.register(self.sock, zmq.POLLIN)
        last_data = time.monotonic()
        while not self.stop:
            if self.args.count and self.records >= self.args.count and not self.pending:
                break
            events = dict(poller.poll(100 if self.next_seq - 1 > self.acked else 1000))
            now = time.monotonic()
            if self.subscribing and now - self.subscribing > SUBSCRIBE_WAIT_S:
                # With CURVE, a refused key gets no answer at all (docs/wire-protocol.md, "Security").
                # The Subscribe may still be queued for a hub that is down: the next SessionUnknown,
                # not this timer, sends another.
                print(f"department: no answer from the hub {SUBSCRIBE_WAIT_S:.0f} s after subscribing "
                      "(hub down, or our key refused?); still waiting", file=sys.stderr)
                self.subscribing = 0.0
            if self.sock not in events:
                self.acknowledge()
                if self.args.idle_exit_ms and now - last_data > self.args.idle_exit_ms / 1000 and not self.pending:
                    break
                if now - self.last_sent >= KEEPALIVE_S:
                    m = wire_pb2.SubscriberToHub()
                    m.credit.credit = 0
                    self.send(m)
                continue
            while True:
                try:
                    raw = self.sock.recv(zmq.NOBLOCK)
                except zmq.Again:
                    break
                msg = wire_pb2.HubToSubscriber()
                msg.ParseFromString(raw)
                which = msg.WhichOneof("msg")
                if which == "delivery":
                    last_data = time.monotonic()
                    self.on_delivery(msg.delivery)
                elif which == "session_unknown":
                    self.on_session_unknown()
                elif which == "subscribed":
                    self.subscribing = 0.0
                    s = msg.subscribed
                    print(f"department: subscribed as {s.identity} ({s.role}): start seq {s.start_seq}, "
                          f"acked seq {s.acked_seq}, head seq {s.head_seq}", file=sys.stderr)
                elif which == "denied":
                    print(f"department: the hub refused: {msg.denied.reason}", file=sys.stderr)
                    return 1
                elif which == "update_result":
                    self.on_update_result(msg.update_result)
            self.grant(force=time.monotonic() - self.last_sent >= KEEPALIVE_S)
        self.acknowledge()
        self.sock.close()
        self.ctx.term()
        return 0


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--stream", required=True, help="the hub's stream endpoint")
    p.add_argument("--as", dest="name", required=True, help="subscription name (the hub keeps its cursor)")
    p.add_argument("--assignee", action="append", default=[], help="assignee code; repeatable")
    p.add_argument("--accept-all", action="store_true", help="accept every newly assigned ticket")
    p.add_argument("--resolve-all", metavar="RESULT", help="resolve every newly assigned ticket with this result")
    p.add_argument("--credit", type=int, default=256, help="records in flight")
    p.add_argument("--count", type=int, default=0, help="exit after this many records")
    p.add_argument("--idle-exit-ms", type=int, default=0, help="exit when nothing arrived for this long")
    args = p.parse_args()
    dept = Department(args)

    def on_signal(*_):
        dept.stop = True

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    return dept.run()


if __name__ == "__main__":
    sys.exit(main())
