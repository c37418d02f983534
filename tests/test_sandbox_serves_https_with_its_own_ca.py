"""A started sandbox serves HTTPS with the CA it made: its traffic view starts empty, an unknown
path is a 404, and a client that does not trust its CA is refused."""

import requests


def test_a_started_sandbox_counts_no_traffic_answers_404_and_needs_its_ca(sandbox):
    r = requests.get(sandbox.urls["zendesk"] + "/__sandbox/traffic", verify=str(sandbox.ca_path))
    assert r.status_code == 200 and r.json()["requests"] == {}
    r = requests.get(sandbox.urls["jira"] + "/nothing", verify=str(sandbox.ca_path))
    assert r.status_code == 404
    try:
        requests.get(sandbox.urls["jira"] + "/nothing")
    except requests.exceptions.SSLError:
        pass
    else:
        raise AssertionError("unverified TLS must fail")


def test_a_connection_dropped_by_its_client_prints_nothing_on_stderr(sandbox, capfd):
    """A client that hangs up mid-handshake (as the fault tests' resets and a TLS EOF do) is
    logged at debug, not printed: the sync's log lines on stderr stay parseable."""
    import socket
    import ssl
    import time
    from urllib.parse import urlsplit

    port = urlsplit(sandbox.urls["zendesk"]).port
    context = ssl.create_default_context(cafile=str(sandbox.ca_path))
    raw = socket.create_connection(("127.0.0.1", port))
    tls = context.wrap_socket(raw, server_hostname="127.0.0.1")
    tls.sendall(b"GET /api/v2/tickets/1.json HTTP/1.1\r\nHost: x\r\n")  # half a request
    socket.socket(fileno=tls.detach()).close()  # then gone, without TLS's close_notify
    r = requests.get(sandbox.urls["zendesk"] + "/__sandbox/traffic", verify=str(sandbox.ca_path))
    assert r.status_code == 200
    time.sleep(0.2)  # the handler thread of the dropped connection finishes
    assert "Exception occurred during processing" not in capfd.readouterr().err
