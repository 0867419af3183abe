"""--userns=auto[:size=N,uidmapping=...] and --uidmap/--gidmap maps that leave out the
storage owner, as root and rootless: each container gets its own id block (never
overlapping another's, released at rm), and sees the image's files with their image
owners (root: idmapped lower layers; rootless: a chowned copy of the layers, shared by
containers with the same image and maps, removed with the last of them)."""

from __future__ import annotations

import json
import os
import threading

from tests.integration.cli_containers.conftest import needs_monitor

pytestmark = needs_monitor

NONE = ("--network", "none")  # fewer helpers; test_auto_size_and_uidmapping uses the default network


def uid_map(text: str) -> list[tuple[int, int, int]]:
    return [tuple(int(x) for x in line.split()) for line in text.splitlines() if line.strip()]


def overlap(a: tuple[int, int, int], b: tuple[int, int, int]) -> bool:
    return a[1] < b[1] + b[2] and b[1] < a[1] + a[2]


def test_auto_ranges_distinct_owners_kept_and_released(bb):
    bb("run", "-d", "--name", "first", *NONE, "--userns=auto", "busybox", "sleep", "300").ok()
    first = uid_map(bb("exec", "first", "cat", "/proc/self/uid_map").ok().stdout)
    res = bb("run", "--rm", *NONE, "--userns=auto", "busybox", "sh", "-c",
             "cat /proc/self/uid_map; echo owner=$(stat -c %u:%g /bin/busybox); echo id=$(id -u):$(id -g); "
             "echo 127.0.0.2 extra >> /etc/hosts && echo hosts=written; touch /new && stat -c new=%u:%g /new").ok()
    lines = res.stdout.splitlines()
    second = uid_map("\n".join(l for l in lines if "=" not in l))
    assert len(first) == 1 and len(second) == 1, res.stdout
    assert first[0][0] == 0 and second[0][0] == 0
    assert first[0][2] == 1024 and second[0][2] == 1024  # busybox: its highest id (nobody aside) < 1024
    assert first[0][1] != 0 and not overlap(first[0], second[0]), (first, second)
    assert {"owner=0:0", "id=0:0", "hosts=written", "new=0:0"} <= set(lines), res.stdout
    # the running container's block is still taken; after rm it is free again
    bb("rm", "-f", "-t", "0", "first").ok()
    again = uid_map(bb("run", "--rm", *NONE, "--userns=auto", "busybox", "cat", "/proc/self/uid_map").ok().stdout)
    assert again == first
    if bb.rootless:
        assert not any((bb.root / "idmapped").iterdir())  # the chowned copies went with their users


def test_auto_size_and_uidmapping(bb):
    # the default network (a netns file joined before the user namespace; /sys then
    # bound read-only from the host)
    # a new named volume is given to the container's user (as Podman): writable inside
    res = bb("run", "--rm", "--userns=auto:size=2048", "-v", "autovol:/data", "busybox", "sh", "-c",
             "cat /proc/self/uid_map; echo 127.0.0.3 x >> /etc/hosts; touch /data/x").ok()
    rows = uid_map(res.stdout)
    assert [(c, n) for c, _, n in rows] == [(0, 2048)]
    host = 5 if bb.rootless else 300000
    res = bb("run", "--rm", *NONE, f"--userns=auto:size=2048,uidmapping=0:{host}:1", "busybox",
             "cat", "/proc/self/uid_map").ok()
    rows = uid_map(res.stdout)
    assert rows[0] == (0, host, 1) and [(c, n) for c, _, n in rows[1:]] == [(1, 2047)], rows


def test_image_owners_inside(hull_any, multi_uid_image):
    hull_any.load(multi_uid_image)
    res = hull_any("run", "--rm", *NONE, "--userns=auto", "localhost/multi-uid", "sh", "-c",
                   "cat /proc/self/uid_map; stat -c '%n %u:%g %a' /bin/busybox /owned/root /owned/www-data "
                   "/owned/user /owned/userdir/file /usr/bin/suid-file /shared; cat /opaque/*; ls /data").ok()
    lines = res.stdout.splitlines()
    (c, h, n), = uid_map(lines[0])
    assert c == 0 and h != 0 and n == 65535  # the image owns a file as 65534
    assert lines[1:] == ["/bin/busybox 0:0 755", "/owned/root 0:0 644", "/owned/www-data 33:33 640",
                         "/owned/user 1000:1000 600", "/owned/userdir/file 1000:100 664",
                         "/usr/bin/suid-file 0:0 4755", "/shared 0:0 1777", "after opaque", "keep"], res.stdout


