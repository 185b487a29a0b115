"""te_svdf_s8_s16/te_svdf_s8_s8, te_lstm_s8_s16 and the int16 sigmoid/tanh:
a worked example a reader can check by hand, then randomized cases (several
invocations, state carried) against tinyedge.reference, an independent numpy
reading of TFLite Micro's reference kernels."""
from __future__ import annotations

import functools

import numpy as np
import pytest

from kernel_harness import INCLUDE_DIR, KERNEL_SOURCES, TE_ARG_ERROR, TE_OK
from tinyedge import quant, weight_layout
from tinyedge import reference as ref
from tinyedge.host import build_library, load_library

CDEF = """
typedef enum { TE_OK = 0, TE_ARG_ERROR = -1 } te_status;
typedef struct {
    int32_t batches; int32_t input_size; int32_t filters; int32_t rank; int32_t memory;
    int32_t state_zero_point; int32_t output_zero_point;
    int32_t feature_multiplier; int32_t feature_shift;
    int32_t output_multiplier; int32_t output_shift;
    const int32_t *feature_bias;
} te_svdf_params;
typedef struct {
    int32_t batches; int32_t time_steps; int32_t input_size; int32_t units; int32_t time_major;
    int32_t hidden_zero_point;
    int32_t input_multiplier[4]; int32_t input_shift[4];
    int32_t recurrent_multiplier[4]; int32_t recurrent_shift[4];
    int32_t forget_cell_multiplier; int32_t forget_cell_shift;
    int32_t input_cell_multiplier; int32_t input_cell_shift;
    int32_t hidden_multiplier; int32_t hidden_shift;
    int32_t cell_clip; int32_t cell_tanh_multiplier; int32_t cell_tanh_shift;
    int32_t cell_gate_sigmoid;
    const int32_t *bias;
    int32_t weight_layout;
} te_lstm_params;
te_status te_svdf_s8_s16(const te_svdf_params *params, const int8_t *input,
                         const int8_t *weights_feature, const int16_t *weights_time,
                         const int32_t *bias, int16_t *state, int8_t *output);
te_status te_svdf_s8_s8(const te_svdf_params *params, const int8_t *input,
                        const int8_t *weights_feature, const int8_t *weights_time,
                        const int32_t *bias, int8_t *state, int8_t *output);
te_status te_lstm_s8_s16(const te_lstm_params *params, int16_t *scratch,
                         const int8_t *input, const int8_t *const weights[8],
                         int8_t *hidden_state, int16_t *cell_state, int8_t *output);
int16_t te_sigmoid_s16(int32_t x, int32_t multiplier, int32_t right_shift);
int16_t te_tanh_s16(int32_t x, int32_t multiplier, int32_t right_shift);
"""


@functools.lru_cache(maxsize=None)
def kernels():
    return load_library(build_library(KERNEL_SOURCES, [INCLUDE_DIR]), CDEF)


def cptr(a, ctype):
    ffi, _ = kernels()
    return ffi.cast(ctype + " *", ffi.from_buffer(a))


# --- int16 sigmoid and tanh ------------------------------------------------------------------

def test_sigmoid_and_tanh_worked_values():
    _, lib = kernels()
    # 0 in Q3.12 -> sigmoid 0.5 (16384 in Q0.15), tanh 0.
    assert lib.te_sigmoid_s16(0, 3, 0) == 16384
    assert lib.te_tanh_s16(0, 3, 0) == 0
    # 8.0 in Q3.12: sigmoid(8) = 0.99966 (32757 in Q0.15), sigmoid(-8) its complement.
    assert lib.te_sigmoid_s16(32767, 3, 0) == 32757
    assert lib.te_sigmoid_s16(-32768, 3, 0) == 32768 - 32757
    # Scaled 16 times further out, both saturate: sigmoid to 1 - 2^-15, tanh to +-1.
    assert lib.te_sigmoid_s16(32767, 48, 0) == 32767
    assert lib.te_tanh_s16(32767, 48, 0) == 32767
    assert lib.te_tanh_s16(-32768, 48, 0) == -32767  # symmetric: -(2^15 - 1)


@pytest.mark.parametrize("multiplier,shift", [(3, 0), (6, 0), (3, 1), (48, 0)])
def test_sigmoid_and_tanh_match_reference_everywhere(multiplier, shift):
    _, lib = kernels()
    xs = np.arange(-32768, 32768, 7, dtype=np.int64)
    sig = np.array([lib.te_sigmoid_s16(int(v), multiplier, shift) for v in xs])
    tanh = np.array([lib.te_tanh_s16(int(v), multiplier, shift) for v in xs])
    np.testing.assert_array_equal(sig, ref.sigmoid_s16(xs, multiplier, shift))
    np.testing.assert_array_equal(tanh, ref.tanh_s16(xs, multiplier, shift))


# --- SVDF --------------------------------------------------------------------------------

