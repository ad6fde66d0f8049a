#!/usr/bin/python3
# Sequential connections with paramiko or Fabric for bench/sshd-cost.ts. Run with Debian's
# /usr/bin/python3 (python3-fabric). argv: HOST COUNT KEY_FILE KNOWN_HOSTS paramiko|fabric
# Each connection verifies the host key (known_hosts + RejectPolicy), runs `uptime` and closes.
# Prints one JSON line: {"ok": connections that printed a load average}.
import json
import sys

import paramiko
from fabric import Connection

host, count, key_file, known_hosts, kind = sys.argv[1:6]
ok = 0
for _ in range(int(count)):
    if kind == "fabric":
        conn = Connection(host, user="root", connect_kwargs={"key_filename": key_file})
        conn.client.load_host_keys(known_hosts)
        conn.client.set_missing_host_key_policy(paramiko.RejectPolicy())
        ok += "load average" in conn.run("uptime", hide=True).stdout
        conn.close()
    else:
        client = paramiko.SSHClient()
        client.load_host_keys(known_hosts)
        client.set_missing_host_key_policy(paramiko.RejectPolicy())
        client.connect(host, username="root", key_filename=key_file, look_for_keys=False, allow_agent=False)
        _, out, _ = client.exec_command("uptime")
        ok += "load average" in out.read().decode()
        client.close()
print(json.dumps({"ok": ok}))
