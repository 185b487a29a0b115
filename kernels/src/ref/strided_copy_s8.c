#include "tinyedge/te_kernels.h"
#include "tinyedge/te_movement.h"

te_status te_strided_copy_s8(const te_strided_copy_params *params,
                             const int8_t *input, int8_t *output)
{
    return te_strided_copy_elements(params, input, output, sizeof(int8_t));
}
