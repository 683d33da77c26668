#!/usr/bin/python3
"""Run README.md as a newcomer would: every ```sh block, in order, in one shell.

The repository is copied to a scratch folder (a fresh clone: tracked files
only), HOME and XDG_STATE_HOME point into it, and the blocks run one after the
other in a single bash, so variables set in one block (TOKEN, REQ) serve the
next as they would for a reader following along. A block that fails stops the
run and is printed with its output. Servers a block starts with `&` are killed
at the end. Blocks in other fences (```console, ```text, ```json) are
transcripts or formats, not commands, and are not run.

One line is not run: `go test ./...` in the set-up block, because CI has just
run it.
"""

import os
import re
import shutil
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SKIP = {"go test ./..."}


def blocks(text):
    for m in re.finditer(r"^```sh\n(.*?)^```$", text, re.S | re.M):
        line = text.count("\n", 0, m.start()) + 1
        yield line, m.group(1)


def strip_comment(line):
    # A trailing "  # comment" explains the line; the command is what precedes it.
    return re.sub(r"\s+#\s.*$", "", line).strip()


def main():
    with open(os.path.join(ROOT, "README.md")) as f:
        readme = f.read()
    work = tempfile.mkdtemp(prefix="readme-")
    repo = os.path.join(work, "ucmsh")
    files = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, check=True,
                           capture_output=True).stdout.decode().split("\0")
    for rel in filter(None, files):
        src, dst = os.path.join(ROOT, rel), os.path.join(repo, rel)
        if not os.path.lexists(src):
            continue  # deleted in the work tree, not yet committed
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        shutil.copy2(src, dst, follow_symlinks=False)
    home = os.path.join(work, "home")
    os.makedirs(home)
    env = dict(os.environ, HOME=home, XDG_STATE_HOME=os.path.join(home, "state"))
    # The module and build caches are the machine's, not the reader's state.
    for var in ("GOMODCACHE", "GOCACHE"):
        env[var] = subprocess.run(["go", "env", var], capture_output=True, text=True).stdout.strip()
    env.pop("CDPATH", None)

    script = ["set -euo pipefail", "trap 'kill $(jobs -p) 2>/dev/null || true' EXIT"]
    for n, (line, body) in enumerate(blocks(readme)):
        kept = [l for l in body.splitlines() if strip_comment(l) not in SKIP]
        script.append(f"echo '== README.md:{line}' >&2")
        script.extend(kept)
        # Let a server started with & come up before the next block uses it.
        if any(l.rstrip().endswith("&") for l in kept):
            script.append("sleep 1")
    path = os.path.join(work, "readme.sh")
    with open(path, "w") as f:
        f.write("\n".join(script) + "\n")
    try:
        r = subprocess.run(["bash", path], cwd=repo, env=env, stdin=subprocess.DEVNULL,
                           capture_output=True, text=True, timeout=900)
    except subprocess.TimeoutExpired as e:
        print("README blocks did not finish in 900 s", file=sys.stderr)
        print((e.stderr or b"")[-4000:], file=sys.stderr)
        return 1
    if r.returncode != 0:
        print(r.stdout[-6000:])
        print(r.stderr[-6000:], file=sys.stderr)
        print(f"a README block failed (exit {r.returncode}); the last '== README.md:N' line above names it",
              file=sys.stderr)
        return 1
    count = len(list(blocks(readme)))
    print(f"README: {count} sh blocks ran as written")
    shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
