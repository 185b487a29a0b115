/* Types shared by every tinyedge kernel and by the generated code.
 *
 * Conventions:
 * - Activation tensors are NHWC, int8 unless the name says otherwise.
 * - Every requantization uses TFLite's double-rounding arithmetic
 *   (saturating rounding doubling high multiply, then rounding right shift),
 *   so results match TFLite Micro's reference kernels bit for bit.
 * - Kernels never allocate, never abort, and keep no state between calls.
 */
#ifndef TINYEDGE_TE_TYPES_H
#define TINYEDGE_TE_TYPES_H

#include <stdint.h>

#if defined(__GNUC__)
#define TE_ALIGNED(n) __attribute__((aligned(n)))
#define TE_NOINLINE __attribute__((noinline))
/* a header's static function that a file including it may not call */
#define TE_MAYBE_UNUSED __attribute__((unused))
#else
#define TE_ALIGNED(n)
#define TE_NOINLINE
#define TE_MAYBE_UNUSED
#endif

/* Largest rank an elementwise (broadcasting) kernel accepts. */
#define TE_MAX_RANK 6

typedef enum {
    TE_OK = 0,
    TE_ARG_ERROR = -1, /* a NULL pointer or inconsistent dimensions */
    TE_PATH_LEFT_OUT = -2 /* the layer needs a kernel path this build left out
                             (kernels/src/armv7em/te_paths.h) */
} te_status;

/* A 4-D shape. Lower-rank tensors set the unused leading dimensions to 1:
 * a fully connected input [batches, depth] is {batches, 1, 1, depth}. */
typedef struct {
    int32_t n;
    int32_t h;
    int32_t w;
    int32_t c;
} te_dims;

/* Output requantization, one (multiplier, shift) pair per output channel,
 * or a single pair for the whole tensor when count == 1.
 * multiplier in [2^30, 2^31 - 1] (or 0), shift in [-31, 30]; a positive shift
 * is a left shift. Real scale = multiplier * 2^(shift - 31). */
typedef struct {
    const int32_t *multipliers;
    const int8_t *shifts;
    int32_t count;
} te_requant;

/* CONV_2D and DEPTHWISE_CONV_2D parameters.
 * input_offset = -input_zero_point in [-127, 128];
 * output_offset = output_zero_point in [-128, 127];
 * activation_min <= activation_max, both in [-128, 127] (fused ReLU/ReLU6
 * already folded in). pad_h/pad_w are the top/left padding. */
typedef struct {
    int32_t stride_h;
    int32_t stride_w;
    int32_t dilation_h;
    int32_t dilation_w;
    int32_t pad_h;
    int32_t pad_w;
    int32_t depth_multiplier; /* depthwise only; ignored by conv */
    int32_t input_offset;
    int32_t output_offset;
    int32_t activation_min;
    int32_t activation_max;
    int32_t filter_layout; /* te_conv2d_s8 only: TE_CONV_FILTERS (0) or TE_CONV_FILTER_PAIRS */
} te_conv_params;

/* The order of te_conv2d_s8's filter bytes (te_conv_params.filter_layout).
 * TE_CONV_FILTERS: [C_out][kh][kw][C_in / groups], as TFLite stores them.
 * TE_CONV_FILTER_PAIRS: filters 2p and 2p + 1 interleaved by words, for a
 * DSP kernel that computes two filters at once: for each word i < k / 4 of a
 * filter (k = kh * kw * C_in), bytes 4i to 4i + 3 of filter 2p, then of
 * 2p + 1; the pairs one after the other. Only for groups 1, C_out even and k
 * a multiple of 4. tinyedge emits it for the layers the ARMv7E-M kernel's
 * paired path takes; that kernel returns TE_ARG_ERROR for any other layer
 * in this order (k over 288, no bias, or a requantization it does not
 * prepare; TE_PATH_LEFT_OUT in a build without that path), the reference
 * kernel takes them all. */
enum { TE_CONV_FILTERS = 0, TE_CONV_FILTER_PAIRS = 1 };

/* The order of a weight matrix's bytes, [rows][depth]: a fully connected
 * filter (te_fc_params.filter_layout, rows = units) or an LSTM gate's matrix
 * (te_lstm_params.weight_layout).
 * TE_FC_ROWS: row-major.
 * TE_FC_QUAD_ROWS: the rows in groups of four, which a DSP kernel reads as one
 * stream (one LDM a word of all four). Group g (rows 4g to 4g + 3) takes the
 * same 4 * depth bytes as its rows would: for each whole word i < depth / 4,
 * bytes 4i to 4i + 3 of row 4g, then of 4g + 1, 4g + 2 and 4g + 3; then the
 * last depth % 4 bytes of each of the four rows in turn. The rows past the
 * last whole group (rows % 4) follow as rows. */
