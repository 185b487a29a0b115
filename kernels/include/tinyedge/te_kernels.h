/* Prototypes of the tinyedge kernels. One source file per kernel, named after
 * the function without the te_ prefix (te_conv2d_s8 -> src/ref/conv2d_s8.c).
 *
 * Argument order: op parameters, quantization parameters, then for each tensor
 * its dims and its data pointer; the output comes last. A kernel that needs
 * scratch memory takes it first and has a ..._scratch_size() companion
 * (te_transpose_conv_s8); the others need none. All return TE_OK, or
 * TE_ARG_ERROR on a NULL pointer or dims that disagree with each other
 * (checked cheaply, before any work).
 *
 * Unless stated otherwise an output buffer must not overlap an input.
 */
#ifndef TINYEDGE_TE_KERNELS_H
#define TINYEDGE_TE_KERNELS_H

#include "tinyedge/te_types.h"

#ifdef __cplusplus
extern "C" {
#endif

/* CONV_2D, int8 activations and weights, int32 bias.
 * input  [N, H, W, C_in]
 * filter [C_out, KH, KW, C_in / groups] (groups = C_in / filter_dims.c, >= 1,
 *        C_out a multiple of groups), symmetric (zero point 0)
 * bias   [C_out] or NULL
 * output [N, OH, OW, C_out]; quant->count is 1 or C_out. */
te_status te_conv2d_s8(const te_conv_params *params, const te_requant *quant,
                       const te_dims *input_dims, const int8_t *input,
                       const te_dims *filter_dims, const int8_t *filter,
                       const int32_t *bias,
                       const te_dims *output_dims, int8_t *output);

/* DEPTHWISE_CONV_2D, int8.
 * input  [N, H, W, C_in]
 * filter [1, KH, KW, C_out] with C_out = C_in * params->depth_multiplier;
 *        output channel oc reads input channel oc / depth_multiplier
 * bias   [C_out] or NULL
 * output [N, OH, OW, C_out]; quant->count is 1 or C_out. */
te_status te_depthwise_conv2d_s8(const te_conv_params *params, const te_requant *quant,
                                 const te_dims *input_dims, const int8_t *input,
                                 const te_dims *filter_dims, const int8_t *filter,
                                 const int32_t *bias,
                                 const te_dims *output_dims, int8_t *output);

/* FULLY_CONNECTED, int8. With per-channel quant (count > 1) the filter must
 * be symmetric (filter_offset 0).
 * input  {batches, 1, 1, depth}
 * filter {units, 1, 1, depth}, in params->filter_layout: row-major [units, depth]
 *        or TE_FC_QUAD_ROWS (te_types.h)
 * bias   [units] or NULL
 * output {batches, 1, 1, units}; quant->count is 1 or units. */
te_status te_fully_connected_s8(const te_fc_params *params, const te_requant *quant,
                                const te_dims *input_dims, const int8_t *input,
                                const te_dims *filter_dims, const int8_t *filter,
                                const int32_t *bias,
                                const te_dims *output_dims, int8_t *output);

/* AVERAGE_POOL_2D, int8. Each output is the rounded mean over the part of the
 * window inside the input (padding is not counted); a window entirely in the
 * padding is an argument error, as in TFLite.
 * input [N, H, W, C], output [N, OH, OW, C]. */
te_status te_avg_pool2d_s8(const te_pool_params *params,
                           const te_dims *input_dims, const int8_t *input,
                           const te_dims *output_dims, int8_t *output);

/* MAX_POOL_2D, int8. Same layout as te_avg_pool2d_s8. */
te_status te_max_pool2d_s8(const te_pool_params *params,
                           const te_dims *input_dims, const int8_t *input,
                           const te_dims *output_dims, int8_t *output);

/* ADD, int8, with broadcasting described by shape. The output may be the
 * same buffer as an input of the output's size (each element is read
 * before it is written). */
te_status te_add_s8(const te_add_params *params, const te_elementwise_shape *shape,
                    const int8_t *input1, const int8_t *input2, int8_t *output);

/* SOFTMAX over the last dimension, int8 in, int8 out (output scale 1/256,
 * zero point -128, as TFLite requires). input and output [outer, depth]. */
te_status te_softmax_s8(const te_softmax_params *params,
                        int32_t outer_size, int32_t depth,
                        const int8_t *input, int8_t *output);

/* QUANTIZE float -> int8: q = clamp(round(x / scale) + zero_point), the
 * division in float32 (as TFLite Micro), rounding half away from zero; values
 * beyond the int8 range (and +-inf) saturate, NaN maps to zero_point.
 * scale > 0, zero_point in [-128, 127]. */
te_status te_quantize_f32_s8(const te_affine_params *params, int32_t size,
                             const float *input, int8_t *output);

/* DEQUANTIZE int8 -> float: x = scale * (q - zero_point). */
te_status te_dequantize_s8_f32(const te_affine_params *params, int32_t size,
                               const int8_t *input, float *output);

/* DEQUANTIZE uint8 -> float. */
te_status te_dequantize_u8_f32(const te_affine_params *params, int32_t size,
                               const uint8_t *input, float *output);

/* QUANTIZE between integer types (a change of scale and/or zero point).
 * The output may be the same buffer as the input. */
te_status te_requantize_s8_s8(const te_requantize_params *params, int32_t size,
                              const int8_t *input, int8_t *output);
te_status te_requantize_u8_s8(const te_requantize_params *params, int32_t size,
                              const uint8_t *input, int8_t *output);
te_status te_requantize_s8_u8(const te_requantize_params *params, int32_t size,
                              const int8_t *input, uint8_t *output);

/* Strided copy of int8 elements (TRANSPOSE, SLICE, STRIDED_SLICE,
 * DEPTH_TO_SPACE, SPACE_TO_DEPTH): see te_strided_copy_params. Each element
 * is read just before it is written, in output order, so the output may
 * overlap the input as far as the planner's rule allows. */
te_status te_strided_copy_s8(const te_strided_copy_params *params,
                             const int8_t *input, int8_t *output);

/* PAD / PADV2, int8: a raw copy of the input (no requantization, as TFLite
 * Micro) surrounded by pad_value. Output rows are written in order; the
 * output may overlap the input as far as the planner's rule allows. */
te_status te_pad_s8(const te_pad_params *params, const int8_t *input, int8_t *output);

/* The same two on int16 elements (the 16x8 scheme); pad_value in
 * [-32768, 32767]. */
te_status te_strided_copy_s16(const te_strided_copy_params *params,
                              const int16_t *input, int16_t *output);
te_status te_pad_s16(const te_pad_params *params, const int16_t *input, int16_t *output);

/* MEAN and SUM, int8 (see te_reduce_params). Needs no scratch: each output
 * element sums its reduced block directly. */
te_status te_mean_s8(const te_reduce_params *params, const int8_t *input, int8_t *output);

/* CONCATENATION / PACK, int8 raw bytes (TFLite Micro does not requantize):
 * inputs holds params->count pointers. The output may overlap an input as far
 * as the planner's rule allows (each piece is moved with memmove). */
te_status te_concatenation_s8(const te_concat_params *params, const int8_t *const *inputs,
                              int8_t *output);

/* SPLIT / SPLIT_V / UNPACK, int8: outputs holds params->count pointers, none
 * overlapping the input. */
te_status te_split_s8(const te_concat_params *params, const int8_t *input,
                      int8_t *const *outputs);

/* GATHER, int8 values, int32 positions (see te_gather_params). A position
 * outside [0, axis_size) stops the kernel with TE_ARG_ERROR, as TFLite Micro
 * fails the invocation. */
te_status te_gather_s8(const te_gather_params *params, const int32_t *positions,
                       const int8_t *input, int8_t *output);

/* ARG_MAX / ARG_MIN, int8 in, int32 indices out [outer, inner]; ties keep the
 * first index. */
te_status te_arg_max_s8(const te_arg_params *params, const int8_t *input, int32_t *output);

/* Binary elementwise int8 ops with numpy broadcasting described by shape
 * (rank <= TE_MAX_RANK, see te_elementwise_shape). The output may be the
 * same buffer as an input of the output's size (element k of each input is
 * read before element k of the output is written).
 *
 * MUL: params->input*_offset in [-127, 128], output_shift in [-31, 30]. */
te_status te_mul_s8(const te_mul_params *params, const te_elementwise_shape *shape,
                    const int8_t *input1, const int8_t *input2, int8_t *output);

/* SUB: TFLite's general path (te_add_params, left_shift 20, shifts <= 0). */
te_status te_sub_s8(const te_add_params *params, const te_elementwise_shape *shape,
                    const int8_t *input1, const int8_t *input2, int8_t *output);

/* SQUARED_DIFFERENCE: te_add_params with left_shift 7 (at most), input
 * shifts <= 0, output_shift in [-31, 30], activation range [-128, 127]. */
te_status te_squared_difference_s8(const te_add_params *params,
                                   const te_elementwise_shape *shape,
                                   const int8_t *input1, const int8_t *input2,
                                   int8_t *output);

/* MAXIMUM and MINIMUM of the raw int8 values (inputs and output share one
 * quantization). */
te_status te_maximum_s8(const te_elementwise_shape *shape,
                        const int8_t *input1, const int8_t *input2, int8_t *output);
te_status te_minimum_s8(const te_elementwise_shape *shape,
                        const int8_t *input1, const int8_t *input2, int8_t *output);

/* PRELU: alpha broadcasts against input as input2 of shape (usually one
 * alpha per channel). */
te_status te_prelu_s8(const te_prelu_params *params, const te_elementwise_shape *shape,
                      const int8_t *input, const int8_t *alpha, int8_t *output);

/* Unary elementwise int8 ops over size elements; the output may be the
 * same buffer as the input.
 *
 * LOGISTIC: output scale 1/256, zero point -128. */
te_status te_logistic_s8(const te_sigmoid_params *params, int32_t size,
                         const int8_t *input, int8_t *output);

/* TANH: output scale 1/128, zero point 0. */
te_status te_tanh_s8(const te_sigmoid_params *params, int32_t size,
                     const int8_t *input, int8_t *output);

/* HARD_SWISH: x * relu6(x + 3) / 6 in TFLite's 16-bit fixed point. */
te_status te_hard_swish_s8(const te_hard_swish_params *params, int32_t size,
                           const int8_t *input, int8_t *output);

/* RELU (rescaled to the output's quantization, then clamped). */
te_status te_relu_s8(const te_relu_params *params, int32_t size,
                     const int8_t *input, int8_t *output);

/* RELU6 as TFLite Micro: the raw input clamped to [lower, upper] (the
 * input's 0 and 6), lower <= upper in [-128, 127]. */
te_status te_relu6_s8(int32_t lower, int32_t upper, int32_t size,
                      const int8_t *input, int8_t *output);

/* LEAKY_RELU (alpha may be negative or above one). */
te_status te_leaky_relu_s8(const te_leaky_relu_params *params, int32_t size,
                           const int8_t *input, int8_t *output);

/* Any int8 -> int8 function by a 256-entry table: output = table[input + 128]
 * (ELU, whose table TFLite Micro builds in float at preparation time). */
te_status te_lut_s8(const int8_t *table, int32_t size, const int8_t *input, int8_t *output);

/* RSQRT: inputs below input_zero_point (negative reals) make it return
 * TE_ARG_ERROR before writing anything, as TFLite Micro fails the
 * invocation; output_shift - 20 >= -31. */
te_status te_rsqrt_s8(const te_rsqrt_params *params, int32_t size,
                      const int8_t *input, int8_t *output);

/* L2_NORMALIZATION over the last dimension: input and output [outer, depth],
 * depth in [1, 33025]; output scale 1/128, zero point 0. The output may be
 * the same buffer as the input (a row is summed before any of it is written). */
te_status te_l2_normalization_s8(int32_t input_zero_point, int32_t outer_size, int32_t depth,
                                 const int8_t *input, int8_t *output);

/* RESIZE_NEAREST_NEIGHBOR, int8 raw copy (no requantization, as TFLite
 * Micro). Output row y copies input row params->rows[y] (output_h entries),
 * output column x input column params->cols[x] (output_w entries). Each
 * element is read just before it is written, in output order, so the output
 * may overlap the input as far as the planner's rule allows. */
te_status te_resize_nearest_s8(const te_resize_params *params,
                               const int8_t *input, int8_t *output);

/* RESIZE_BILINEAR, int8, TFLite's integer path (ResizeBilinearInteger, no
 * requantization). params->rows holds 3 values per output row: the lower and
 * upper source rows and the distance from the lower one in 1/1024 units, in
 * [-1024, 1024] (negative only where lower == upper, with half-pixel
 * centers); params->cols likewise per output column. Each output is the 2x2
 * weighted sum over 2^20, rounded half away from zero. Read/write order as
 * te_resize_nearest_s8. */
te_status te_resize_bilinear_s8(const te_resize_params *params,
                                const int8_t *input, int8_t *output);

/* TRANSPOSE_CONV, int8 activations and weights, int32 bias, as TFLite
 * Micro's reference: every input pixel scatters input * filter products into
 * an int32 scratch of the output's size, then each scratch value plus bias is
 * requantized. scratch: te_transpose_conv_s8_scratch_size(output_dims) bytes,
 * 4-byte aligned, overwritten (the compiler places it in the arena for this
 * layer only).
 * input  [N, H, W, C_in]
 * filter [C_out, KH, KW, C_in], symmetric
 * bias   [C_out] or NULL
 * output [N, OH, OW, C_out]; quant->count is 1 or C_out.
 * params: strides >= 1, dilations 1, pad_h/pad_w >= 0 (top/left padding of
 * the output); depth_multiplier ignored. All input is read before any
 * output byte is written. */
te_status te_transpose_conv_s8(int32_t *scratch,
                               const te_conv_params *params, const te_requant *quant,
                               const te_dims *input_dims, const int8_t *input,
                               const te_dims *filter_dims, const int8_t *filter,
                               const int32_t *bias,
                               const te_dims *output_dims, int8_t *output);

/* Bytes of scratch te_transpose_conv_s8 needs (0 for invalid dims). */
int32_t te_transpose_conv_s8_scratch_size(const te_dims *output_dims);

/* BATCH_MATMUL, int8 (see te_batch_matmul_params); the output must not
 * overlap an input beyond the planner's rule (output elements are written in
 * order, each after all its reads). */
te_status te_batch_matmul_s8(const te_batch_matmul_params *params,
                             const int8_t *lhs, const int8_t *rhs, int8_t *output);

/* SVDF with int16 state and time weights (the int8 model's usual form):
 * shifts the state [batches, filters, memory] left by one element, writes each
 * filter's newest activation (feature product, rescaled, saturated to int16,
 * then plus the state zero point, wrapped to int16 as TFLite Micro narrows it)
 * into its last slot, then sums per unit the
 * rank time products (state - state_zero_point) * weights_time plus bias,
 * rescaled, plus the output zero point, saturated to int8. TFLite Micro
 * ignores the fused activation in this path; so does this kernel.
 * input [batches, input_size], weights_feature [filters, input_size],
 * weights_time [filters, memory], bias [filters / rank] or NULL,
 * output [batches, filters / rank]. No scratch. state must not overlap the
 * other buffers; output must not overlap input. */
te_status te_svdf_s8_s16(const te_svdf_params *params, const int8_t *input,
                         const int8_t *weights_feature, const int16_t *weights_time,
                         const int32_t *bias, int16_t *state, int8_t *output);

/* SVDF with int8 state and time weights; otherwise as te_svdf_s8_s16 (the
 * newest activation saturates to int8, then the state zero point is added and
 * the sum wrapped to int8). */
te_status te_svdf_s8_s8(const te_svdf_params *params, const int8_t *input,
                        const int8_t *weights_feature, const int8_t *weights_time,
                        const int32_t *bias, int8_t *state, int8_t *output);

/* UNIDIRECTIONAL_SEQUENCE_LSTM (int8, int16 cell state). Per batch and time
 * step: gate g = act(sat16(rescale(W_g x + bias[g])) + sat16(rescale(R_g h +
 * bias[4 + g]))); cell = sat16(f * cell) + sat16(i * c), saturated and
 * clipped; h = o * tanh(cell) (int8, hidden zero point); the output row is h.
 * weights: 8 pointers, input-to-gate [units, input_size] for gates 0..3 then
 * recurrent-to-gate [units, units]. params->bias: 8 x units int32, the gate bias plus
 * -zero_point * row sums (input part) and -hidden_zero_point * row sums
 * (recurrent part). hidden_state [batches, units] int8 and cell_state
 * [batches, units] int16 are read and updated (the model's state block).
 * scratch: 3 * units int16. input [batches, time, input_size] (or time
 * major), output likewise with units. No buffer may overlap another. */
te_status te_lstm_s8_s16(const te_lstm_params *params, int16_t *scratch,
                         const int8_t *input, const int8_t *const weights[8],
                         int8_t *hidden_state, int16_t *cell_state, int8_t *output);

/* TFLite's int16 sigmoid and tanh (sigmoid_table_uint16 interpolation), as
 * the integer LSTM uses them: input scaled by multiplier (3 << k when 0 is
 * given with a left shift k) and a rounding right shift. */
int16_t te_sigmoid_s16(int32_t x, int32_t multiplier, int32_t right_shift);
int16_t te_tanh_s16(int32_t x, int32_t multiplier, int32_t right_shift);

/* QUANTIZE from int16: TFLite's Requantize (MultiplyByQuantizedMultiplier of
 * input - input_zero_point, plus output_zero_point, saturated to the output
 * type). Zero points in [-32768, 32767]. */
te_status te_requantize_s16_s8(const te_requantize_params *params, int32_t size,
                               const int16_t *input, int8_t *output);
te_status te_requantize_s16_s32(const te_requantize_params *params, int32_t size,
                                const int16_t *input, int32_t *output);
/* QUANTIZE to int16 from int16 or int8, as te_requantize_s16_s8; the output
 * may be the same buffer as the input only for int16 -> int16. */
te_status te_requantize_s16_s16(const te_requantize_params *params, int32_t size,
                                const int16_t *input, int16_t *output);
te_status te_requantize_s8_s16(const te_requantize_params *params, int32_t size,
                               const int8_t *input, int16_t *output);

/* QUANTIZE float -> int16 and DEQUANTIZE int16 -> float, as te_quantize_f32_s8
 * and te_dequantize_s8_f32 (zero_point in [-32768, 32767]). */
te_status te_quantize_f32_s16(const te_affine_params *params, int32_t size,
                              const float *input, int16_t *output);
te_status te_dequantize_s16_f32(const te_affine_params *params, int32_t size,
                                const int16_t *input, float *output);

/* SOFTMAX int8 in, int16 out (scale 1/65536, zero point -32768): the
 * te_softmax_s8 algorithm with the probability kept to 16 bits. */
te_status te_softmax_s8_s16(const te_softmax_params *params,
                            int32_t outer_size, int32_t depth,
                            const int8_t *input, int16_t *output);

/* The 16x8 scheme: int16 activations (zero point 0, so input_offset and
 * output_offset must be 0; activation bounds in [-32768, 32767]), int8
 * symmetric weights, int64 bias. Products accumulate in int64 and are
 * requantized by te_mbqm_s64 (shifts in [-31, 7]); otherwise as the int8
 * kernels of the same name (te_fully_connected_s16: filter rows only,
 * TE_FC_ROWS). */
te_status te_fully_connected_s16(const te_fc_params *params, const te_requant *quant,
                                 const te_dims *input_dims, const int16_t *input,
                                 const te_dims *filter_dims, const int8_t *filter,
                                 const int64_t *bias,
                                 const te_dims *output_dims, int16_t *output);
te_status te_conv2d_s16(const te_conv_params *params, const te_requant *quant,
                        const te_dims *input_dims, const int16_t *input,
                        const te_dims *filter_dims, const int8_t *filter,
                        const int64_t *bias,
                        const te_dims *output_dims, int16_t *output);
te_status te_depthwise_conv2d_s16(const te_conv_params *params, const te_requant *quant,
                                  const te_dims *input_dims, const int16_t *input,
                                  const te_dims *filter_dims, const int8_t *filter,
                                  const int64_t *bias,
                                  const te_dims *output_dims, int16_t *output);

/* ADD and SUB on int16 (zero points 0, so the three offsets must be 0):
 * te_add_s8's general path with left_shift 15 (TFLite's int16 value).
 * MUL on int16: te_mul_s8 without offsets.
 * Broadcasting as te_add_s8. */
te_status te_add_s16(const te_add_params *params, const te_elementwise_shape *shape,
                     const int16_t *input1, const int16_t *input2, int16_t *output);
te_status te_sub_s16(const te_add_params *params, const te_elementwise_shape *shape,
                     const int16_t *input1, const int16_t *input2, int16_t *output);
te_status te_mul_s16(const te_mul_params *params, const te_elementwise_shape *shape,
                     const int16_t *input1, const int16_t *input2, int16_t *output);

/* LOGISTIC and TANH on int16 (zero points 0, output scale 2^-15): each
 * element through te_sigmoid_s16 / te_tanh_s16 (multiplier in [1, 32767],
 * the power-of-two scale's 3 << k already applied; right_shift in [0, 31]).
 * The output may be the same buffer as the input. */
te_status te_logistic_tensor_s16(int32_t multiplier, int32_t right_shift, int32_t size,
                                 const int16_t *input, int16_t *output);
te_status te_tanh_tensor_s16(int32_t multiplier, int32_t right_shift, int32_t size,
                             const int16_t *input, int16_t *output);

/* LEAKY_RELU on int16: te_leaky_relu_s8 with int16 zero points and clamp. */
te_status te_leaky_relu_s16(const te_leaky_relu_params *params, int32_t size,
                            const int16_t *input, int16_t *output);

/* SOFTMAX int16 in and out (zero points 0, output scale 1/32768) over the
 * last dimension, input and output [outer_size, depth], depth <= 65536. The
 * output row holds the exponentials until the row is normalized, as in
 * TFLite: the output may be the same buffer as the input. */
te_status te_softmax_s16(const te_softmax_s16_params *params, int32_t outer_size,
                         int32_t depth, const int16_t *input, int16_t *output);

#ifdef __cplusplus
}
#endif

#endif /* TINYEDGE_TE_KERNELS_H */
