# Command agent of the storage-host VM: PID 1 after bootlun-init. Speaks JSON lines on the
# virtio-serial port "org.bootlun.agent" (the host side is qemu's unix socket):
#   request  {"id": N, "argv": [...], "stdin": "<base64>", "timeout_ms": N}
#            {"id": N, "op": "ping"} | {"id": N, "op": "poweroff"}
#   response {"id": N, "code": N, "stdout": "<base64>", "stderr": "<base64>", "duration_ms": N}
#            or {"id": N, "error": "spawn"|"timeout"|"bad-request", "message": "..."}
# argv is executed as given (no shell); stdin carries secrets, argv never does. Commands
# run one at a time, as on a real storage host where targetcli must not run concurrently.
import base64
import ctypes
import glob
import json
import os
import subprocess
import sys
import threading
import time

PORT_NAME = "org.bootlun.agent"
BOOT_ID = open("/proc/sys/kernel/random/boot_id").read().strip()
exec_lock = threading.Lock()
write_lock = threading.Lock()


def find_port():
    for name_file in glob.glob("/sys/class/virtio-ports/*/name"):
        with open(name_file) as handle:
            if handle.read().strip() == PORT_NAME:
                return "/dev/" + name_file.split("/")[-2]
    return None


def send(fd, message):
    data = (json.dumps(message) + "\n").encode()
    with write_lock:
        while data:
            try:
                written = os.write(fd, data)
            except (BrokenPipeError, OSError):
                return  # host side not connected: the reply is lost, the host times out
            data = data[written:]


def b64(data):
    return base64.b64encode(data).decode()


def run(request):
    argv = request.get("argv")
    if not isinstance(argv, list) or not argv or not all(isinstance(a, str) for a in argv):
        return {"error": "bad-request", "message": "argv must be a non-empty list of strings"}
    stdin = base64.b64decode(request.get("stdin") or "")
    timeout = max(1, int(request.get("timeout_ms") or 60000)) / 1000
    with exec_lock:
        started = time.monotonic()
        try:
            child = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd="/root")
        except OSError as err:
            return {"error": "spawn", "message": f"{argv[0]}: {err.strerror}"}
        try:
            out, err = child.communicate(stdin, timeout=timeout)
        except subprocess.TimeoutExpired:
            child.kill()
            out, err = child.communicate()
            return {"error": "timeout", "message": f"timed out after {int(timeout * 1000)} ms", "stderr": b64(err)}
        return {
            "code": child.returncode if child.returncode >= 0 else 128 - child.returncode,
            "stdout": b64(out),
            "stderr": b64(err),
            "duration_ms": int((time.monotonic() - started) * 1000),
        }


def poweroff():
    with exec_lock:  # let a running command finish first
        os.sync()
        libc = ctypes.CDLL(None, use_errno=True)
        libc.reboot(0x4321FEDC)  # LINUX_REBOOT_CMD_POWER_OFF


def handle(fd, line):
    try:
        request = json.loads(line)
        rid = request["id"]
    except (ValueError, KeyError, TypeError):
        return  # noise from before the host connected
    op = request.get("op", "exec")
    if op == "ping":
        send(fd, {"id": rid, "pong": True, "boot_id": BOOT_ID})
    elif op == "poweroff":
        send(fd, {"id": rid, "code": 0, "stdout": "", "stderr": ""})
        poweroff()
    else:
        try:
            reply = run(request)
        except Exception as err:  # never let one request kill PID 1
            reply = {"error": "bad-request", "message": repr(err)}
        reply["id"] = rid
        send(fd, reply)


def main():
    os.environ.update({"HOME": "/root", "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C.UTF-8"})
    path = None
    while path is None:
        path = find_port()
        if path is None:
            time.sleep(0.1)
    fd = os.open(path, os.O_RDWR)
    print(f"bootlun-agent: listening on {path}", file=sys.stderr, flush=True)
    buffer = b""
    while True:
        try:
            chunk = os.read(fd, 65536)
        except OSError:
            chunk = b""
        if not chunk:
            time.sleep(0.1)  # host side not connected yet
            continue
        buffer += chunk
        while b"\n" in buffer:
            line, buffer = buffer.split(b"\n", 1)
            if line.strip():
                threading.Thread(target=handle, args=(fd, line), daemon=True).start()


while True:  # PID 1 must not exit
    try:
        main()
    except Exception as err:
        print(f"bootlun-agent: {err!r}", file=sys.stderr, flush=True)
        time.sleep(1)
