"""The local launcher with real processes: TF_CONFIG per task, prefixed output, failures,
timeouts, Ctrl-C, and no process (task or a task's child) left behind."""
import io
import json
import os
import queue
import signal
import subprocess
import sys
import textwrap
import threading
import time

import pytest

from tensorflux.distributed import launch as launch_lib

pytestmark = pytest.mark.timeout(60)

# One script for every test: what a task does depends on the scenario (argv[1]) and its task.
TASK_SCRIPT = textwrap.dedent("""
    import json, os, subprocess, sys, time
    job = os.environ["TENSORFLUX_JOB_NAME"]
    index = int(os.environ["TENSORFLUX_TASK_INDEX"])
    scenario, sync_dir = sys.argv[1], sys.argv[2]
    num_ps = len(json.loads(os.environ["TF_CONFIG"])["cluster"].get("ps", []))

    def ps_ready():  # a ps says it has printed all it will print
        open(os.path.join(sync_dir, f"ps{index}"), "w").close()
        time.sleep(60)  # a ps never exits by itself (server.join())

    def wait_for_ps():  # the run ends when the workers exit: let every ps print first
        deadline = time.time() + 30
        while len(os.listdir(sync_dir)) < num_ps and time.time() < deadline:
            time.sleep(0.01)

    print("pid", os.getpid(), flush=True)
    if scenario == "report":
        print("config", os.environ["TF_CONFIG"], " ".join(sys.argv[3:]))
        print("to stderr", file=sys.stderr)
        print("no newline at the end", end="")
        sys.stdout.flush()
        ps_ready() if job == "ps" else wait_for_ps()
    elif scenario == "fail":
        if job == "worker" and index == 1:
            time.sleep(0.2)
            sys.exit(3)
        time.sleep(60)
    elif scenario == "grandchild":
        child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
        print("grandchild", child.pid, flush=True)
        ps_ready() if job == "ps" else wait_for_ps()
    elif scenario == "sleep":
        time.sleep(60)
""")


@pytest.fixture
def script(tmp_path):
    """The task script; call it as [script, scenario, sync_dir, ARGS...]."""
    path = tmp_path / "task.py"
    path.write_text(TASK_SCRIPT)
    return str(path)


@pytest.fixture
def sync_dir(tmp_path):
    path = tmp_path / "sync"
    path.mkdir()
    return str(path)


