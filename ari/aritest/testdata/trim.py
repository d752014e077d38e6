#!/usr/bin/env python3
"""Trim the recorded ARI traces (/work/shared/ari/traces) into the replay
format used by replay_test.go. Keeps only what the hotline application saw or
did, and turns the caller side (harness/sim originates, sipp) into steps:

  {"k":"phone", "number", "behavior", "ring_ms", "keys", "keys_after_ms"}   how a number behaves
  {"k":"config", "local_linger_ms"}                                         Busy(N)/Congestion(N) linger
  {"k":"call", "number", "name", "tech", "trunk"}                           an incoming call on ext 2
  {"k":"fallback", "number"}                                                a call while the app has no socket
  {"k":"press", "digits"} / {"k":"hangup"}                                  caller presses / hangs up
  {"k":"ws_open"|"ws_close", "ws"}                                          hotline WebSocket open/close
  {"k":"request", "method", "path", "query", "body"} + {"k":"response", "status", "body"}
  {"k":"event", "ws", "event"}                                              an event delivered to hotline

Usage: trim.py SRC_DIR DST_DIR
       trim.py --recorded DIR   (DIR/*.raw.jsonl written by record/ -> DIR/*.jsonl)

Files recorded by record/ keep each request's raw query and body: their
request steps carry "raw_query" (and "content_type", "raw_body") and are
replayed byte for byte, repeated keys included.
"""
import json, os, sys

SECOND_SET_PHONES = [
    {"k": "phone", "number": "0900000017", "behavior": "busy"},
    {"k": "phone", "number": "0900000019", "behavior": "noanswer"},
    {"k": "phone", "number": "0900000034", "behavior": "congestion"},
    {"k": "phone", "number": "0900000021", "behavior": "reject", "ring_ms": 1000},
    {"k": "phone", "number": "*", "behavior": "answer", "ring_ms": 2000},
]
FIRST_SET = {
    "answer": {"behavior": "answer", "ring_ms": 0, "keys": "1", "keys_after_ms": 1700},
    "busy": {"behavior": "busy"},
    "noanswer": {"behavior": "noanswer"},
    "congestion": {"behavior": "congestion"},
    "voicemail": {"behavior": "answer", "ring_ms": 0},
}
SIP = {  # g_/h_ files: the sipp gateway behind PJSIP/…@sipp-out
    "g_sip_in_out": {"behavior": "answer", "ring_ms": 1},
    "h_sip_out_busy_486": {"behavior": "busy", "ring_ms": 1000},
    "h_sip_out_noanswer_cancel": {"behavior": "noanswer"},
}
SIP_CALLERS = {
    "g_sip_in_out": {"number": "0945551519", "name": "0945551519", "trunk": "sipp-in"},
    "sip-caller-ext2": {"number": "02973812345", "name": "02973812345", "trunk": "anonymous"},
}


def q(query):
    if not query:
        return {}
    return {k: (v if isinstance(v, list) else [v]) for k, v in query.items()}


