/* The broadcast walk shared by the binary elementwise kernels
 * (internal header): output elements in increasing order, each input
 * through its own strides (0 along a broadcast dimension). Element k of the
 * output is written right after the input elements it reads, so an output
 * may be the same buffer as an input of the output's size.
 */
#ifndef TINYEDGE_TE_ELEMENTWISE_H
#define TINYEDGE_TE_ELEMENTWISE_H

#include <stddef.h>
#include <stdint.h>

#include "tinyedge/te_arith.h"
#include "tinyedge/te_types.h"

/* One output value from one value of each input. */
typedef int8_t (*te_binary_s8_fn)(const void *params, int8_t x, int8_t y);

/* The number of output elements, or -1 when the shape is inconsistent
 * (an extent below 1, a negative stride, more than INT32_MAX elements). */
static inline int32_t te_elementwise_size(const te_elementwise_shape *shape)
{
    int64_t size = 1;
    int i;
    for (i = 0; i < TE_MAX_RANK; i++) {
        if (shape->output_shape[i] < 1 ||
            shape->input1_strides[i] < 0 || shape->input2_strides[i] < 0) {
            return -1;
        }
        size *= shape->output_shape[i];
        if (size > INT32_MAX) {
            return -1;
        }
    }
    return (int32_t)size;
}

/* Calls visit(context, k, i1, i2) for every output element k in increasing
 * order, with i1 and i2 the elements of input1 and input2 it reads. */
typedef void (*te_elementwise_visit_fn)(void *context, int32_t out, int32_t in1, int32_t in2);

static inline void te_elementwise_walk(const te_elementwise_shape *shape, int32_t size,
                                       te_elementwise_visit_fn visit, void *context)
{
    const int32_t *dim = shape->output_shape;
    const int32_t *s1 = shape->input1_strides;
    const int32_t *s2 = shape->input2_strides;
    int32_t i0, i1, i2, i3, i4, i5;
    int32_t out = 0;

    if (!shape->broadcast) {
        int32_t k;
        for (k = 0; k < size; k++) {
            visit(context, k, k, k);
        }
        return;
    }
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
                            visit(context, out++, base1 + i5 * s1[5], base2 + i5 * s2[5]);
                        }
                    }
                }
            }
        }
    }
}

typedef struct {
    te_binary_s8_fn fn;
    const void *params;
    const int8_t *input1;
    const int8_t *input2;
    int8_t *output;
} te_elementwise_s8_context;

static inline void te_elementwise_visit_s8(void *context, int32_t out, int32_t in1, int32_t in2)
{
    te_elementwise_s8_context *c = (te_elementwise_s8_context *)context;
    c->output[out] = c->fn(c->params, c->input1[in1], c->input2[in2]);
}

/* output[k] = fn(params, input1[...], input2[...]) for every output element k. */
static inline void te_elementwise_apply_s8(const te_elementwise_shape *shape, int32_t size,
                                           const int8_t *input1, const int8_t *input2,
                                           int8_t *output, te_binary_s8_fn fn,
                                           const void *params)
{
    te_elementwise_s8_context context;
    context.fn = fn;
    context.params = params;
    context.input1 = input1;
    context.input2 = input2;
    context.output = output;
    te_elementwise_walk(shape, size, te_elementwise_visit_s8, &context);
}

/* The same for int16 inputs and output (the 16x8 scheme). */
typedef int16_t (*te_binary_s16_fn)(const void *params, int16_t x, int16_t y);

typedef struct {
    te_binary_s16_fn fn;
    const void *params;
    const int16_t *input1;
    const int16_t *input2;
    int16_t *output;
} te_elementwise_s16_context;

static inline void te_elementwise_visit_s16(void *context, int32_t out, int32_t in1, int32_t in2)
{
    te_elementwise_s16_context *c = (te_elementwise_s16_context *)context;
    c->output[out] = c->fn(c->params, c->input1[in1], c->input2[in2]);
}

static inline void te_elementwise_apply_s16(const te_elementwise_shape *shape, int32_t size,
                                            const int16_t *input1, const int16_t *input2,
                                            int16_t *output, te_binary_s16_fn fn,
                                            const void *params)
{
    te_elementwise_s16_context context;
    context.fn = fn;
    context.params = params;
    context.input1 = input1;
    context.input2 = input2;
    context.output = output;
    te_elementwise_walk(shape, size, te_elementwise_visit_s16, &context);
}

/* TFLite's LEAKY_RELU of one zero-point-free input x, before the output zero
 * point and the clamp: two rescales chosen by the sign of x; a negative alpha
 * multiplier is applied to the magnitude and negated. */
static inline int32_t te_leaky_relu_value(const te_leaky_relu_params *p, int32_t x)
{
    int32_t out;
    if (x >= 0) {
        return te_mbqm(x, p->identity_multiplier, p->identity_shift);
    }
    out = te_mbqm(x, p->alpha_multiplier < 0 ? -p->alpha_multiplier : p->alpha_multiplier,
                  p->alpha_shift);
    return p->alpha_multiplier < 0 ? -out : out;
}

/* Whether te_leaky_relu_value can take p's multipliers and shifts. */
static inline int te_leaky_relu_params_ok(const te_leaky_relu_params *p)
{
    return p->identity_multiplier >= 0 && p->alpha_multiplier != INT32_MIN &&
           p->identity_shift >= -31 && p->identity_shift <= 30 &&
           p->alpha_shift >= -31 && p->alpha_shift <= 30;
}

#endif /* TINYEDGE_TE_ELEMENTWISE_H */
