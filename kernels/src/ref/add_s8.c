#include "tinyedge/te_kernels.h"
#include "tinyedge/te_arith.h"

#include <stddef.h>

/* TFLite's AddFunc: both inputs are brought to a common scale with 20 bits of
 * headroom, summed, then rescaled to the output. */
static int8_t add_one(const te_add_params *p, int8_t x, int8_t y)
{
    const int32_t in1 = (p->input1_offset + x) * ((int32_t)1 << p->left_shift);
    const int32_t in2 = (p->input2_offset + y) * ((int32_t)1 << p->left_shift);
    const int32_t scaled1 = te_mbqm(in1, p->input1_multiplier, p->input1_shift);
    const int32_t scaled2 = te_mbqm(in2, p->input2_multiplier, p->input2_shift);
    const int32_t sum = te_mbqm(scaled1 + scaled2, p->output_multiplier, p->output_shift);
    return (int8_t)te_clamp_s32(sum + p->output_offset, p->activation_min, p->activation_max);
}

te_status te_add_s8(const te_add_params *params, const te_elementwise_shape *shape,
                    const int8_t *input1, const int8_t *input2, int8_t *output)
{
    int64_t size = 1;
    int i;

    if (params == NULL || shape == NULL || input1 == NULL || input2 == NULL || output == NULL) {
        return TE_ARG_ERROR;
    }
    for (i = 0; i < TE_MAX_RANK; i++) {
        if (shape->output_shape[i] < 1 ||
            shape->input1_strides[i] < 0 || shape->input2_strides[i] < 0) {
            return TE_ARG_ERROR;
        }
        size *= shape->output_shape[i];
        if (size > INT32_MAX) {
            return TE_ARG_ERROR;
        }
    }
    /* Ranges that keep every intermediate inside int32: |input + offset| <= 255,
     * shifted left by at most 20, and the rescales never grow a value
     * (shifts <= 0). */
    if (params->input1_offset < -127 || params->input1_offset > 128 ||
        params->input2_offset < -127 || params->input2_offset > 128 ||
        params->output_offset < -128 || params->output_offset > 127 ||
        params->left_shift < 0 || params->left_shift > 20 ||
        params->input1_multiplier < 0 || params->input2_multiplier < 0 ||
        params->output_multiplier < 0 ||
        params->input1_shift > 0 || params->input2_shift > 0 || params->output_shift > 0 ||
        params->activation_min < -128 || params->activation_max > 127 ||
        params->activation_min > params->activation_max) {
        return TE_ARG_ERROR;
    }

    if (!shape->broadcast) {
        int32_t k;
        for (k = 0; k < (int32_t)size; k++) {
            output[k] = add_one(params, input1[k], input2[k]);
        }
        return TE_OK;
    }

    {
        /* Walk the output in order, each input through its own strides
         * (0 along a broadcast dimension). */
        const int32_t *dim = shape->output_shape;
        const int32_t *s1 = shape->input1_strides;
        const int32_t *s2 = shape->input2_strides;
        int32_t i0, i1, i2, i3, i4, i5;
        int32_t out = 0;
        for (i0 = 0; i0 < dim[0]; i0++) {
            for (i1 = 0; i1 < dim[1]; i1++) {
                for (i2 = 0; i2 < dim[2]; i2++) {
                    for (i3 = 0; i3 < dim[3]; i3++) {
                        for (i4 = 0; i4 < dim[4]; i4++) {
                            const int32_t base1 = i0 * s1[0] + i1 * s1[1] + i2 * s1[2]
                                                  + i3 * s1[3] + i4 * s1[4];
                            const int32_t base2 = i0 * s2[0] + i1 * s2[1] + i2 * s2[2]
                                                  + i3 * s2[3] + i4 * s2[4];
                            for (i5 = 0; i5 < dim[5]; i5++) {
                                output[out++] = add_one(params, input1[base1 + i5 * s1[5]],
                                                        input2[base2 + i5 * s2[5]]);
                            }
                        }
                    }
                }
            }
        }
    }
    return TE_OK;
}