def trim(name):
    lines = [json.loads(l) for l in open(os.path.join(SRC, name + ".jsonl"))]
    out = []
    second = any(l.get("dir") == "ws" for l in lines)
    if name in SIP:
        out.append(dict({"k": "phone", "number": "0964512424"}, **SIP[name]))
    elif second:
        out.append({"k": "config", "local_linger_ms": 10000 if name.startswith("b_busy") else 5000})
        out.extend(SECOND_SET_PHONES)
    else:
        out.append({"k": "config", "local_linger_ms": 5000})
    harness_ids = set()       # ids of caller-side (;1) channels the harness owns
    hot_open = True
    pending = None            # the request whose response is next (None: not ours)
    ws_label = "hot"
    sip_caller = SIP_CALLERS.get(name)
    caller_id = None
    for l in lines:
        d, t = l.get("dir"), l.get("t")
        if d == "note":
            if name == "websocket-reconnect" and "closing the websocket" in l.get("action", ""):
                out.append({"t": t, "k": "ws_open", "ws": "hot2"})
                ws_label = "hot2"
            continue
        if d == "ws":
            if l.get("ws", "").startswith("hot"):
                if l.get("state") == "open" and l["ws"] != "hot":
                    step = {"t": t, "k": "ws_open", "ws": l["ws"]}
                    # the old socket's ApplicationReplaced is recorded just before the open
                    i = len(out)
                    while i > 0 and out[i - 1].get("k") == "event" and out[i - 1]["event"]["type"] == "ApplicationReplaced":
                        i -= 1
                    out.insert(i, step)
                    hot_open = True
                elif l.get("state") == "client_close" and not all_done(lines, l):
                    out.append({"t": t, "k": "ws_close", "ws": l["ws"]})
                    hot_open = False
            continue
        if d == "event":
            ev = l["event"]
            if ev.get("application") != "hotline" or ev["type"] == "ChannelVarset":
                continue  # ChannelVarset is bookkeeping noise (STASISSTATUS, BRIDGEPEER, RTP stats…)
            ws = l.get("ws") or ws_label
            if name == "websocket-reconnect" and ev["type"] == "ApplicationReplaced":
                ws = "hot"
            if sip_caller and ev.get("channel", {}).get("name", "").startswith("PJSIP/" + sip_caller["trunk"]):
                cid = ev["channel"]["id"]
                if ev["type"] == "StasisStart" and caller_id is None:
                    caller_id = cid
                    out.append({"t": t, "k": "call", "tech": "PJSIP", **sip_caller})
                elif ev["type"] == "ChannelDtmfReceived":
                    out.append({"t": t, "k": "press", "digits": ev["digit"]})
                elif ev["type"] == "ChannelHangupRequest" and "cause" not in ev and cid == caller_id:
                    out.append({"t": t, "k": "hangup"})
            out.append({"t": t, "k": "event", "ws": ws, "event": ev})
            continue
        if d == "request":
            path, query, actor = l["path"], q(l.get("query")), l.get("actor")
            harness = actor == "sim" or (actor is None and (
                path == "/ari/asterisk/variable" or query.get("app") == ["harness"]
                or any(path == "/ari/channels/" + h or path.startswith("/ari/channels/" + h + "/") for h in harness_ids)))
            pending = None
            if not harness:
                pending = {"t": t, "k": "request", "method": l["method"], "path": path, "query": query}
                if l.get("body") is not None:
                    pending["body"] = l["body"]
                out.append(pending)
                continue
            if path == "/ari/asterisk/variable":
                num = query["variable"][0].replace("PHONE_", "")
                out.append(dict({"t": t, "k": "phone", "number": num}, **FIRST_SET[query["value"][0]]))
            elif l["method"] == "POST" and path == "/ari/channels":
                num = query.get("callerId", [""])[0]
                if hot_open:
                    out.append({"t": t, "k": "call", "number": num, "name": "", "tech": "Local"})
                else:
                    out.append({"t": t, "k": "fallback", "number": num})
                pending = "harness-originate"
            elif path.endswith("/dtmf"):
                out.append({"t": t, "k": "press", "digits": query["dtmf"][0]})
            elif l["method"] == "DELETE" and hot_open_or_any(harness_ids, path):
                out.append({"t": t, "k": "hangup"})
            continue
        if d == "response":
            if pending == "harness-originate":
                harness_ids.add(l["body"]["id"])
            elif isinstance(pending, dict):
                out.append({"t": t, "k": "response", "status": l["status"], "body": l.get("body")})
            pending = None
    # The harness pressed a key on seeing its own copy of PlaybackFinished; the
    # hotline socket got its copy in the same millisecond, after the request in
    # file order. Put the press after it so the replay keeps the recorded order.
    i = 0
    while i < len(out) - 1:
        a, b = out[i], out[i + 1]
        if a.get("k") == "press" and b.get("k") == "event" and b["event"]["type"] == "PlaybackFinished" and b["t"] == a["t"]:
            out[i], out[i + 1] = b, a
        i += 1
    with open(os.path.join(DST, name + ".jsonl"), "w") as f:
        for o in out:
            f.write(json.dumps(o, sort_keys=True) + "\n")


def all_done(lines, l):
    """A close after the scenario's last request/event is just the end of the recording."""
    i = lines.index(l)
    return not any(x.get("dir") in ("request", "event") and x.get("ws", "hot").startswith("hot") and
                   (x.get("dir") != "event" or x["event"].get("application") == "hotline")
                   for x in lines[i + 1:])


