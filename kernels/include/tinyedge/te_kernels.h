/* Prototypes of the tinyedge kernels. One source file per kernel, named after
 * the function without the te_ prefix (te_conv2d_s8 -> src/ref/conv2d_s8.c).
 *
 * Argument order: op parameters, quantization parameters, then for each tensor
 * its dims and its data pointer; the output comes last. The reference kernels
 * need no scratch memory. All return TE_OK, or TE_ARG_ERROR on a NULL pointer
 * or dims that disagree with each other (checked cheaply, before any work).
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
 * filter {units, 1, 1, depth} (row-major [units, depth])
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

#ifdef __cplusplus
}
#endif

#endif /* TINYEDGE_TE_KERNELS_H */
