"""A stand-in for vLLM's OpenAI server: parses its flags, serves /health, /metrics and chat completions.

Run as the lane venv's ``python`` (``python fake_vllm.py -m vllm.entrypoints.openai.api_server --port N ...``);
``python fake_vllm.py -c CODE`` runs CODE with the real python (the bench's transformers baseline).
Behaviour from the environment:
  VLLM_FAKE_MODE      ok (default) | exit (print lines, exit 3) | ignore-term (SIGTERM is ignored)
  VLLM_FAKE_CHILD     1: start a child process (like vLLM's engine core) that sleeps in the same group
  VLLM_FAKE_DELAY     seconds before listening
  VLLM_FAKE_ARGV      a file to write the argv into (JSON)
  VLLM_FAKE_CHILD_PID a file to write the child's pid into
  VLLM_FAKE_METRICS   a file whose text /metrics serves
  VLLM_FAKE_ENV       a file to write the environment into (JSON)
(VLLM_ names: the lane passes only vLLM's, Hugging Face's and the system's variables to its server.)
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

argv = sys.argv[1:]
if os.environ.get("VLLM_FAKE_ARGV"):
    with open(os.environ["VLLM_FAKE_ARGV"], "w", encoding="utf-8") as f:
        json.dump(argv, f)
if os.environ.get("VLLM_FAKE_ENV"):
    with open(os.environ["VLLM_FAKE_ENV"], "w", encoding="utf-8") as f:
        json.dump(dict(os.environ), f)
if argv[:1] == ["-c"]:  # the venv's python also runs scripts (the bench's baseline): as the real python does
    os.execv(sys.executable, [sys.executable, *argv])
mode = os.environ.get("VLLM_FAKE_MODE", "ok")
print("fake vllm: starting", flush=True)
if mode == "exit":
    print("ValueError: unrecognized arguments: --bogus", flush=True)
    print("fake vllm: engine failed to start", flush=True)
    sys.exit(3)
if mode == "ignore-term":
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
if os.environ.get("VLLM_FAKE_CHILD") == "1":
    child = subprocess.Popen(
        [sys.executable, "-c", "import signal, time\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\ntime.sleep(600)"]
    )
    if os.environ.get("VLLM_FAKE_CHILD_PID"):
        with open(os.environ["VLLM_FAKE_CHILD_PID"], "w", encoding="utf-8") as f:
            f.write(str(child.pid))
time.sleep(float(os.environ.get("VLLM_FAKE_DELAY", "0")))
port = int(argv[argv.index("--port") + 1])
host = argv[argv.index("--host") + 1]
served = argv[argv.index("--served-model-name") + 1]
LABELS = f'{{engine="0",model_name="{served}"}}'
METRICS = (
    f"# TYPE vllm:num_requests_waiting gauge\nvllm:num_requests_waiting{LABELS} 0.0\n"
    f"# TYPE vllm:kv_cache_usage_perc gauge\nvllm:kv_cache_usage_perc{LABELS} 0.25\n"
)


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass

    def _send(self, code: int, body: bytes, kind: str = "application/json") -> None:
        self.send_response(code)
        self.send_header("content-type", kind)
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        if self.path == "/health":
            self._send(200, b"")
        elif self.path == "/metrics":
            path = os.environ.get("VLLM_FAKE_METRICS")
            text = Path(path).read_text(encoding="utf-8") if path else METRICS
            self._send(200, text.encode(), "text/plain; version=0.0.4")
        else:
            self._send(404, b"{}")

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["content-length"])))
        n = int(body.get("max_tokens", 8))
        answer = {
            "id": "x",
            "object": "chat.completion",
            "created": 0,
            "model": served,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": "Paris."}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 5, "completion_tokens": n, "total_tokens": 5 + n},
        }
        self._send(200, json.dumps(answer).encode())


server = ThreadingHTTPServer((host, port), Handler)
print(f"fake vllm: listening on {host}:{port}", flush=True)
server.serve_forever()
