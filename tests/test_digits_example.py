"""The digits example in its fast form: train, quantize, compile, and check
the generated C against TFLite Micro on every held-out image."""
import importlib.util
import re

import pytest

from tinyedge import ROOT

pytest.importorskip("tensorflow")
pytest.importorskip("sklearn")


def test_digits_fast(tmp_path, capsys):
    spec = importlib.util.spec_from_file_location("digits_example",
                                                  ROOT / "examples" / "digits" / "digits.py")
    digits = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(digits)
    assert digits.main(["--fast", "--out", str(tmp_path / "digits")]) == 0
    out = capsys.readouterr().out
    accuracy = {name: float(value) for name, value in
                re.findall(r"^(float|TFLite int8|tinyedge C) accuracy\s+([\d.]+)%", out, re.M)}
    assert set(accuracy) == {"float", "TFLite int8", "tinyedge C"}, out
    assert accuracy["tinyedge C"] == accuracy["TFLite int8"]
    assert accuracy["TFLite int8"] >= accuracy["float"] - 1.0
    assert accuracy["float"] > 85.0
    assert "C outputs equal TFLite Micro's on all 360 held-out images" in out
