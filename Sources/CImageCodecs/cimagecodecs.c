#include "cimagecodecs.h"

#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <png.h>
#include <jpeglib.h>
#include <jerror.h>

static void set_error(char *error, size_t length, const char *fmt, const char *detail) {
    if (error == NULL || length == 0) return;
    snprintf(error, length, fmt, detail);
}

// MARK: - PNG

typedef struct {
    FILE *file;
    int truncated;
    char message[256];
    jmp_buf jump;
} png_context;

static void png_on_error(png_structp png, png_const_charp message) {
    png_context *context = png_get_error_ptr(png);
    snprintf(context->message, sizeof context->message, "%s", message);
    longjmp(context->jump, 1);
}

static void png_on_warning(png_structp png, png_const_charp message) {
    (void)png;
    (void)message; // warnings are not errors; never print them
}

static void png_on_read(png_structp png, png_bytep data, size_t length) {
    png_context *context = png_get_io_ptr(png);
    size_t got = fread(data, 1, length, context->file);
    if (got != length) {
        context->truncated = feof(context->file);
        png_error(png, context->truncated ? "unexpected end of file" : "read error");
    }
}

static int png_begin(const char *path, png_context *context, char *error, size_t error_length) {
    memset(context, 0, sizeof *context);
    context->file = fopen(path, "rb");
    if (context->file == NULL) {
        set_error(error, error_length, "cannot open: %s", strerror(errno));
        return CIC_NOT_FOUND;
    }
    unsigned char signature[8];
    size_t got = fread(signature, 1, 8, context->file);
    if (got < 8 || png_sig_cmp(signature, 0, 8) != 0) {
        fclose(context->file);
        set_error(error, error_length, "%s", got < 8 ? "file too short for a PNG signature" : "not a PNG file");
        return got < 8 ? CIC_TRUNCATED : CIC_ERROR;
    }
    return CIC_OK;
}

/// Applies the transformations and reads the resulting layout. Must run inside the setjmp scope.
static void png_configure(png_structp png, png_infop info, cic_info *out) {
    png_read_info(png, info);
    int color_type = png_get_color_type(png, info);
    int bit_depth = png_get_bit_depth(png, info);
    out->width = png_get_image_width(png, info);
    out->height = png_get_image_height(png, info);
    out->source_color_type = color_type;
    out->source_bit_depth = bit_depth;
    out->source_components = png_get_channels(png, info);
    if (color_type == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(png);
    if (color_type == PNG_COLOR_TYPE_GRAY && bit_depth < 8) png_set_expand_gray_1_2_4_to_8(png);
    // Alpha is dropped, including the alpha a tRNS chunk would add when a palette is expanded.
    if ((color_type & PNG_COLOR_MASK_ALPHA) || png_get_valid(png, info, PNG_INFO_tRNS)) png_set_strip_alpha(png);
    if (bit_depth == 16) png_set_swap(png); // PNG is big-endian; give native order (little-endian hosts)
    png_set_interlace_handling(png);
    png_read_update_info(png, info);
    out->channels = png_get_channels(png, info);
    out->bit_depth = png_get_bit_depth(png, info);
}

static int png_finish(png_context *context, int status, char *error, size_t error_length) {
    if (status != CIC_OK) {
        set_error(error, error_length, "%s", context->message);
        if (context->truncated) status = CIC_TRUNCATED;
    }
    fclose(context->file);
    return status;
}

int cic_png_read_info(const char *path, cic_info *info, char *error, size_t error_length) {
    png_context context;
    int status = png_begin(path, &context, error, error_length);
    if (status != CIC_OK) return status;
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &context, png_on_error, png_on_warning);
    png_infop png_info = png ? png_create_info_struct(png) : NULL;
    if (png == NULL || png_info == NULL) {
        snprintf(context.message, sizeof context.message, "out of memory");
        png_destroy_read_struct(&png, NULL, NULL);
        return png_finish(&context, CIC_ERROR, error, error_length);
    }
    memset(info, 0, sizeof *info);
    if (setjmp(context.jump)) {
        png_destroy_read_struct(&png, &png_info, NULL);
        return png_finish(&context, CIC_ERROR, error, error_length);
    }
    png_set_read_fn(png, &context, png_on_read);
    png_set_sig_bytes(png, 8);
    png_configure(png, png_info, info);
    png_destroy_read_struct(&png, &png_info, NULL);
    return png_finish(&context, CIC_OK, error, error_length);
}

