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