def hot_open_or_any(ids, path):
    return any(path == "/ari/channels/" + h for h in ids)



# The test-phones of deploy/asterisk/test, as record/ dials them.
RECORDED_PHONES = [
    {"k": "phone", "number": "0900000019", "behavior": "noanswer"},
    {"k": "phone", "number": "*", "behavior": "answer", "ring_ms": 2000, "keys": "1", "keys_after_ms": 1000},
]


def trim_recorded(path):
    """A file written by record/: the hotline app's requests (raw) and events;
    the originate of Local/2@hotline into sim is the incoming call. The sim
    app's copy of an event often arrives first and the recorder acted on it:
    the hotline copy is put where the first copy was. A leg the hotline app
    created that changes state only in sim's view (it was created into sim)
    becomes an await_state step, so that the replay waits for it too."""
    out = [{"k": "config", "local_linger_ms": 2000}] + RECORDED_PHONES
    pending = None
    twins = {}  # signature of an event -> index of its placeholder in out
    legs = set()  # channel ids the app chose (channelId=) for its legs

    def sig(ev):
        return json.dumps({k: v for k, v in ev.items() if k != "application"}, sort_keys=True)

    for l in (json.loads(x) for x in open(path)):
        d, t = l.get("dir"), l.get("t")
        if d == "event":
            ev = l["event"]
            if ev["type"] == "ChannelVarset":
                continue
            if ev.get("application") == "sim":
                twins.setdefault(sig(ev), len(out))
                out.append(None)
                ch = ev.get("channel", {}).get("id")
                if ev["type"] == "ChannelStateChange" and ch in legs:
                    out.append({"t": t, "k": "await_state", "channel": ch, "state": ev["channel"]["state"]})
                continue
            step = {"t": t, "k": "event", "ws": "hot", "event": ev}
            i = twins.pop(sig(ev), None)
            if i is not None:
                out[i] = step
            else:
                out.append(step)
        elif d == "request":
            q = l.get("raw_query", "")
            params = dict(kv.split("=", 1) if "=" in kv else (kv, "") for kv in q.split("&") if kv)
            if l["method"] == "POST" and l["path"] == "/ari/channels" and params.get("endpoint") == "Local/2@hotline":
                out.append({"t": t, "k": "call", "number": params.get("callerId", ""), "name": "", "tech": "Local"})
                pending = None
                continue
            if l["method"] == "POST" and l["path"] == "/ari/channels/create" and params.get("channelId"):
                legs.add(params["channelId"])
            pending = {"t": t, "k": "request", "method": l["method"], "path": l["path"], "raw": True, "raw_query": q}
            if "raw_body" in l:
                pending["content_type"], pending["raw_body"] = l["content_type"], l["raw_body"]
            out.append(pending)
        elif d == "response" and pending is not None:
            out.append({"t": t, "k": "response", "status": l["status"], "body": l.get("body")})
            pending = None
    dst = path[: -len(".raw.jsonl")] + ".jsonl"
    with open(dst, "w") as f:
        for o in out:
            if o is not None:
                f.write(json.dumps(o, sort_keys=True) + "\n")


if sys.argv[1] == "--recorded":
    for n in sorted(os.listdir(sys.argv[2])):
        if n.endswith(".raw.jsonl"):
            trim_recorded(os.path.join(sys.argv[2], n))
    sys.exit(0)

SRC, DST = sys.argv[1], sys.argv[2]
for n in ["answered-bridged", "callee-busy", "callee-no-answer-timeout", "callee-congestion",
          "caller-hangs-up-while-ringing", "voicemail-answers", "websocket-reconnect", "sip-caller-ext2",
          "a_create_dial", "b_busy_create_dial", "b_congestion_create_dial", "b_rejected_create_dial",
          "c_noanswer_dial_timeout", "c_noanswer_app_timeout", "d_caller_hangup_ringing_create_dial",
          "e_ws_reconnect", "g_sip_in_out", "h_sip_out_busy_486", "h_sip_out_noanswer_cancel"]:
    trim(n)