def _alive(pid):
    """Whether `pid` runs. A killed process whose parent has not reaped it yet is a zombie:
    os.kill(pid, 0) still succeeds for it, so /proc tells the two apart."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def _assert_all_dead(pids, within=5.0):
    deadline = time.monotonic() + within
    while any(_alive(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not [pid for pid in pids if _alive(pid)], f"leaked processes among {pids}"


def _lines(stream):
    return stream.getvalue().decode().splitlines()


def _run(script_args, num_ps, num_workers, timeout=None, **kwargs):
    """Runs a Launcher in this thread; returns (exit code, task pids, stdout, stderr)."""
    cluster = launch_lib.make_cluster(num_ps, num_workers, **kwargs)
    out, err = io.BytesIO(), io.BytesIO()
    launcher = launch_lib.Launcher(script_args, cluster, grace_period=2.0, stdout=out,
                                   stderr=err)
    try:
        launcher.start()
        code = launcher.wait(timeout)
    finally:
        launcher.stop()
    return code, launcher.pids, _lines(out), _lines(err)


def test_each_task_gets_its_tf_config_and_prefixed_output(script, sync_dir):
    code, pids, out, err = _run([script, "report", sync_dir, "--lr", "0.1"], 1, 2, chief=True)
    assert code == 0
    assert len(pids) == 4
    _assert_all_dead(pids)  # the ps was stopped once the workers and the chief were done
    configs = {}
    for line in out:
        prefix, _, rest = line.partition("] ")
        if rest.startswith("config "):
            text, _, args = rest[len("config "):].rpartition(" --lr")
            configs[prefix + "]"] = json.loads(text)
            assert args == " 0.1"
    assert sorted(configs) == ["[chief/0]", "[ps/0]", "[worker/0]", "[worker/1]"]
    cluster = configs["[ps/0]"]["cluster"]
    assert sorted(cluster) == ["chief", "ps", "worker"] and len(cluster["worker"]) == 2
    addresses = [a for job in cluster.values() for a in job]
    assert len(set(addresses)) == 4 and all(a.startswith("127.0.0.1:") for a in addresses)
    for name, config in configs.items():
        job_name, index = name[1:-1].split("/")
        assert config["cluster"] == cluster
        assert config["task"] == {"type": job_name, "index": int(index)}
        assert config["rpc_layer"] == "grpc"
    for name in configs:
        assert f"{name} to stderr" in err
        assert f"{name} no newline at the end" in out
    assert any(line.startswith("[launch] cluster {") for line in err)


def test_a_failing_worker_stops_the_others_and_its_code_propagates(script, sync_dir):
    start = time.monotonic()
    code, pids, out, err = _run([script, "fail", sync_dir], 1, 3)
    assert code == 3
    assert time.monotonic() - start < 15  # not the 60 s the other tasks would sleep
    _assert_all_dead(pids)
    assert "[launch] worker/1 exited with code 3; stopping the other tasks" in err


def test_processes_started_by_tasks_are_stopped_too(script, sync_dir):
    code, pids, out, _ = _run([script, "grandchild", sync_dir], 1, 1, port_base=30000)
    assert code == 0
    grandchildren = [int(line.split()[-1]) for line in out if " grandchild " in line]
    assert len(grandchildren) == 2
    _assert_all_dead(pids + grandchildren)


def test_timeout_stops_everything_with_code_124(script, sync_dir):
    code, pids, _, err = _run([script, "sleep", sync_dir], 1, 1, timeout=0.5)
    assert code == launch_lib.EXIT_TIMEOUT == 124
    _assert_all_dead(pids)
    assert "[launch] timed out; stopping all tasks" in err


def test_launch_function_runs_a_whole_cluster(script, sync_dir, capfdbinary):
    handlers = signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)
    assert launch_lib.launch([script, "report", sync_dir], num_ps=2, num_workers=1) == 0
    out = capfdbinary.readouterr().out.decode()
    assert "[ps/1] config " in out and "[worker/0] config " in out
    assert (signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)) == handlers


@pytest.mark.parametrize("signum, code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_ctrl_c_or_sigterm_to_the_launcher_stops_every_task(script, sync_dir, signum, code):
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    cmd = [sys.executable, "-m", "tensorflux.distributed.launch", "--ps", "1", "--workers",
           "2", "--grace-period", "2", "--", script, "sleep", sync_dir]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env)
    lines = queue.Queue()
    reader = threading.Thread(target=lambda: [lines.put(line) for line in proc.stdout])
    reader.start()
    try:
        pids, deadline = [], time.monotonic() + 30
        while len(pids) < 3 and time.monotonic() < deadline:
            try:
                line = lines.get(timeout=0.5).decode()
            except queue.Empty:
                continue
            assert line.startswith(("[ps/0] pid ", "[worker/0] pid ", "[worker/1] pid "))
            pids.append(int(line.split()[-1]))
        assert len(pids) == 3, "the tasks did not start"
        proc.send_signal(signum)
        assert proc.wait(timeout=20) == code
        _assert_all_dead(pids)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        reader.join(timeout=5)


def test_command_line_arguments():
    options, script_args = launch_lib._parse_args(
        ["--ps", "2", "--workers", "3", "--chief", "--", "train.py", "--ps", "9"])
    assert (options.ps, options.workers, options.chief) == (2, 3, True)
    assert script_args == ["train.py", "--ps", "9"]
    options, script_args = launch_lib._parse_args(["--timeout", "5", "train.py", "--x", "1"])
    assert options.timeout == 5.0 and script_args == ["train.py", "--x", "1"]
    with pytest.raises(ValueError, match="needs a worker or a chief"):
        launch_lib.launch(["train.py"], num_ps=1, num_workers=0)


def test_free_ports_are_distinct_and_bindable():
    import socket
    ports = launch_lib.free_ports(5)
    assert len(set(ports)) == 5
    for port in ports:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", port))