int cic_png_decode(const char *path, const cic_info *expected, void *destination, size_t destination_bytes,
                   char *error, size_t error_length) {
    png_context context;
    int status = png_begin(path, &context, error, error_length);
    if (status != CIC_OK) return status;
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &context, png_on_error, png_on_warning);
    png_infop png_info = png ? png_create_info_struct(png) : NULL;
    if (png == NULL || png_info == NULL) {
        snprintf(context.message, sizeof context.message, "out of memory");
        png_destroy_read_struct(&png, NULL, NULL);
        return png_finish(&context, CIC_ERROR, error, error_length);
    }
    png_bytep *volatile rows = NULL;
    if (setjmp(context.jump)) {
        free(rows);
        png_destroy_read_struct(&png, &png_info, NULL);
        return png_finish(&context, CIC_ERROR, error, error_length);
    }
    png_set_read_fn(png, &context, png_on_read);
    png_set_sig_bytes(png, 8);
    cic_info actual;
    memset(&actual, 0, sizeof actual);
    png_configure(png, png_info, &actual);
    size_t row_bytes = (size_t)actual.width * (size_t)actual.channels * (size_t)(actual.bit_depth / 8);
    if (actual.width != expected->width || actual.height != expected->height || actual.channels != expected->channels ||
        actual.bit_depth != expected->bit_depth || row_bytes * actual.height != destination_bytes ||
        png_get_rowbytes(png, png_info) != row_bytes) {
        png_error(png, "the file changed between reading its header and decoding it");
    }
    rows = malloc(sizeof(png_bytep) * actual.height);
    if (rows == NULL) png_error(png, "out of memory");
    for (uint32_t y = 0; y < actual.height; y++) rows[y] = (png_bytep)destination + (size_t)y * row_bytes;
    png_read_image(png, rows);
    png_read_end(png, NULL);
    free(rows);
    rows = NULL;
    png_destroy_read_struct(&png, &png_info, NULL);
    return png_finish(&context, CIC_OK, error, error_length);
}

static void png_write_data(png_structp png, png_bytep data, size_t length) {
    FILE *file = png_get_io_ptr(png);
    if (fwrite(data, 1, length, file) != length) png_error(png, "write error");
}

static void png_flush_data(png_structp png) { fflush(png_get_io_ptr(png)); }