enum { TE_FC_ROWS = 0, TE_FC_QUAD_ROWS = 1 };

/* FULLY_CONNECTED parameters. filter_offset = -filter_zero_point. */
typedef struct {
    int32_t input_offset;
    int32_t filter_offset;
    int32_t output_offset;
    int32_t activation_min;
    int32_t activation_max;
    int32_t filter_layout; /* TE_FC_ROWS (0) or TE_FC_QUAD_ROWS */
} te_fc_params;

/* AVERAGE_POOL_2D and MAX_POOL_2D parameters (input and output share their
 * quantization, as TFLite requires). */
typedef struct {
    int32_t stride_h;
    int32_t stride_w;
    int32_t filter_h;
    int32_t filter_w;
    int32_t pad_h;
    int32_t pad_w;
    int32_t activation_min;
    int32_t activation_max;
} te_pool_params;

/* ADD parameters (TFLite's general 8-bit path): both inputs are shifted left
 * by left_shift (20), rescaled to a common scale, summed, then rescaled to the
 * output. Shifts here are <= 0 (right shifts). */
typedef struct {
    int32_t input1_offset; /* -input1_zero_point */
    int32_t input2_offset; /* -input2_zero_point */
    int32_t output_offset; /* output_zero_point */
    int32_t left_shift;
    int32_t input1_multiplier;
    int32_t input1_shift;
    int32_t input2_multiplier;
    int32_t input2_shift;
    int32_t output_multiplier;
    int32_t output_shift;
    int32_t activation_min;
    int32_t activation_max;
} te_add_params;

/* The shape of an elementwise op over up to TE_MAX_RANK dimensions.
 * Unused leading dimensions have extent 1. Strides are in elements; a
 * broadcast dimension of an input has stride 0. When broadcast == 0 the
 * inputs and the output are contiguous and of equal size, and only
 * the element count (the product of output_shape) matters. */
typedef struct {
    int32_t broadcast;
    int32_t output_shape[TE_MAX_RANK];
    int32_t input1_strides[TE_MAX_RANK];
    int32_t input2_strides[TE_MAX_RANK];
} te_elementwise_shape;

/* SOFTMAX parameters from TFLite's int8 preparation (5 integer bits for the
 * scaled difference): input_multiplier/input_left_shift encode
 * beta * input_scale; differences below diff_min (<= 0) contribute zero. */
typedef struct {
    int32_t input_multiplier;
    int32_t input_left_shift;
    int32_t diff_min;
} te_softmax_params;

/* SOFTMAX int16 -> int16 (TFLite's SoftmaxInt16): the input difference to
 * the row maximum is rescaled by input_multiplier * 2^(input_left_shift - 31)
 * so that [-65535, 0] is [-10, 0], then looked up in exp_lut; the sum's
 * reciprocal comes from one_over_one_plus_x_lut. Both tables have 513
 * entries (512 steps and the end point), computed at compile time. */
typedef struct {
    int32_t input_multiplier;
    int32_t input_left_shift;
    const int16_t *exp_lut;
    const int16_t *one_over_one_plus_x_lut;
} te_softmax_s16_params;

/* Affine quantization of one tensor: real = scale * (q - zero_point). */
typedef struct {
    float scale;
    int32_t zero_point;
} te_affine_params;

/* Requantization between two integer tensors:
 * q_out = zero_point_out + (q_in - zero_point_in) * multiplier * 2^(shift - 31). */
typedef struct {
    int32_t input_zero_point;
    int32_t output_zero_point;
    int32_t multiplier;
    int32_t shift;
} te_requantize_params;

/* Data movement (TRANSPOSE, SLICE, STRIDED_SLICE, DEPTH_TO_SPACE,
 * SPACE_TO_DEPTH): output element (i0, ..., i5) of the contiguous output of
 * `shape` is input[offset + sum_k ik * strides[k]]. Strides are in elements
 * and may be negative or zero; unused leading dimensions have extent 1.
 * input_size (elements) bounds every index read. */
typedef struct {
    int32_t shape[TE_MAX_RANK];
    int32_t strides[TE_MAX_RANK];
    int32_t offset;
    int32_t input_size;
} te_strided_copy_params;

/* PAD and PADV2 over up to TE_MAX_RANK dimensions (unused leading ones have
 * extent 1 and no padding); all paddings >= 0. pad_value in [-128, 127]. */
typedef struct {
    int32_t input_shape[TE_MAX_RANK];
    int32_t pad_before[TE_MAX_RANK];
    int32_t pad_after[TE_MAX_RANK];
    int32_t pad_value;
} te_pad_params;

