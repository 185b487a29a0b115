"""mobilenet_v2 (TRANSPOSE, PAD, MEAN on top of the convolution ops): compiles
for the generic target and matches TFLite Micro bit for bit on one seeded
input (300M MACs: one input keeps the run short under the sanitizers)."""
import numpy as np

MODEL = "tflm/mobilenet_v2_quantized_1x3x224x224.tflite"


def test_mobilenet_v2_matches_tflm(shared_models, tmp_path):
    import tinyedge
    from tinyedge.verify import verify

    data = (shared_models / MODEL).read_bytes()
    compiled = tinyedge.compile(data, tmp_path / "mnv2", target="generic")
    ops = {layer["op"] for layer in compiled.report["layers"]}
    assert {"TRANSPOSE", "PAD", "MEAN"} <= ops
    assert verify(compiled, data, cases=1, seed=3) == []
    assert compiled.report["arena_bytes"] < compiled.report["plain_schedule_bytes"]
    assert np.prod(compiled.outputs[0]["shape"]) == 1000