def test_uidmap_gidmap_without_the_storage_owner(bb):
    host = 1 if bb.rootless else 400000
    res = bb("run", "--rm", *NONE, "--uidmap", f"0:{host}:5000", "--gidmap", f"0:{host + 10}:5000", "busybox",
             "sh", "-c", "cat /proc/self/uid_map /proc/self/gid_map; stat -c %u:%g /bin/busybox /etc; id -u").ok()
    assert res.stdout.split() == ["0", str(host), "5000", "0", str(host + 10), "5000", "0:0", "0:0", "0"]
    # maps the kernel refuses (overlapping host ids) fail the run at once, not a hang
    bb("run", "--rm", *NONE, "--uidmap", f"0:{host}:10", "--uidmap", f"5:{host + 2}:2", "busybox",
       "true").assert_error(125)
    if bb.rootless:  # host ids are ids of Hull's namespace: 100000 is not one
        bb("run", "--rm", *NONE, "--uidmap", "0:100000:65536", "busybox", "true").assert_error(
            125, "host ids are ids of the user namespace")
    # crun would walk the 0700 store as the mapped root: refused in one line, nothing left
    bb("--runtime", "crun", "create", *NONE, "--userns=auto", "busybox", "true").assert_error(
        125, "need the built-in runtime, not crun")
    assert bb("ps", "-aq").ok().stdout == ""


def test_concurrent_creates_never_overlap(bb):
    results: list = []

    def create(i: int) -> None:
        results.append(bb("create", "--name", f"c{i}", *NONE, "--userns=auto", "busybox", "true"))

    threads = [threading.Thread(target=create, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for r in results:
        r.ok()
    blocks = []
    for i in range(4):
        doc = json.loads(bb("inspect", f"c{i}").ok().stdout)[0]
        uid_map_text, = doc["HostConfig"]["IDMappings"]["UidMap"]  # Podman's "C:H:S"
        blocks.append(tuple(int(x) for x in uid_map_text.split(":")))
    for i in range(4):
        for j in range(i + 1, 4):
            assert not overlap(blocks[i], blocks[j]), blocks
    bb("rm", "c0", "c1", "c2", "c3").ok()


def test_commit_records_container_ids(bb):
    # the upper dir holds the block's host ids; the committed layer has the container's
    bb("run", "--name", "cm", *NONE, "--userns=auto", "busybox", "sh", "-c",
       "touch /newfile; mkdir /d; chown 33:44 /d").ok()
    bb("commit", "-q", "cm", "localhost/cm").ok()
    res = bb("run", "--rm", *NONE, "localhost/cm", "stat", "-c", "%n %u:%g", "/newfile", "/d", "/bin/busybox").ok()
    assert res.stdout.splitlines() == ["/newfile 0:0", "/d 33:44", "/bin/busybox 0:0"]
    # export and cp into the stopped container see the same ids
    src = bb.workdir / "copied"  # the runner's own file: container root's inside (--archive shifts)
    src.write_text("x\n")
    os.chown(src, bb.user.uid if bb.rootless else 0, bb.user.gid if bb.rootless else 0)
    bb("cp", str(src), "cm:/etc/copied").ok()
    names = _export_owners(bb, "cm", {"newfile", "d/", "etc/", "etc/copied", "bin/busybox"})
    assert names == {"newfile": "0/0", "d/": "33/44", "etc/": "0/0", "etc/copied": "0/0", "bin/busybox": "0/0"}
    bb("rm", "cm").ok()


def _export_owners(bb, name: str, wanted: set[str]) -> dict[str, str]:
    import io
    import tarfile

    data = bb("export", name).ok().stdout_bytes
    out = {}
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        for m in tar.getmembers():
            key = m.name.lstrip("./") + ("/" if m.isdir() else "")
            if key in wanted:
                out[key] = f"{m.uid}/{m.gid}"
    return out