/* MEAN and SUM. The input's dimensions are listed kept ones first (in
 * order, padded at the front with extent 1), then the reduced_rank reduced
 * ones; strides are the input element strides of each listed dimension.
 * count = product of the reduced extents. Each output is
 * (sum - input_zero_point * count) requantized by multiplier/shift (1/count
 * already folded in for MEAN, as TFLite does) plus output_zero_point,
 * clamped to int8. The multiplier may be below 2^30 (TFLite's MEAN folding). */
typedef struct {
    int32_t shape[TE_MAX_RANK];
    int32_t strides[TE_MAX_RANK];
    int32_t reduced_rank;
    int32_t count;
    int32_t input_zero_point;
    int32_t output_zero_point;
    int32_t multiplier;
    int32_t shift;
} te_reduce_params;

/* CONCATENATION / PACK (and SPLIT / SPLIT_V / UNPACK, the inverse): the
 * output is outer blocks, each the concatenation of a chunks[i]-element
 * piece of every input i (count inputs). */
typedef struct {
    int32_t outer;
    int32_t count;
    const int32_t *chunks;
} te_concat_params;

/* GATHER: input [batch, outer, axis_size, inner], positions [batch, coords],
 * output [batch, outer, coords, inner]. */
typedef struct {
    int32_t batch;
    int32_t outer;
    int32_t axis_size;
    int32_t inner;
    int32_t coords;
} te_gather_params;

/* ARG_MAX / ARG_MIN over the middle axis of [outer, axis_size, inner]. */
typedef struct {
    int32_t outer;
    int32_t axis_size;
    int32_t inner;
    int32_t is_min;
} te_arg_params;

/* MUL parameters: (x1 + input1_offset) * (x2 + input2_offset) is rescaled
 * by output_multiplier * 2^(output_shift - 31) (output_shift in [-31, 30]).
 * SUB and SQUARED_DIFFERENCE use te_add_params (TFLite's general path, with
 * left_shift 20 and 7 respectively). */
typedef struct {
    int32_t input1_offset; /* -input1_zero_point */
    int32_t input2_offset; /* -input2_zero_point */
    int32_t output_offset; /* output_zero_point */
    int32_t output_multiplier;
    int32_t output_shift;
    int32_t activation_min;
    int32_t activation_max;
} te_mul_params;

/* LOGISTIC and TANH parameters (TFLite's int8 preparation, 4 integer bits):
 * inputs with |x - input_zero_point| >= input_range_radius saturate, the
 * others are rescaled to Q4.27 by input_multiplier * 2^(input_left_shift - 31). */
typedef struct {
    int32_t input_zero_point;
    int32_t input_range_radius;
    int32_t input_multiplier;
    int32_t input_left_shift;
} te_sigmoid_params;

/* HARD_SWISH parameters: two 16-bit fixed-point multipliers (Q0.15, in
 * [2^14, 2^15 - 1]) with their exponents, as TFLite's int8 kernel. */
typedef struct {
    int32_t input_zero_point;
    int32_t output_zero_point;
    int32_t reluish_multiplier;
    int32_t reluish_exponent;  /* in [-15, 15] */
    int32_t output_multiplier;
    int32_t output_exponent;   /* in [-15, 0] */
} te_hard_swish_params;

/* RELU parameters: a rescale by output_multiplier * 2^(output_shift - 31)
 * then a clamp to [activation_min, activation_max]. */
typedef struct {
    int32_t input_zero_point;
    int32_t output_zero_point;
    int32_t output_multiplier;
    int32_t output_shift;
    int32_t activation_min;
    int32_t activation_max;
} te_relu_params;

/* LEAKY_RELU parameters: x >= 0 uses the identity rescale, x < 0 the alpha
 * one; alpha_multiplier is negative for a negative alpha. */
typedef struct {
    int32_t input_zero_point;
    int32_t output_zero_point;
    int32_t identity_multiplier;
    int32_t identity_shift;
    int32_t alpha_multiplier;
    int32_t alpha_shift;
} te_leaky_relu_params;

/* PRELU parameters: x >= 0 is rescaled by multiplier 1, x < 0 times alpha
 * by multiplier 2. */
typedef struct {
    int32_t input_offset;  /* -input_zero_point */
    int32_t alpha_offset;  /* -alpha_zero_point */
    int32_t output_offset; /* output_zero_point */
    int32_t output_multiplier_1;
    int32_t output_shift_1;
    int32_t output_multiplier_2;
    int32_t output_shift_2;
} te_prelu_params;

/* RSQRT parameters: output_multiplier * 2^(output_shift - 31) is
 * 1 / (sqrt(input_scale) * output_scale). */
typedef struct {
    int32_t input_zero_point;
    int32_t output_zero_point;
    int32_t output_multiplier;
    int32_t output_shift;
} te_rsqrt_params;

