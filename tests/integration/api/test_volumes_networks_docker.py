"""Docker's volume and network routes through the docker CLI and raw requests,
validated against the v1.44 swagger."""

from __future__ import annotations

import json

from tests.fixtures.swagger import validate, validate_response


def test_docker_volume_commands(api_any):
    svc = api_any
    assert svc.docker("volume", "create", "--label", "k=v", "data1").ok().stdout.strip() == "data1"
    assert "data1" in svc.docker("volume", "ls", "--format", "{{.Name}}").ok().stdout.split()
    doc = json.loads(svc.docker("volume", "inspect", "data1").ok().stdout)[0]
    assert doc["Name"] == "data1" and doc["Labels"] == {"k": "v"} and doc["Driver"] == "local"
    svc.docker("volume", "rm", "data1").ok()
    assert svc.docker("volume", "ls", "-q").ok().stdout == ""
    gone = svc.docker("volume", "inspect", "data1")
    assert gone.returncode != 0


def test_volume_routes_validate(api_any):
    svc = api_any
    created = svc.request("POST", "/v1.44/volumes/create", {"Name": "v2", "Labels": {"a": "b"}})
    assert created.status == 201
    validate(created.json(), "Volume")
    again = svc.request("POST", "/v1.44/volumes/create", {"Name": "v2"})
    assert again.status == 201 and again.json()["Name"] == "v2"
    listed = svc.request("GET", '/v1.44/volumes?filters={"label":["a=b"]}').json()
    validate_response(listed, "/volumes")
    assert [v["Name"] for v in listed["Volumes"]] == ["v2"]
    validate(svc.request("GET", "/v1.44/volumes/v2").json(), "Volume")
    assert svc.request("GET", "/v1.44/volumes/nope").status == 404
    # Docker prunes anonymous volumes only, unless all=true
    pruned = svc.request("POST", "/v1.44/volumes/prune").json()
    validate_response(pruned, "/volumes/prune", "post")
    assert pruned["VolumesDeleted"] == []
    pruned = svc.request("POST", '/v1.44/volumes/prune?filters={"all":["true"]}').json()
    assert pruned["VolumesDeleted"] == ["v2"]
    assert svc.request("DELETE", "/v1.44/volumes/v2").status == 404
    assert svc.request("POST", "/v1.44/volumes/create", b"[1,").status == 400


def test_docker_network_commands(api_any):
    svc = api_any
    net_id = svc.docker("network", "create", "--subnet", "10.123.7.0/24", "--label", "x=y", "apinet").ok().stdout.strip()
    assert len(net_id) == 64
    assert "apinet" in svc.docker("network", "ls", "--format", "{{.Name}}").ok().stdout.split()
    doc = json.loads(svc.docker("network", "inspect", "apinet").ok().stdout)[0]
    assert doc["Id"] == net_id and doc["IPAM"]["Config"][0]["Subnet"] == "10.123.7.0/24"
    assert doc["Labels"] == {"x": "y"}
    dup = svc.docker("network", "create", "apinet")
    assert dup.returncode != 0 and "already exists" in dup.stderr
    svc.docker("network", "rm", "apinet").ok()
    assert "apinet" not in svc.docker("network", "ls", "--format", "{{.Name}}").ok().stdout.split()


def test_network_routes_validate(api_any):
    svc = api_any
    made = svc.request("POST", "/v1.44/networks/create", {"Name": "n1", "Internal": True})
    assert made.status == 201
    validate_response(made.json(), "/networks/create", "post", 201)
    listed = svc.request("GET", "/v1.44/networks").json()
    validate_response(listed, "/networks")
    one = svc.request("GET", "/v1.44/networks/n1").json()
    validate(one, "Network")
    assert one["Internal"] is True and one["Driver"] == "bridge"
    assert svc.request("GET", "/v1.44/networks/none-such").status == 404
    assert svc.request("POST", "/v1.44/networks/create", {"Name": "n1"}).status == 409
    assert svc.request("POST", "/v1.44/networks/n1/connect", {"Container": "nope"}).status == 404
    pruned = svc.request("POST", "/v1.44/networks/prune").json()
    validate_response(pruned, "/networks/prune", "post")
    assert "n1" in pruned["NetworksDeleted"]


def test_network_create_ipv6_and_options_flow_through(api_any):
    """What docker-compose sends for `enable_ipv6` + an IPAM config per family +
    driver_opts: a dual-stack network with the MTU, shown back under Docker's key."""
    svc = api_any
    body = {"Name": "dual", "EnableIPv6": True, "Options": {"com.docker.network.driver.mtu": "1400"},
            "IPAM": {"Driver": "default", "Config": [{"Subnet": "10.123.9.0/24"},
                                                     {"Subnet": "fd42:1:2:3::/64", "Gateway": "fd42:1:2:3::fe"}]}}
    made = svc.request("POST", "/v1.44/networks/create", body)
    assert made.status == 201, made.json()
    one = svc.request("GET", "/v1.44/networks/dual").json()
    validate(one, "Network")
    assert one["EnableIPv6"] is True
    assert one["IPAM"]["Config"] == [{"Subnet": "10.123.9.0/24", "Gateway": "10.123.9.1"},
                                     {"Subnet": "fd42:1:2:3::/64", "Gateway": "fd42:1:2:3::fe"}]
    assert one["Options"]["com.docker.network.driver.mtu"] == "1400"
    bad = svc.request("POST", "/v1.44/networks/create", {"Name": "bad", "Options": {"vlan": "4"}})
    assert bad.status in (400, 500) and "vlan" in bad.json()["message"]
    assert svc.request("DELETE", "/v1.44/networks/dual").status == 204
