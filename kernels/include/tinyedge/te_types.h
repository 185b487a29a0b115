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
#else
#define TE_ALIGNED(n)
#endif

/* Largest rank an elementwise (broadcasting) kernel accepts. */
#define TE_MAX_RANK 6

typedef enum {
    TE_OK = 0,
    TE_ARG_ERROR = -1 /* a NULL pointer or inconsistent dimensions */
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
    const int32_t *shifts;
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
} te_conv_params;

/* FULLY_CONNECTED parameters. filter_offset = -filter_zero_point. */
typedef struct {
    int32_t input_offset;
    int32_t filter_offset;
    int32_t output_offset;
    int32_t activation_min;
    int32_t activation_max;
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

#endif /* TINYEDGE_TE_TYPES_H */