/* RESIZE_NEAREST_NEIGHBOR and RESIZE_BILINEAR: input [batches, input_h,
 * input_w, channels] resized to [batches, output_h, output_w, channels]. The
 * source rows and columns of each output row and column (rows, cols) are
 * computed at compile time (see te_resize_nearest_s8, te_resize_bilinear_s8). */
typedef struct {
    int32_t batches;
    int32_t input_h;
    int32_t input_w;
    int32_t channels;
    int32_t output_h;
    int32_t output_w;
    const int32_t *rows;
    const int32_t *cols;
} te_resize_params;

/* BATCH_MATMUL: output[b, i, j] (contiguous [batch_shape..., rows, cols]) is
 * sum_k (lhs[b, i, k] + lhs_offset) * (rhs[b, k, j] + rhs_offset), rescaled by
 * output_multiplier * 2^(output_shift - 31) plus output_offset, clamped to
 * int8. Element strides (>= 0) place lhs[b, i, k] at
 * sum_d b_d * lhs_batch_strides[d] + i * lhs_row_stride + k * lhs_depth_stride
 * and rhs[b, k, j] likewise (a broadcast batch dimension has stride 0; adj_x
 * and adj_y swap the two matrix strides). lhs_size and rhs_size (elements)
 * bound every index read. */
typedef struct {
    int32_t batch_shape[3];
    int32_t lhs_batch_strides[3];
    int32_t rhs_batch_strides[3];
    int32_t rows;
    int32_t cols;
    int32_t depth;
    int32_t lhs_row_stride;
    int32_t lhs_depth_stride;
    int32_t rhs_depth_stride;
    int32_t rhs_col_stride;
    int32_t lhs_size;
    int32_t rhs_size;
    int32_t lhs_offset;    /* -lhs_zero_point */
    int32_t rhs_offset;    /* -rhs_zero_point */
    int32_t output_offset; /* output_zero_point */
    int32_t output_multiplier;
    int32_t output_shift;
} te_batch_matmul_params;

/* SVDF (int8 input and output, int8 feature weights, int32 bias; int16 or
 * int8 time weights and state), as TFLite Micro's integer SVDF. The state is
 * [batches, filters, memory]; filters = units * rank. feature_bias[f] is
 * -input_zero_point * sum of feature filter f (folded at compile time). The
 * feature product is rescaled by feature_multiplier/shift into the state's
 * scale, the time product (plus bias) by output_multiplier/shift. */
typedef struct {
    int32_t batches;
    int32_t input_size;
    int32_t filters;
    int32_t rank;
    int32_t memory;
    int32_t state_zero_point;
    int32_t output_zero_point;
    int32_t feature_multiplier;
    int32_t feature_shift;
    int32_t output_multiplier;
    int32_t output_shift;
    const int32_t *feature_bias;
} te_svdf_params;

/* UNIDIRECTIONAL_SEQUENCE_LSTM, int8 activations and weights, int16 cell
 * state, as TFLite Micro's integer LSTM (no peephole, projection, layer norm
 * or CIFG: TFLite Micro has none). Gates are indexed input, forget, cell,
 * output. Each gate's input and recurrent products (zero points folded into
 * the caller's biases) are rescaled to int16 Q3.12, added with saturation and
 * activated (sigmoid; the cell gate tanh or sigmoid) to Q0.15. */
typedef struct {
    int32_t batches;
    int32_t time_steps;
    int32_t input_size;
    int32_t units;
    int32_t time_major;          /* input/output [time, batch, .] instead of [batch, time, .] */
    int32_t hidden_zero_point;
    int32_t input_multiplier[4];
    int32_t input_shift[4];
    int32_t recurrent_multiplier[4];
    int32_t recurrent_shift[4];
    int32_t forget_cell_multiplier; /* forget gate x cell state -> cell state */
    int32_t forget_cell_shift;
    int32_t input_cell_multiplier;  /* input gate x cell gate -> cell state */
    int32_t input_cell_shift;
    int32_t hidden_multiplier;      /* output gate x tanh(cell) -> hidden state */
    int32_t hidden_shift;
    int32_t cell_clip;              /* in (0, 32767]; 0: no clipping */
    int32_t cell_tanh_multiplier;   /* tanh(cell) input scaling, as TFLite Micro's Tanh */
    int32_t cell_tanh_shift;
    int32_t cell_gate_sigmoid;      /* 0: tanh cell gate, 1: sigmoid */
    const int32_t *bias;            /* 8 x units, see te_lstm_s8_s16 */
    int32_t weight_layout;          /* of all 8 matrices: TE_FC_ROWS (0) or TE_FC_QUAD_ROWS */
} te_lstm_params;

#endif /* TINYEDGE_TE_TYPES_H */
