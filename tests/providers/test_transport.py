"""Reading streamed bodies line by line, as server-sent events split them, wherever the chunks are cut."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from maestro.providers.transport import lines


def read(chunks: list[bytes]) -> list[str]:
    async def body() -> AsyncIterator[bytes]:
        for chunk in chunks:
            yield chunk

    async def go() -> list[str]:
        return [line async for line in lines(httpx.Response(200, content=body()))]

    return asyncio.run(go())


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b"data: a\n\ndata: b\n\n", ["data: a", "", "data: b", ""]),
        (b"data: a\r\n\r\ndata: b\r\n\r\n", ["data: a", "", "data: b", ""]),
        (b"data: a\r\rdata: b\r\r", ["data: a", "", "data: b", ""]),
        (b"x\ny", ["x", "y"]),  # the last line needs no line break
        (b"x\r", ["x"]),
        (b"", []),
        ("data: caf\u00e9\n".encode(), ["data: caf\u00e9"]),
    ],
)
def test_lines_split_at_lf_crlf_and_cr(body: bytes, expected: list[str]) -> None:
    assert read([body]) == expected


def test_unicode_line_breaks_inside_an_event_do_not_split_it() -> None:
    data = json.dumps({"content": "one\u2028two\x85three"}, ensure_ascii=False)
    assert read([f"data: {data}\n\n".encode()]) == [f"data: {data}", ""]


@given(
    st.lists(st.sampled_from(["a", "\u00e9", "\u2603", "\n", "\r", "\r\n", ": x", "data: 1"]), max_size=12), st.data()
)
def test_where_the_chunks_are_cut_does_not_matter(parts: list[str], data: st.DataObject) -> None:
    body = "".join(parts).encode()
    cuts = sorted(data.draw(st.lists(st.integers(0, len(body)), max_size=5)))
    chunks = [body[i:j] for i, j in zip([0, *cuts], [*cuts, len(body)], strict=True)]
    assert read([c for c in chunks if c]) == read([body]) == _reference(body.decode())


def _reference(text: str) -> list[str]:
    out = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return out[:-1] if out[-1] == "" else out
