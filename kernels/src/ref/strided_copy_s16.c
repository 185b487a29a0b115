#include "tinyedge/te_kernels.h"
#include "tinyedge/te_movement.h"

te_status te_strided_copy_s16(const te_strided_copy_params *params,
                              const int16_t *input, int16_t *output)
{
    return te_strided_copy_elements(params, input, output, sizeof(int16_t));
}
