"""The warm process (ganedu.warm): real servers, real forks, real signals, another user for real.

One warm process is started for the module by a cold ``train`` (as a learner's first command
starts it) and serves the tests in turn; each test says what a learner would see if it broke.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from ganedu import warm
from ganedu.__main__ import WARM_COMMANDS
from tests import real_faults

ROOT = Path(__file__).resolve().parents[1]
SERVED = "import sys; from ganedu import warm; print('served:', warm.served(sys.argv[1:], warm.key()))"


def run(args, env, cwd, prefix=(), **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([*prefix, sys.executable, *args], env=env, cwd=cwd, capture_output=True,
                          text=True, timeout=300, **kwargs)  # fmt: skip


def living(env) -> list[int]:
    """The pids ``python -m ganedu warm status`` lists."""
    out = run(["-m", "ganedu", "warm", "status"], env, ROOT).stdout
    return [int(line.split()[1].rstrip(":")) for line in out.splitlines() if line.startswith("pid ")]


def wait_for(condition, seconds: float, what: str):
    """:func:`real_faults.wait_for`, polling every 0.2 s: some conditions start a process."""
    return real_faults.wait_for(condition, seconds, every=0.2, what=what)


def listening(top: Path) -> bool:
    """Whether a warm process accepts connections on a socket under ``top``'s cache."""
    for path in (top / "cache" / "ganedu" / "warm").glob("*.sock"):
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
            if probe.connect_ex(str(path)) == 0:
                return True
    return False


def flat(tree, prefix: str = "") -> dict:
    """A checkpoint's leaves by their path (``G/main.0.weight``, ``step``, ...)."""
    if isinstance(tree, dict):
        return {k: v for key, sub in tree.items() for k, v in flat(sub, f"{prefix}{key}/").items()}
    if isinstance(tree, (list, tuple)):
        return {k: v for i, sub in enumerate(tree) for k, v in flat(sub, f"{prefix}{i}/").items()}
    return {prefix.rstrip("/"): tree}


def children(pid: int) -> list[int]:
    with open(f"/proc/{pid}/task/{pid}/children") as f:
        return [int(p) for p in f.read().split()]


@pytest.fixture(scope="module")
def server():
    """A warm process, started as a learner's first command starts it: after a cold ``train``.

    Its cache folder is reachable by other users (mode 755 down to ``ganedu/``) so that
    :func:`test_another_users_connection_is_refused_by_the_warm_process` can knock for real;
    ``ganedu/warm`` itself is private, as the warm process makes it.
    """
    top = Path(tempfile.mkdtemp(prefix="ganedu-warm-", dir="/tmp"))
    top.chmod(0o755)
    (top / "cache" / "ganedu").mkdir(parents=True, mode=0o755)
    env = {**os.environ, "GANEDU_WARM": "1", "XDG_CACHE_HOME": str(top / "cache"), "GANEDU_WARM_MINUTES": "5"}
    env.pop("GANEDU_DATA", None)
    cold = run(["-m", "ganedu", "train", "dcgan", "--steps", "2", "--out", "run"], env, top)
    assert cold.returncode == 0, cold.stderr
    pids = wait_for(lambda: living(env), 60, "the warm process the cold train starts")
    wait_for(lambda: listening(top), 180, "it to listen")
    yield {"env": env, "top": top, "run": top / "run", "pid": pids[0]}
    run(["-m", "ganedu", "warm", "stop"], env, ROOT)
    shutil.rmtree(top, ignore_errors=True)


def test_a_command_is_served_warm_and_draws_what_a_fresh_process_draws(server):
    env, top = server["env"], server["top"]
    warm_run = run(["-c", SERVED, "sample", "run", "-n", "32", "--out", "warm.npz"], env, top)
    assert "served: 0" in warm_run.stdout, warm_run.stderr  # None would mean it ran nowhere
    assert "wrote 32 samples" in warm_run.stdout  # the child wrote to the client's own stdout
    cold = run(
        ["-m", "ganedu", "sample", "run", "-n", "32", "--out", "cold.npz"], {**env, "GANEDU_WARM": "0"}, top
    )
    assert cold.returncode == 0, cold.stderr
    with np.load(top / "warm.npz") as a, np.load(top / "cold.npz") as b:
        assert np.array_equal(a["images"], b["images"])


def test_training_in_the_warm_process_is_bit_for_bit_a_fresh_process(server):
    env, top = server["env"], server["top"]
    args = ["-m", "ganedu", "train", "dcgan", "--steps", "3", "--seed", "5", "--checkpoint-every", "3"]
    warm_run = run([*args, "--out", "t-warm"], env, top)
    cold = run([*args, "--out", "t-cold"], {**env, "GANEDU_WARM": "0"}, top)
    assert warm_run.returncode == cold.returncode == 0, warm_run.stderr + cold.stderr
    a = torch.load(top / "t-warm" / "ckpt.pt", weights_only=True)
    b = torch.load(top / "t-cold" / "ckpt.pt", weights_only=True)
    assert flat(a).keys() == flat(b).keys()
    for key, value in flat(a).items():
        same = torch.equal(value, flat(b)[key]) if torch.is_tensor(value) else value == flat(b)[key]
        assert same, f"{key} differs between the warm and the cold run"


