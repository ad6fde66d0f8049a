#!/usr/bin/python3
# Fabric ThreadingGroup fan-out for bench/fanout.ts. Run with Debian's /usr/bin/python3 (python3-fabric).
# argv: HOSTS_FILE COUNT KEY_FILE KNOWN_HOSTS COMMAND
# Host keys are verified: the lab's known_hosts is loaded and unknown keys are rejected
# (Fabric's default is paramiko's AutoAddPolicy, which accepts any key).
# Prints one JSON line: {"seconds": connect+run time, "cpuSeconds": CPU of all threads meanwhile,
#   "ok": hosts with exit 0 and the expected output, "errors": [...]}
import json
import sys
import time

from fabric import ThreadingGroup
from fabric.exceptions import GroupException
from paramiko import RejectPolicy

hosts_file, count, key_file, known_hosts, command = sys.argv[1:6]
hosts = [line.strip() for line in open(hosts_file) if line.strip()][: int(count)]

start = time.monotonic()
cpu_start = time.process_time()
group = ThreadingGroup(*hosts, user="root", connect_kwargs={"key_filename": key_file})
for conn in group:
    conn.client.load_host_keys(known_hosts)
    conn.client.set_missing_host_key_policy(RejectPolicy())
errors = []
try:
    results = group.run(command, hide=True)
except GroupException as e:
    results = e.result
seconds = time.monotonic() - start
cpu_seconds = time.process_time() - cpu_start
ok = 0
for conn, res in results.items():
    if isinstance(res, Exception):
        errors.append(f"{conn.host}: {res!r}")
    elif res.ok and "load average" in res.stdout:
        ok += 1
    else:
        errors.append(f"{conn.host}: exit {res.exited}: {res.stdout!r} {res.stderr!r}")
group.close()
print(json.dumps({"seconds": seconds, "cpuSeconds": cpu_seconds, "ok": ok, "errors": errors[:5]}))