int cic_png_write(const char *path, uint32_t width, uint32_t height, int color_type, int bit_depth,
                  const void *samples, const uint8_t *palette_rgb, int palette_count, int transparent_index,
                  char *error, size_t error_length) {
    png_context context;
    memset(&context, 0, sizeof context);
    FILE *file = fopen(path, "wb");
    if (file == NULL) {
        set_error(error, error_length, "cannot create: %s", strerror(errno));
        return CIC_ERROR;
    }
    context.file = file;
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &context, png_on_error, png_on_warning);
    png_infop png_info = png ? png_create_info_struct(png) : NULL;
    if (png == NULL || png_info == NULL) {
        png_destroy_write_struct(&png, NULL);
        fclose(file);
        set_error(error, error_length, "%s", "out of memory");
        return CIC_ERROR;
    }
    if (setjmp(context.jump)) {
        png_destroy_write_struct(&png, &png_info);
        fclose(file);
        set_error(error, error_length, "%s", context.message);
        return CIC_ERROR;
    }
    png_set_write_fn(png, file, png_write_data, png_flush_data);
    png_set_IHDR(png, png_info, width, height, bit_depth, color_type, PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    int components = 1;
    switch (color_type) {
    case PNG_COLOR_TYPE_RGB: components = 3; break;
    case PNG_COLOR_TYPE_GRAY_ALPHA: components = 2; break;
    case PNG_COLOR_TYPE_RGB_ALPHA: components = 4; break;
    default: components = 1; break;
    }
    if (color_type == PNG_COLOR_TYPE_PALETTE) {
        png_color palette[256];
        for (int i = 0; i < palette_count && i < 256; i++) {
            palette[i].red = palette_rgb[3 * i];
            palette[i].green = palette_rgb[3 * i + 1];
            palette[i].blue = palette_rgb[3 * i + 2];
        }
        png_set_PLTE(png, png_info, palette, palette_count);
        if (transparent_index >= 0 && transparent_index < palette_count) {
            png_byte alpha[256];
            memset(alpha, 255, sizeof alpha);
            alpha[transparent_index] = 0;
            png_set_tRNS(png, png_info, alpha, transparent_index + 1, NULL);
        }
    }
    png_write_info(png, png_info);
    if (bit_depth == 16) png_set_swap(png);
    size_t row_bytes = (size_t)width * components * (bit_depth == 16 ? 2 : 1);
    for (uint32_t y = 0; y < height; y++) {
        png_write_row(png, (png_const_bytep)samples + (size_t)y * row_bytes);
    }
    png_write_end(png, NULL);
    png_destroy_write_struct(&png, &png_info);
    if (fclose(file) != 0) {
        set_error(error, error_length, "close failed: %s", strerror(errno));
        return CIC_ERROR;
    }
    return CIC_OK;
}

// MARK: - JPEG

typedef struct {
    struct jpeg_error_mgr base;
    jmp_buf jump;
    int truncated;
    char message[JMSG_LENGTH_MAX];
} jpeg_error_context;

static void jpeg_on_error_exit(j_common_ptr cinfo) {
    jpeg_error_context *context = (jpeg_error_context *)cinfo->err;
    (*cinfo->err->format_message)(cinfo, context->message);
    if (cinfo->err->msg_code == JERR_INPUT_EOF) context->truncated = 1;
    longjmp(context->jump, 1);
}

static void jpeg_on_message(j_common_ptr cinfo, int level) {
    jpeg_error_context *context = (jpeg_error_context *)cinfo->err;
    if (level < 0 && cinfo->err->msg_code == JWRN_JPEG_EOF) {
        // libjpeg pads a truncated file with grey and carries on; focusd refuses it.
        context->truncated = 1;
        (*cinfo->err->format_message)(cinfo, context->message);
    }
    // Other warnings (e.g. extraneous bytes) and trace messages are ignored, never printed.
}

static int jpeg_status(const jpeg_error_context *context) { return context->truncated ? CIC_TRUNCATED : CIC_ERROR; }

