#!/usr/bin/env python3
"""HTTP clients that curl cannot play, for tests/integration/test_api.sh (standard library only).

    api_clients.py pages BASE PATH TOKEN         walk a paginated list: follows next_cursor until null,
                                                 prints {"pages": N, "items": [...], "error": null|"..."}
    api_clients.py hostile HOST PORT READY SECS  opens slow and stalled connections, touches READY once
                                                 they are all open, keeps them SECS seconds, then prints
                                                 what the byte-by-byte client got ({"trickle_status": ...})
    api_clients.py shutdown HOST PORT TOKEN BODY INFLIGHT SIGNALLED
                                                 a keep-alive connection plus a POST /api/v1/points of
                                                 the file BODY sent in two halves: touches INFLIGHT when
                                                 half the body is out, waits for the file SIGNALLED (the
                                                 test sends SIGTERM meanwhile), asks /readyz on the
                                                 keep-alive connection, sends the rest; prints
                                                 {"readyz": S, "post": S, "post_body": ...}
"""
import http.client
import json
import os
import socket
import sys
import time
import urllib.parse


def pages(base, path, token):
    url = urllib.parse.urlsplit(base)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=60)
    items, n, cursor, error = [], 0, None, None
    while True:
        sep = "&" if "?" in path else "?"
        p = path + (sep + "cursor=" + urllib.parse.quote(cursor) if cursor else "")
        conn.request("GET", p, headers={"Authorization": "Bearer " + token})
        r = conn.getresponse()
        body = r.read()
        if r.status != 200:
            error = "page %d: status %d: %s" % (n + 1, r.status, body[:300].decode("utf-8", "replace"))
            break
        doc = json.loads(body)
        n += 1
        items.extend(doc["items"])
        cursor = doc["next_cursor"]
        if cursor is None:
            break
        if n > 100000:
            error = "more than 100000 pages: the cursor does not advance"
            break
    print(json.dumps({"pages": n, "items": items, "error": error}))


def touch(path):
    with open(path, "w"):
        pass


def hostile(host, port, ready, seconds):
    conns = []
    # 1. headers one byte at a time (a complete request in the end)
    trickle = socket.create_connection((host, port))
    request = b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    # 2. clients that stop midway: in the request line, in the headers, in the body
    partial = [
        b"GET /api/v1/sco",
        b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Half: ",
        b"POST /api/v1/points HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n[{\"kpi\":",
    ]
    for i in range(12):
        s = socket.create_connection((host, port))
        s.sendall(partial[i % len(partial)])
        conns.append(s)
    touch(ready)
    deadline = time.monotonic() + seconds
    step = seconds / (len(request) + 1)
    for i in range(len(request)):
        trickle.sendall(request[i : i + 1])
        time.sleep(step)
    trickle.settimeout(max(5.0, deadline - time.monotonic() + 5))
    answer = b""
    try:
        while True:
            chunk = trickle.recv(65536)
            if not chunk:
                break
            answer += chunk
    except socket.timeout:
        pass
    left = deadline - time.monotonic()
    if left > 0:
        time.sleep(left)
    for s in conns:
        s.close()
    trickle.close()
    status = None
    if answer.startswith(b"HTTP/1.1 "):
        status = int(answer[9:12])
    print(json.dumps({"trickle_status": status}))


def shutdown(host, port, token, body_path, inflight, signalled):
    body = open(body_path, "rb").read()
    keep = http.client.HTTPConnection(host, port, timeout=60)
    keep.request("GET", "/healthz")
    r = keep.getresponse()
    r.read()
    out = {"healthz_before": r.status}
    post = http.client.HTTPConnection(host, port, timeout=120)
    post.putrequest("POST", "/api/v1/points")
    post.putheader("Authorization", "Bearer " + token)
    post.putheader("Content-Type", "application/json")
    post.putheader("Content-Length", str(len(body)))
    post.endheaders()
    half = len(body) // 2
    post.send(body[:half])
    touch(inflight)
    for _ in range(2000):
        if os.path.exists(signalled):
            break
        time.sleep(0.01)
    time.sleep(0.2)
    try:
        keep.request("GET", "/readyz")
        r = keep.getresponse()
        r.read()
        out["readyz"] = r.status
    except (OSError, http.client.HTTPException) as e:
        out["readyz"] = "error: %s" % e
    keep.close()
    post.send(body[half:])
    r = post.getresponse()
    out["post"] = r.status
    out["post_body"] = r.read().decode("utf-8", "replace")[:500]
    post.close()
    print(json.dumps(out))


def main(argv):
    if len(argv) >= 2 and argv[1] == "pages" and len(argv) == 5:
        pages(argv[2], argv[3], argv[4])
    elif len(argv) >= 2 and argv[1] == "hostile" and len(argv) == 6:
        hostile(argv[2], int(argv[3]), argv[4], float(argv[5]))
    elif len(argv) >= 2 and argv[1] == "shutdown" and len(argv) == 8:
        shutdown(argv[2], int(argv[3]), argv[4], argv[5], argv[6], argv[7])
    else:
        sys.stderr.write(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
