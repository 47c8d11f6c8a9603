#ifndef CTIFF_H
#define CTIFF_H

// A small C shim over libtiff for Swift:
// - `ctiff_open` opens a file with per-handle error and warning capture (libtiff 4.5
//   `TIFFOpenExt` + `TIFFOpenOptionsSetErrorHandlerExtR`), so nothing is printed to stderr;
// - typed wrappers for the variadic `TIFFGetField` / `TIFFSetField`;
// - `ctiff_read_page_info` gathers every header field the reader needs in one call.

#include <stddef.h>
#include <stdint.h>
#include <tiffio.h>

#ifdef __cplusplus
extern "C" {
#endif

/// A libtiff handle with its captured messages. `tiff` is NULL when opening failed; the
/// reason is then in `ctiff_error_message`.
typedef struct ctiff_handle ctiff_handle;

/// Opens `path` with `mode` ("r", "w", "w8" for BigTIFF). `max_single_alloc` (bytes, 0 = libtiff's
/// default) caps any single allocation libtiff makes for this handle. Never returns NULL except
/// when out of memory. Silences libtiff's process-wide handlers on first use.
ctiff_handle *ctiff_open(const char *path, const char *mode, int64_t max_single_alloc);
/// The TIFF, or NULL if opening failed.
TIFF *ctiff_tiff(const ctiff_handle *handle);
/// Every error message libtiff reported on this handle since the last clear, joined by "; "
/// (empty string when none).
const char *ctiff_error_message(const ctiff_handle *handle);
/// Warnings, as above.
const char *ctiff_warning_message(const ctiff_handle *handle);
void ctiff_clear_messages(ctiff_handle *handle);
/// Closes the TIFF (flushing a file opened for writing) and frees the handle. Returns 1 when the
/// close reported no new error.
int ctiff_close(ctiff_handle *handle);
/// Flushes pending writes and fsyncs the file descriptor. Returns 1 on success.
int ctiff_flush_and_sync(ctiff_handle *handle);

/// Header fields of the current directory, with libtiff's defaults applied.
typedef struct {
    uint32_t width, height;
    uint16_t samples_per_pixel;
    uint16_t bits_per_sample;
    uint16_t sample_format;      // SAMPLEFORMAT_*; 1 (uint) when absent
    uint16_t photometric;        // PHOTOMETRIC_*; 0xFFFF when absent
    uint16_t planar_config;      // PLANARCONFIG_CONTIG (1) or _SEPARATE (2)
    uint16_t compression;
    uint16_t extra_samples;      // number of ExtraSamples entries
    uint16_t fill_order;
    uint16_t orientation;
    uint32_t subfile_type;       // NewSubfileType bits (FILETYPE_REDUCEDIMAGE = 1, ...)
    int is_tiled;
    uint32_t tile_width, tile_height;
    uint32_t rows_per_strip;
    int is_bigtiff;
    int has_resolution;
    float x_resolution, y_resolution;
    uint16_t resolution_unit;
    const char *image_description; // NULL when absent; valid until the directory changes
    const char *software;          // NULL when absent
} ctiff_page_info;

/// Fills `info` for the current directory. Returns 1 on success, 0 when a required tag is missing.
int ctiff_read_page_info(TIFF *tif, ctiff_page_info *info);

/// Asks the JPEG codec for RGB output (YCbCr JPEG-in-TIFF). Returns 1 on success.
int ctiff_set_jpeg_rgb_output(TIFF *tif);

// Typed TIFFSetField wrappers; each returns libtiff's result (1 on success).
int ctiff_set_u16(TIFF *tif, uint32_t tag, uint16_t value);
int ctiff_set_u32(TIFF *tif, uint32_t tag, uint32_t value);
int ctiff_set_double(TIFF *tif, uint32_t tag, double value);
int ctiff_set_string(TIFF *tif, uint32_t tag, const char *value);
int ctiff_set_extra_samples(TIFF *tif, uint16_t count, const uint16_t *types);
int ctiff_set_colormap(TIFF *tif, const uint16_t *red, const uint16_t *green, const uint16_t *blue);

#ifdef __cplusplus
}
#endif

#endif
