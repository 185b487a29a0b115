#include "tinyedge/te_kernels.h"
#include "tinyedge/te_elementwise.h"

/* MAXIMUM and MINIMUM compare the raw int8 values, as TFLite Micro does:
 * the inputs and the output share one quantization. */
static int8_t maximum_one(const void *params, int8_t x, int8_t y)
{
    (void)params;
    return x > y ? x : y;
}

static int8_t minimum_one(const void *params, int8_t x, int8_t y)
{
    (void)params;
    return x < y ? x : y;
}

te_status te_maximum_s8(const te_elementwise_shape *shape,
                        const int8_t *input1, const int8_t *input2, int8_t *output)
{
    int32_t size;
    if (shape == NULL || input1 == NULL || input2 == NULL || output == NULL) {
        return TE_ARG_ERROR;
    }
    size = te_elementwise_size(shape);
    if (size < 0) {
        return TE_ARG_ERROR;
    }
    te_elementwise_apply_s8(shape, size, input1, input2, output, maximum_one, NULL);
    return TE_OK;
}

te_status te_minimum_s8(const te_elementwise_shape *shape,
                        const int8_t *input1, const int8_t *input2, int8_t *output)
{
    int32_t size;
    if (shape == NULL || input1 == NULL || input2 == NULL || output == NULL) {
        return TE_ARG_ERROR;
    }
    size = te_elementwise_size(shape);
    if (size < 0) {
        return TE_ARG_ERROR;
    }
    te_elementwise_apply_s8(shape, size, input1, input2, output, minimum_one, NULL);
    return TE_OK;
}
