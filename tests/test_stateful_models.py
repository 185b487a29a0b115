"""End to end on the stateful models (SVDF, integer LSTM): compile, then run
a stream of invocations through the generated C and through one TFLite Micro
interpreter, state carried in both, comparing every invocation's output; the
shipped golden starts the stream. Because the final outputs of some models
saturate (keyword_scrambled's softmax), the same models are also compiled
with the stateful layers' outputs exposed as extra graph outputs."""
from __future__ import annotations

import flatbuffers
import numpy as np
import pytest
from tflite_micro.tensorflow.lite.micro.python import schema_py_generated as schema

import tinyedge
from tinyedge.verify import TflmStream, random_inputs

# model -> (random invocations after the golden, tensors to expose as outputs)
MODELS = {
    "keyword_scrambled": (12, [5, 13, 21, 29, 37, 42, 47, 53]),
    "mnist_lstm_int8": (4, [23, 26]),
    "micro_speech_lstm": (3, [23, 26]),
    "dtln_noise_suppression": (30, [34, 42, 44]),
}


def with_outputs(model_bytes: bytes, tensors: list[int]) -> bytes:
    model = schema.ModelT.InitFromPackedBuf(model_bytes, 0)
    model.subgraphs[0].outputs = np.array(tensors, dtype=np.int32)
    builder = flatbuffers.Builder(0)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output())


def run_stream(model, model_bytes, sequence):
    stream = TflmStream(model_bytes, len(model.outputs))
    model.reset()
    for step, inputs in enumerate(sequence):
        ours = model.run(*inputs)
        theirs = stream.run(inputs)
        for k, (a, b) in enumerate(zip(ours, theirs)):
            assert a.dtype == b.dtype
            np.testing.assert_array_equal(a, b.reshape(a.shape),
                                          err_msg=f"invocation {step}, output {k}")
    return ours


@pytest.fixture(scope="module", params=sorted(MODELS))
def case(request, shared_models, tmp_path_factory):
    name = request.param
    data = (shared_models / "tflm" / f"{name}.tflite").read_bytes()
    golden = np.load(shared_models / "goldens" / "tflm" / f"{name}.npz")
    model = tinyedge.compile(data, tmp_path_factory.mktemp("out") / name, name=name)
    return name, data, golden, model


def sequence(model, golden, count, seed):
    rng = np.random.default_rng(seed)
    return [[golden["input_0"]]] + [random_inputs(model.inputs, rng) for _ in range(count)]


def test_stream_matches_tflm(case):
    name, data, golden, model = case
    count, _ = MODELS[name]
    run_stream(model, data, sequence(model, golden, count, sum(map(ord, name))))


def test_golden_is_first_invocation(case):
    name, data, golden, model = case
    model.reset()
    (out,) = model.run(golden["input_0"])
    np.testing.assert_array_equal(out, golden["output_0"].reshape(out.shape))


def test_stateful_layers_match_tflm(case, tmp_path):
    name, data, golden, _ = case
    count, tensors = MODELS[name]
    exposed = with_outputs(data, tensors)
    model = tinyedge.compile(exposed, tmp_path / name, name=name)
    run_stream(model, exposed, sequence(model, golden, count, 7))


def test_state_is_reported_and_reset(case):
    name, data, golden, model = case
    report = model.report
    assert report["state_bytes"] > 0 and report["state"]
    assert report["state_bytes"] == sum(-(-s["bytes"] // 4) * 4 for s in report["state"])
    header = (model.out_dir / f"{name}.h").read_text()
    assert f"#define {name.upper()}_STATE_SIZE {report['state_bytes']}" in header
    assert f"void {name}_reset(void);" in header
    rng = np.random.default_rng(3)
    inputs = [random_inputs(model.inputs, rng) for _ in range(3)]
    model.reset()
    first = [model.run(*x)[0] for x in inputs]
    model.reset()
    again = [model.run(*x)[0] for x in inputs]
    for a, b in zip(first, again):
        np.testing.assert_array_equal(a, b)


def test_variable_tensor_refused_where_no_op_takes_state(shared_models):
    """A variable tensor feeding an op without state is refused by name."""
    data = (shared_models / "tflm" / "simple_add_model.tflite").read_bytes()
    model = schema.ModelT.InitFromPackedBuf(data, 0)
    sg = model.subgraphs[0]
    add_inputs = sg.operators[0].inputs
    sg.tensors[int(add_inputs[1])].isVariable = True
    sg.inputs = np.array([i for i in sg.inputs if i != add_inputs[1]], dtype=np.int32)
    builder = flatbuffers.Builder(0)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    with pytest.raises(tinyedge.errors.UnsupportedModelError, match="variable tensor"):
        tinyedge.api.import_model(bytes(builder.Output()), "m")