def svdf_params(batches, input_size, filters, rank, memory, *, state_zp, output_zp,
                m1, s1, m2, s2, feature_bias):
    ffi, _ = kernels()
    return ffi.new("te_svdf_params *", {
        "batches": batches, "input_size": input_size, "filters": filters, "rank": rank,
        "memory": memory, "state_zero_point": state_zp, "output_zero_point": output_zp,
        "feature_multiplier": m1, "feature_shift": s1, "output_multiplier": m2,
        "output_shift": s2, "feature_bias": cptr(feature_bias, "int32_t")})


def run_svdf(x, wf, wt, bias, state, rank, in_zp, state_zp, out_zp, m1, s1, m2, s2):
    _, lib = kernels()
    batches, input_size = x.shape
    filters, memory = wt.shape
    fbias = np.ascontiguousarray(-in_zp * wf.astype(np.int64).sum(axis=1), dtype=np.int32)
    p = svdf_params(batches, input_size, filters, rank, memory, state_zp=state_zp,
                    output_zp=out_zp, m1=m1, s1=s1, m2=m2, s2=s2, feature_bias=fbias)
    out = np.zeros((batches, filters // rank), dtype=np.int8)
    fn, ctype = ((lib.te_svdf_s8_s16, "int16_t") if state.dtype == np.int16
                 else (lib.te_svdf_s8_s8, "int8_t"))
    status = fn(p, cptr(x, "int8_t"), cptr(wf, "int8_t"), cptr(wt, ctype),
                cptr(bias, "int32_t") if bias is not None else kernels()[0].NULL,
                cptr(state, ctype), cptr(out, "int8_t"))
    return status, out


def test_svdf_worked_example():
    # One filter, memory 2, unit scales (multiplier 2^30 with shift 1 is x1.0).
    x = np.array([[1, 2]], dtype=np.int8)
    wf = np.array([[3, 4]], dtype=np.int8)  # feature: 1*3 + 2*4 = 11
    wt = np.array([[5, 6]], dtype=np.int16)
    state = np.array([[7, 9]], dtype=np.int16)  # shifts left: [9, 11] after the update
    bias = np.array([100], dtype=np.int32)
    status, out = run_svdf(x, wf, wt, bias, state, 1, 0, 0, 0, 1 << 30, 1, 1 << 30, 1)
    assert status == TE_OK
    np.testing.assert_array_equal(state, [[9, 11]])
    assert out[0, 0] == 127  # 100 + 9*5 + 11*6 = 211 saturates to int8
    status, out = run_svdf(x, wf, wt, bias, state, 1, 0, 0, -128, 1 << 30, 1, 1 << 30, -1)
    # 100 + 11*5 + 11*6 = 221 times 1/4 with TFLite's double rounding: the high
    # multiply by 2^30 rounds 110.5 up to 111, the shift rounds 55.5 to 56.
    assert out[0, 0] == 56 - 128


@pytest.mark.parametrize("seed", range(12))
def test_svdf_random_sequences_match_reference(seed):
    rng = np.random.default_rng(seed)
    state_type = np.int16 if seed % 3 else np.int8
    batches, input_size = int(rng.integers(1, 3)), int(rng.integers(1, 40))
    rank, units, memory = int(rng.integers(1, 3)), int(rng.integers(1, 9)), int(rng.integers(1, 12))
    filters = rank * units
    info = np.iinfo(state_type)
    wf = rng.integers(-127, 128, (filters, input_size), dtype=np.int8)
    wt = rng.integers(info.min + 1, info.max + 1, (filters, memory)).astype(state_type)
    bias = rng.integers(-2**20, 2**20, units).astype(np.int32) if seed % 4 else None
    in_zp = int(rng.integers(-128, 128))
    state_zp = 0 if state_type == np.int16 else int(rng.integers(-20, 20))
    out_zp = int(rng.integers(-128, 128))
    m1, s1 = quant.quantize_multiplier(float(rng.uniform(1e-3, 2.0)))
    m2, s2 = quant.quantize_multiplier(float(rng.uniform(1e-7, 1e-3)))
    state = np.full((batches, filters * memory), state_zp, dtype=state_type)
    ref_state = state.copy()
    for _ in range(memory + 3):
        x = rng.integers(-128, 128, (batches, input_size), dtype=np.int8)
        status, out = run_svdf(x, wf, wt, bias, state, rank, in_zp, state_zp, out_zp,
                               m1, s1, m2, s2)
        assert status == TE_OK
        expected, ref_state = ref.svdf(x, wf, wt, bias, ref_state, rank=rank,
                                       input_zero_point=in_zp, state_zero_point=state_zp,
                                       output_zero_point=out_zp, feature_multiplier=m1,
                                       feature_shift=s1, output_multiplier=m2, output_shift=s2)
        np.testing.assert_array_equal(state, ref_state)
        np.testing.assert_array_equal(out, expected)


def test_svdf_rejects_bad_arguments():
    x = np.zeros((1, 2), dtype=np.int8)
    wf = np.zeros((3, 2), dtype=np.int8)
    wt = np.zeros((3, 2), dtype=np.int16)
    state = np.zeros((1, 6), dtype=np.int16)
    status, _ = run_svdf(x, wf, wt, None, state, 2, 0, 0, 0, 1 << 30, 0, 1 << 30, 0)
    assert status == TE_ARG_ERROR  # rank 2 does not divide 3 filters


# --- LSTM --------------------------------------------------------------------------------

@pytest.mark.parametrize("seed", range(10))
def test_lstm_random_sequences_match_reference(seed):
    ffi, lib = kernels()
    rng = np.random.default_rng(100 + seed)
    batches, steps = int(rng.integers(1, 3)), int(rng.integers(1, 5))
    input_size, units = int(rng.integers(1, 20)), int(rng.integers(1, 12))
    weights = [rng.integers(-127, 128, (units, input_size), dtype=np.int8) for _ in range(4)]
    weights += [rng.integers(-127, 128, (units, units), dtype=np.int8) for _ in range(4)]
    biases = [rng.integers(-2**14, 2**14, units).astype(np.int64) for _ in range(4)]
    in_zp, h_zp = int(rng.integers(-128, 128)), int(rng.integers(-10, 10))
    gate_mults = [quant.quantize_multiplier(float(rng.uniform(0.01, 3.0))) for _ in range(8)]
    power = int(rng.integers(-15, -9))
    cell_scale = 2.0 ** power
    fc = quant.quantize_multiplier(2.0 ** -15)
    ic = quant.quantize_multiplier(2.0 ** -30 / cell_scale)
    hm = quant.quantize_multiplier(2.0 ** -30 / float(rng.uniform(0.003, 0.02)))
    left = 15 + power - 3
    tanh = (3, -left) if left < 0 else (3 << left, 0)
    clip = int(rng.integers(0, 32768)) if seed % 2 else 0
    sigmoid_cell = seed == 3
    folded = [b - in_zp * w.astype(np.int64).sum(axis=1) for b, w in zip(biases, weights[:4])]
    folded += [-h_zp * w.astype(np.int64).sum(axis=1) for w in weights[4:]]
    bias = np.ascontiguousarray(np.concatenate(folded), dtype=np.int32)
    p = ffi.new("te_lstm_params *", {
        "batches": batches, "time_steps": steps, "input_size": input_size, "units": units,
        "time_major": 0, "hidden_zero_point": h_zp,
        "input_multiplier": [m for m, _ in gate_mults[:4]],
        "input_shift": [s for _, s in gate_mults[:4]],
        "recurrent_multiplier": [m for m, _ in gate_mults[4:]],
        "recurrent_shift": [s for _, s in gate_mults[4:]],
        "forget_cell_multiplier": fc[0], "forget_cell_shift": fc[1],
        "input_cell_multiplier": ic[0], "input_cell_shift": ic[1],
        "hidden_multiplier": hm[0], "hidden_shift": hm[1], "cell_clip": clip,
        "cell_tanh_multiplier": tanh[0], "cell_tanh_shift": tanh[1],
        "cell_gate_sigmoid": int(sigmoid_cell), "bias": cptr(bias, "int32_t"),
        "weight_layout": seed % 2})
    # odd seeds: the matrices interleaved as the compiler emits them for DSP targets
    keep = [np.ascontiguousarray(weight_layout.quad_rows(w) if seed % 2 else w) for w in weights]
    wptrs = ffi.new("const int8_t *[8]", [cptr(w, "int8_t") for w in keep])
    hidden = np.full((batches, units), h_zp, dtype=np.int8)
    cell = np.zeros((batches, units), dtype=np.int16)
    ref_h, ref_c = hidden.copy(), cell.copy()
    scratch = np.zeros(3 * units, dtype=np.int16)
    for _ in range(3):  # state carried over three invocations
        x = rng.integers(-128, 128, (batches, steps, input_size), dtype=np.int8)
        out = np.zeros((batches, steps, units), dtype=np.int8)
        status = lib.te_lstm_s8_s16(p, cptr(scratch, "int16_t"), cptr(x, "int8_t"), wptrs,
                                    cptr(hidden, "int8_t"), cptr(cell, "int16_t"),
                                    cptr(out, "int8_t"))
        assert status == TE_OK
        expected, ref_h, ref_c = ref.lstm(
            x, weights, biases, ref_h, ref_c, input_zero_point=in_zp, hidden_zero_point=h_zp,
            input_mults=gate_mults[:4], recurrent_mults=gate_mults[4:], forget_cell_mult=fc,
            input_cell_mult=ic, hidden_mult=hm, cell_clip=clip, cell_tanh=tanh,
            cell_gate_sigmoid=sigmoid_cell)
        np.testing.assert_array_equal(cell, ref_c)
        np.testing.assert_array_equal(hidden, ref_h)
        np.testing.assert_array_equal(out, expected)
