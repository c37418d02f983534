import requests


def test_sandbox_starts_and_counts(sandbox):
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