def test_the_clients_folder_umask_errors_and_exit_status_are_the_commands(server):
    env, top = server["env"], server["top"]
    (top / "elsewhere").mkdir()
    shell = f'umask 077; exec {sys.executable} -c "{SERVED}" sample ../run -n 8 --out rel.npz'
    done = subprocess.run(["sh", "-c", shell], env=env, cwd=top / "elsewhere", capture_output=True, text=True)
    assert "served: 0" in done.stdout, done.stderr
    written = top / "elsewhere" / "rel.npz"  # relative to the client's folder, not the warm process's /
    assert written.is_file() and written.stat().st_mode & 0o777 == 0o600
    missing = run(["-c", SERVED, "sample", "nowhere", "-n", "8", "--out", "x.npz"], env, top)
    assert "served: 1" in missing.stdout
    assert missing.stderr.startswith("ganedu: error: no run directory at nowhere")
    bad = run(["-c", SERVED, "sample", "run", "-n", "many", "--out", "x.npz"], env, top)
    assert "served: 2" in bad.stdout and "invalid int value: 'many'" in bad.stderr  # argparse's own exit


def test_ctrl_c_reaches_the_warm_child_and_a_killed_client_takes_it_along(server):
    env, top, pid = server["env"], server["top"], server["pid"]
    argv = [
        sys.executable,
        "-m",
        "ganedu",
        "train",
        "dcgan",
        "--steps",
        "100000",
        "--checkpoint-every",
        "100000",
    ]
    client = subprocess.Popen([*argv, "--out", "long"], env=env, cwd=top, stderr=subprocess.PIPE, text=True)
    child = wait_for(lambda: children(pid), 60, "the warm process to fork the command")[0]
    wait_for(lambda: (top / "long" / "config.json").exists(), 60, "training to start")
    client.send_signal(signal.SIGINT)
    assert client.wait(60) == 130
    assert "ganedu: interrupted" in client.stderr.read()
    wait_for(lambda: not os.path.exists(f"/proc/{child}"), 30, "the interrupted child to end")

    client = subprocess.Popen([*argv, "--out", "killed"], env=env, cwd=top, stderr=subprocess.DEVNULL)
    child = wait_for(lambda: children(pid), 60, "the warm process to fork the command")[0]
    client.kill()
    client.wait(30)
    wait_for(lambda: not os.path.exists(f"/proc/{child}"), 30, "the child of a SIGKILLed client to end")


def test_another_users_connection_is_refused_by_the_warm_process(server):
    """Mode 700 on the folder stops another user first; the warm process's own check stops them when the
    folder is opened up (by mistake, say), before any command runs under the owner's name."""
    if os.geteuid() != 0 or shutil.which("setpriv") is None or not os.access("/usr/bin/python3", os.X_OK):
        pytest.skip("becoming another user needs root, setpriv and a system python3")
    top = server["top"]
    socket_path = str(next((top / "cache" / "ganedu" / "warm").glob("*.sock")))
    target = top / "theirs.npz"
    knock = f"""
import json, socket, struct, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
try:
    s.connect({socket_path!r})
except PermissionError:
    sys.exit("refused at the folder")
req = json.dumps({{"argv": ["x", "sample", {str(server["run"])!r}, "-n", "4", "--out", {str(target)!r}],
                  "cwd": "/", "env": {{}}, "path": sys.path, "umask": 0}}).encode()
try:
    socket.send_fds(s, [struct.pack("!Q", len(req))], [0, 1, 2])
    s.sendall(req)
    print("answer:", s.recv(5) or "closed")
except ConnectionError:
    print("answer: closed")
"""
    nobody = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--"]
    first = subprocess.run(
        [*nobody, "/usr/bin/python3", "-c", knock], capture_output=True, text=True, cwd="/"
    )
    assert "refused at the folder" in first.stderr
    folder = top / "cache" / "ganedu" / "warm"
    folder.chmod(0o711)
    os.chmod(socket_path, 0o777)
    try:
        second = subprocess.run(
            [*nobody, "/usr/bin/python3", "-c", knock], capture_output=True, text=True, cwd="/"
        )
    finally:
        folder.chmod(0o700)
    assert "answer: closed" in second.stdout, second.stderr  # closed without forking
    time.sleep(1)
    assert not target.exists()


