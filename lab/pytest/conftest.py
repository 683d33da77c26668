"""A pytest fixture that runs a ucmsh lab for the tests of a session.

    UCMSH=bin/ucmsh /usr/bin/python3 -m pytest lab/pytest

`lab` starts `ucmsh lab up --clusters 3 --subscribers 2` in a temporary
folder with a password for admin, waits for --ready-file (written once every
listener accepts), and stops the lab with `ucmsh lab down` at the end. Tests
get the inventory (the ready file's JSON) and log in with paramiko.
"""

import json
import os
import subprocess
import tempfile
import time

import paramiko
import pytest

PASSWORD = "pytest correct horse"


class Lab:
    def __init__(self, ucmsh, folder, inventory):
        self.ucmsh, self.dir, self.inventory = ucmsh, folder, inventory

    def nodes(self, role=None):
        return [n for n in self.inventory["nodes"] if role in (None, n["role"])]

    def ctl(self, *args):
        """Run a `ucmsh lab` subcommand against this lab."""
        return subprocess.run([self.ucmsh, "lab", *args, "--dir", self.dir],
                              check=True, capture_output=True, text=True).stdout

    def run(self, node, command):
        """Log in to a node as admin and run one command: (status, output)."""
        c = paramiko.SSHClient()
        c.set_missing_host_key_policy(paramiko.AutoAddPolicy())
        c.connect(node["address"], port=node["port"], username="admin", password=PASSWORD,
                  look_for_keys=False, allow_agent=False, timeout=30)
        try:
            _, out, _ = c.exec_command(command, timeout=60)
            text = out.read().decode()
            return out.channel.recv_exit_status(), text
        finally:
            c.close()


@pytest.fixture(scope="session")
def lab():
    ucmsh = os.environ.get("UCMSH", "ucmsh")
    work = tempfile.mkdtemp(prefix="ucmsh-lab-")
    pw, ready, folder = (os.path.join(work, n) for n in ("password", "ready.json", "lab"))
    with open(pw, "w") as f:
        f.write(PASSWORD + "\n")
    proc = subprocess.Popen([ucmsh, "lab", "up", "--clusters", "3", "--subscribers", "2",
                             "--first-port", "0", "--dir", folder,
                             "--password-file", pw, "--ready-file", ready],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = time.time() + 60
    while not os.path.exists(ready):
        if proc.poll() is not None or time.time() > deadline:
            proc.kill()
            pytest.fail("the lab did not start:\n" + proc.stdout.read())
        time.sleep(0.05)
    with open(ready) as f:
        yield Lab(ucmsh, folder, json.load(f))
    subprocess.run([ucmsh, "lab", "down", "--dir", folder], check=False)
    proc.wait(timeout=60)