static int jpeg_read(const char *path, cic_info *info, const cic_info *expected, uint8_t *destination,
                     size_t destination_bytes, char *error, size_t error_length) {
    FILE *file = fopen(path, "rb");
    if (file == NULL) {
        set_error(error, error_length, "cannot open: %s", strerror(errno));
        return CIC_NOT_FOUND;
    }
    struct jpeg_decompress_struct cinfo;
    jpeg_error_context context;
    memset(&context, 0, sizeof context);
    cinfo.err = jpeg_std_error(&context.base);
    context.base.error_exit = jpeg_on_error_exit;
    context.base.emit_message = jpeg_on_message;
    int status = CIC_OK;
    if (setjmp(context.jump)) {
        jpeg_destroy_decompress(&cinfo);
        fclose(file);
        set_error(error, error_length, "%s", context.message);
        return jpeg_status(&context);
    }
    jpeg_create_decompress(&cinfo);
    jpeg_stdio_src(&cinfo, file);
    jpeg_read_header(&cinfo, TRUE);
    if (context.truncated) {
        jpeg_destroy_decompress(&cinfo);
        fclose(file);
        set_error(error, error_length, "%s", context.message);
        return CIC_TRUNCATED;
    }
    cic_info header;
    memset(&header, 0, sizeof header);
    header.width = cinfo.image_width;
    header.height = cinfo.image_height;
    header.source_color_type = cinfo.jpeg_color_space;
    header.source_components = cinfo.num_components;
    header.source_bit_depth = cinfo.data_precision;
    header.bit_depth = 8;
    switch (cinfo.jpeg_color_space) {
    case JCS_GRAYSCALE:
        header.channels = 1;
        cinfo.out_color_space = JCS_GRAYSCALE;
        break;
    case JCS_RGB:
    case JCS_YCbCr:
        header.channels = 3;
        cinfo.out_color_space = JCS_RGB;
        break;
    default:
        jpeg_destroy_decompress(&cinfo);
        fclose(file);
        set_error(error, error_length, "%s",
                  "CMYK/YCCK or unknown JPEG colour space; convert to a grey or RGB JPEG, PNG or TIFF");
        return CIC_UNSUPPORTED;
    }
    if (info != NULL) *info = header;
    if (destination == NULL) {
        jpeg_destroy_decompress(&cinfo);
        fclose(file);
        return CIC_OK;
    }
    size_t row_bytes = (size_t)header.width * (size_t)header.channels;
    if (expected == NULL || header.width != expected->width || header.height != expected->height ||
        header.channels != expected->channels || row_bytes * header.height != destination_bytes) {
        jpeg_destroy_decompress(&cinfo);
        fclose(file);
        set_error(error, error_length, "%s", "the file changed between reading its header and decoding it");
        return CIC_ERROR;
    }
    jpeg_start_decompress(&cinfo);
    if ((int)cinfo.output_components != header.channels) {
        snprintf(context.message, sizeof context.message, "decoder produced %d components, expected %d",
                 cinfo.output_components, header.channels);
        jpeg_destroy_decompress(&cinfo);
        fclose(file);
        set_error(error, error_length, "%s", context.message);
        return CIC_ERROR;
    }
    while (cinfo.output_scanline < cinfo.output_height && !context.truncated) {
        JSAMPROW row = destination + (size_t)cinfo.output_scanline * row_bytes;
        jpeg_read_scanlines(&cinfo, &row, 1);
    }
    if (context.truncated) {
        status = CIC_TRUNCATED;
        jpeg_abort_decompress(&cinfo);
    } else {
        jpeg_finish_decompress(&cinfo);
        if (context.truncated) status = CIC_TRUNCATED;
    }
    jpeg_destroy_decompress(&cinfo);
    fclose(file);
    if (status != CIC_OK) set_error(error, error_length, "%s", context.message);
    return status;
}

int cic_jpeg_read_info(const char *path, cic_info *info, char *error, size_t error_length) {
    return jpeg_read(path, info, NULL, NULL, 0, error, error_length);
}

int cic_jpeg_decode(const char *path, const cic_info *expected, uint8_t *destination, size_t destination_bytes,
                    char *error, size_t error_length) {
    return jpeg_read(path, NULL, expected, destination, destination_bytes, error, error_length);
}

