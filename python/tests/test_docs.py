"""docs/python.md stays true: its Python examples run, as written, against a real broker
(the demo PKI's path and the broker's endpoint replaced by the test's own)."""
from __future__ import annotations

import re

import pytest

from brokers import SOURCE

DOC = (SOURCE / "docs" / "python.md").read_text()
EXAMPLES = re.findall(r"```python\n(.*?)```", DOC, flags=re.S)


def test_the_page_has_its_examples():
    assert len(EXAMPLES) == 2
    assert all('"certs/demo"' in e and '"tcp://127.0.0.1:7801"' in e for e in EXAMPLES)


@pytest.mark.parametrize("index", range(len(EXAMPLES)))
def test_example_runs(index, broker, capsys):
    code = EXAMPLES[index].replace('"certs/demo"', repr(str(broker.pki))).replace(
        '"tcp://127.0.0.1:7801"', repr(broker.endpoint))
    exec(compile(code, f"docs/python.md example {index + 1}", "exec"), {})
    if index == 0:
        assert capsys.readouterr().out == "[('withheld', None), ('opened', '1.2 t seized in Cucuta')]\n"