def test_a_connection_that_says_nothing_does_not_hold_up_the_next_command(server):
    env, top = server["env"], server["top"]
    silent = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    silent.connect(str(next((top / "cache" / "ganedu" / "warm").glob("*.sock"))))
    try:
        after = run(["-c", SERVED, "sample", "run", "-n", "8", "--out", "after.npz"], env, top)
    finally:
        silent.close()
    assert "served: 0" in after.stdout, after.stderr  # served once the silent one timed out


def test_a_warm_process_killed_outright_is_replaced(server):
    env, top, pid = server["env"], server["top"], server["pid"]
    sock = next((top / "cache" / "ganedu" / "warm").glob("*.sock"))
    os.kill(pid, signal.SIGKILL)  # its socket file stays behind
    wait_for(lambda: not os.path.exists(f"/proc/{pid}") or open(f"/proc/{pid}/stat").read().split()[2] == "Z", 30, "the kill")  # fmt: skip
    left = run(["-c", SERVED, "sample", "run", "-n", "8", "--out", "s.npz"], env, top)
    assert sock.exists() and "served: None" in left.stdout  # nothing ran there: the caller runs it itself
    cold = run(["-m", "ganedu", "sample", "run", "-n", "8", "--out", "s.npz"], env, top)
    assert cold.returncode == 0, cold.stderr
    fresh = wait_for(lambda: [p for p in living(env) if p != pid], 60, "a new warm process")
    wait_for(lambda: listening(top), 180, "it to listen")
    server["pid"] = fresh[0]
    again = run(["-c", SERVED, "sample", "run", "-n", "8", "--out", "s2.npz"], env, top)
    assert "served: 0" in again.stdout, again.stderr


def test_an_idle_warm_process_ends_itself_and_removes_its_socket(tmp_path):
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path), "GANEDU_WARM_MINUTES": "0.02"}  # 1.2 s
    process = subprocess.Popen([sys.executable, "-m", "ganedu.warm", "serve", "idle"], env=env, cwd="/")
    sock = tmp_path / "ganedu" / "warm" / "idle.sock"
    wait_for(sock.exists, 180, "the warm process to listen")
    assert process.wait(60) == 0
    assert not sock.exists()
    stop = run(["-m", "ganedu", "warm", "status"], env, ROOT)
    assert "no warm process" in stop.stdout


def test_the_name_changes_with_what_a_warm_process_holds(monkeypatch, tmp_path):
    """An edited ganedu file, another environment or a pip install means another warm process;
    the working folder and a terminal's own variables do not."""
    package = tmp_path / "ganedu"
    shutil.copytree(Path(warm.__file__).parent, package, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(warm, "__file__", str(package / "warm.py"))
    first = warm.key()
    monkeypatch.setenv("PWD", "/somewhere/else")
    monkeypatch.setenv("SHLVL", "7")
    assert warm.key() == first
    os.utime(package / "losses.py", ns=(1, 1))
    edited = warm.key()
    assert edited != first
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    assert warm.key() != edited
    monkeypatch.delenv("OMP_NUM_THREADS")
    site = tmp_path / "site"
    site.mkdir()
    monkeypatch.setattr(sys, "path", [*sys.path, str(site)])
    before = warm.key()
    (site / "newpackage-1.0.dist-info").mkdir()
    os.utime(site, ns=(10**18, 10**18))
    assert warm.key() != before


@pytest.mark.parametrize(
    "argv, env, served",
    [
        (["sample", "run", "--out", "x.npz"], {}, True),
        (["train", "dcgan", "--steps", "1"], {}, True),
        (["options"], {}, False),  # imports no PyTorch: nothing to gain
        (["train", "--help"], {}, False),
        (["grading", "grade", "ex01"], {}, False),  # grading runs its own processes
        (["sample", "run", "--out", "x.npz"], {"GANEDU_WARM": "0"}, False),
        (["train", "dcgan", "--steps", "1"], {"LOCAL_RANK": "0", "WORLD_SIZE": "2"}, False),  # torchrun
    ],
)
def test_which_commands_go_to_a_warm_process(monkeypatch, argv, env, served):
    monkeypatch.delenv("GANEDU_WARM", raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert (argv[0] in WARM_COMMANDS and warm.wanted(argv)) is served


def test_a_traced_or_profiled_python_runs_the_command_itself(monkeypatch):
    monkeypatch.delenv("GANEDU_WARM", raising=False)
    assert warm.wanted(["sample"])
    monkeypatch.setattr(sys, "_xoptions", {"importtime": True})  # python -X importtime
    assert not warm.wanted(["sample"])
    monkeypatch.setattr(sys, "_xoptions", {})
    sys.setprofile(lambda *a: None)
    try:
        assert not warm.wanted(["sample"])
    finally:
        sys.setprofile(None)


def test_the_test_suite_runs_every_other_command_cold():
    assert os.environ.get("GANEDU_WARM") == "0"  # tests/conftest.py: no test leaves a warm process behind
