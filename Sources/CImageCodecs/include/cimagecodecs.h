#ifndef CIMAGECODECS_H
#define CIMAGECODECS_H

// PNG (libpng) and JPEG (libjpeg) decoding for focusd, with the libraries' setjmp/longjmp error
// handling kept in C: every function returns a status and writes a message into `error`
// (at most `error_length` bytes, NUL-terminated). Nothing is printed to stderr.
// Also: encoders used by the tests, and sample (un)packing between interleaved rows and planar
// Float32 planes.

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

enum {
    CIC_OK = 0,
    CIC_ERROR = 1,       // unreadable: not this format, corrupt data, unsupported layout
    CIC_TRUNCATED = 2,   // the file ends before the image data does
    CIC_UNSUPPORTED = 3, // a valid file in a layout focusd does not read
    CIC_NOT_FOUND = 4,   // cannot open the file
};

/// What a decode will produce: `channels` (1 grey, 3 RGB) samples of `bit_depth` (8 or 16) bits
/// per pixel, rows interleaved. `source_*` describe the file as stored.
typedef struct {
    uint32_t width, height;
    int channels;
    int bit_depth;
    int source_color_type;   // PNG colour type, or JPEG colour space
    int source_bit_depth;
    int source_components;
} cic_info;

/// Reads the header of a PNG file.
int cic_png_read_info(const char *path, cic_info *info, char *error, size_t error_length);
/// Decodes a PNG into `destination` (height rows of width × channels samples; 16-bit samples in
/// native byte order). Palette images become RGB, alpha is dropped, grey below 8 bits is scaled
/// to 8 bits. `destination_bytes` must equal the decoded size of the header `expected` describes.
int cic_png_decode(const char *path, const cic_info *expected, void *destination, size_t destination_bytes,
                   char *error, size_t error_length);

/// Reads the header of a JPEG file (grey or RGB/YCbCr; CMYK is CIC_UNSUPPORTED).
int cic_jpeg_read_info(const char *path, cic_info *info, char *error, size_t error_length);
/// Decodes a JPEG into 8-bit interleaved rows (grey or RGB). A premature end is CIC_TRUNCATED.
int cic_jpeg_decode(const char *path, const cic_info *expected, uint8_t *destination, size_t destination_bytes,
                    char *error, size_t error_length);

/// Writes a PNG. `color_type`: 0 grey, 2 RGB, 3 palette (`palette_rgb` holds `palette_count`
/// RGB triples; `transparent_index` >= 0 adds a tRNS chunk making that entry transparent),
/// 4 grey+alpha, 6 RGBA. `bit_depth` 8 or 16 (16-bit samples in native order).
int cic_png_write(const char *path, uint32_t width, uint32_t height, int color_type, int bit_depth,
                  const void *samples, const uint8_t *palette_rgb, int palette_count, int transparent_index,
                  char *error, size_t error_length);
/// Writes a baseline JPEG from 8-bit interleaved grey (1) or RGB (3) samples.
int cic_jpeg_write(const char *path, uint32_t width, uint32_t height, int channels, int quality,
                   const uint8_t *samples, char *error, size_t error_length);

/// Copies `count` interleaved pixels of `samples_per_pixel` samples into planar floats: sample s
/// (s < channels) of pixel i goes to `planes[s * plane_stride + i]`.
void cic_unpack_u8(const uint8_t *source, size_t count, int samples_per_pixel, int channels,
                   float *planes, size_t plane_stride);
void cic_unpack_u16(const uint16_t *source, size_t count, int samples_per_pixel, int channels,
                    float *planes, size_t plane_stride);
void cic_unpack_f32(const float *source, size_t count, int samples_per_pixel, int channels,
                    float *planes, size_t plane_stride);

/// The reverse for writing: `count` pixels of `channels` planes into interleaved samples.
/// Integer formats are rounded half away from zero and clamped; NaN becomes 0.
void cic_pack_u8(const float *planes, size_t plane_stride, int channels, size_t count, uint8_t *destination);
void cic_pack_u16(const float *planes, size_t plane_stride, int channels, size_t count, uint16_t *destination);
void cic_pack_f32(const float *planes, size_t plane_stride, int channels, size_t count, float *destination);

/// Reverses the byte order of `count` samples of `sample_bytes` (2 or 4) bytes, in place.
void cic_swap_bytes(void *samples, size_t count, int sample_bytes);

#ifdef __cplusplus
}
#endif

#endif