int cic_jpeg_write(const char *path, uint32_t width, uint32_t height, int channels, int quality,
                   const uint8_t *samples, char *error, size_t error_length) {
    FILE *file = fopen(path, "wb");
    if (file == NULL) {
        set_error(error, error_length, "cannot create: %s", strerror(errno));
        return CIC_ERROR;
    }
    struct jpeg_compress_struct cinfo;
    jpeg_error_context context;
    memset(&context, 0, sizeof context);
    cinfo.err = jpeg_std_error(&context.base);
    context.base.error_exit = jpeg_on_error_exit;
    context.base.emit_message = jpeg_on_message;
    if (setjmp(context.jump)) {
        jpeg_destroy_compress(&cinfo);
        fclose(file);
        set_error(error, error_length, "%s", context.message);
        return CIC_ERROR;
    }
    jpeg_create_compress(&cinfo);
    jpeg_stdio_dest(&cinfo, file);
    cinfo.image_width = width;
    cinfo.image_height = height;
    cinfo.input_components = channels;
    cinfo.in_color_space = channels == 1 ? JCS_GRAYSCALE : JCS_RGB;
    jpeg_set_defaults(&cinfo);
    jpeg_set_quality(&cinfo, quality, TRUE);
    jpeg_start_compress(&cinfo, TRUE);
    size_t row_bytes = (size_t)width * (size_t)channels;
    while (cinfo.next_scanline < cinfo.image_height) {
        JSAMPROW row = (JSAMPROW)(samples + (size_t)cinfo.next_scanline * row_bytes);
        jpeg_write_scanlines(&cinfo, &row, 1);
    }
    jpeg_finish_compress(&cinfo);
    jpeg_destroy_compress(&cinfo);
    if (fclose(file) != 0) {
        set_error(error, error_length, "close failed: %s", strerror(errno));
        return CIC_ERROR;
    }
    return CIC_OK;
}

// MARK: - Sample packing

#define DEFINE_UNPACK(name, type)                                                                   \
    void name(const type *source, size_t count, int samples_per_pixel, int channels, float *planes,  \
              size_t plane_stride) {                                                                 \
        for (int c = 0; c < channels; c++) {                                                         \
            const type *s = source + c;                                                              \
            float *d = planes + (size_t)c * plane_stride;                                            \
            for (size_t i = 0; i < count; i++) d[i] = (float)s[i * (size_t)samples_per_pixel];       \
        }                                                                                            \
    }

DEFINE_UNPACK(cic_unpack_u8, uint8_t)
DEFINE_UNPACK(cic_unpack_u16, uint16_t)
DEFINE_UNPACK(cic_unpack_f32, float)

static inline float rounded_clamped(float value, float maximum) {
    if (!(value > 0.0f)) return 0.0f; // also NaN
    if (value >= maximum) return maximum;
    return floorf(value + 0.5f);
}

void cic_pack_u8(const float *planes, size_t plane_stride, int channels, size_t count, uint8_t *destination) {
    for (int c = 0; c < channels; c++) {
        const float *s = planes + (size_t)c * plane_stride;
        for (size_t i = 0; i < count; i++) destination[i * channels + c] = (uint8_t)rounded_clamped(s[i], 255.0f);
    }
}

void cic_pack_u16(const float *planes, size_t plane_stride, int channels, size_t count, uint16_t *destination) {
    for (int c = 0; c < channels; c++) {
        const float *s = planes + (size_t)c * plane_stride;
        for (size_t i = 0; i < count; i++) destination[i * channels + c] = (uint16_t)rounded_clamped(s[i], 65535.0f);
    }
}

void cic_pack_f32(const float *planes, size_t plane_stride, int channels, size_t count, float *destination) {
    for (int c = 0; c < channels; c++) {
        const float *s = planes + (size_t)c * plane_stride;
        for (size_t i = 0; i < count; i++) destination[i * channels + c] = s[i];
    }
}

void cic_swap_bytes(void *samples, size_t count, int sample_bytes) {
    if (sample_bytes == 2) {
        uint16_t *s = samples;
        for (size_t i = 0; i < count; i++) s[i] = (uint16_t)((s[i] >> 8) | (s[i] << 8));
    } else if (sample_bytes == 4) {
        uint32_t *s = samples;
        for (size_t i = 0; i < count; i++) {
            uint32_t v = s[i];
            s[i] = (v >> 24) | ((v >> 8) & 0xFF00u) | ((v << 8) & 0xFF0000u) | (v << 24);
        }
    }
}
