/* Which optional paths the ARMv7E-M DSP kernels build (internal header, read
 * through te_dsp.h). Here every path is on, for any model. A model's output
 * folder compiled for a DSP target carries its own copy, written by tinyedge
 * from its layers' shapes (tinyedge/kernel_paths.py), with the paths none of
 * them can take set to 0: its firmware then links none of their code. A
 * layer sent to a path that a build left out gets another path that handles
 * it where there is one, else TE_PATH_LEFT_OUT. -D flags override these. */
#ifndef TINYEDGE_TE_PATHS_H
#define TINYEDGE_TE_PATHS_H

/* conv2d_s8.c: column blocks (groups 1, windows up to TE_DSP_MAX_K) */
#ifndef TE_CONV_COLUMNS
#define TE_CONV_COLUMNS 1
#endif
/* conv2d_s8.c: windows of whole groups of 4 values (16 to 288), six pixels
 * at a time (conv_six); without the column path, also a layer's last, short
 * block */
#ifndef TE_CONV_SIX
#define TE_CONV_SIX 1
#endif
/* conv2d_s8.c: filters in pairs (TE_CONV_FILTER_PAIRS), three pixels of two
 * filters at a time (filters_paired, in conv_six's blocks) */
#ifndef TE_CONV_PAIRED
#define TE_CONV_PAIRED 1
#endif
/* conv2d_s8.c: short windows against the filters widened once
 * (conv_filter_columns) */
#ifndef TE_CONV_FILTER_COLUMNS
#define TE_CONV_FILTER_COLUMNS 1
#endif
/* conv2d_s8.c: in the column path, windows whose rows are whole groups of 4
 * (kw * C_in a multiple of 4, at least 16) widened a block of pixels at a
 * time where they lie inside the image; left out, a pixel at a time */
#ifndef TE_CONV_ROW_BLOCKS
#define TE_CONV_ROW_BLOCKS 1
#endif
/* conv2d_s8.c: pointwise layers of up to TE_DSP_NARROW_K input channels */
#ifndef TE_CONV_NARROW
#define TE_CONV_NARROW 1
#endif
/* conv2d_s8.c: longer windows, in chunks */
#ifndef TE_CONV_LONG
#define TE_CONV_LONG 1
#endif
/* conv2d_s8.c: one pixel at a time, reading the input in place (grouped
 * convolutions, long windows of many filters; any layer) */
#ifndef TE_CONV_IN_PLACE
#define TE_CONV_IN_PLACE 1
#endif
/* depthwise_conv2d_s8.c: the band and plane paths of 3x3 layers */
#ifndef TE_DW_BANDS
#define TE_DW_BANDS 1
#endif
/* depthwise_conv2d_s8.c: those paths at stride 2 (band_dot_s2) */
#ifndef TE_DW_STRIDE2
#define TE_DW_STRIDE2 1
#endif
/* depthwise_conv2d_s8.c: the pixel path (layers the band and plane paths do
 * not take); left out, such layers run the reference kernel's plain loops */
#ifndef TE_DW_PIXELS
#define TE_DW_PIXELS 1
#endif
/* fully_connected_s8.c, lstm_s8_s16.c: weight matrices in rows (TE_FC_ROWS),
 * four rows at a time; left out, such layers take one row at a time (tinyedge
 * emits TE_FC_QUAD_ROWS for these kernels) */
#ifndef TE_ROW_BLOCKS
#define TE_ROW_BLOCKS 1
#endif

#endif /* TINYEDGE_TE_PATHS_H */
