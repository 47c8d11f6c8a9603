// PNG decoding and (for tests) encoding through libpng; errors via setjmp/longjmp, kept in C.
#include "cimagecodecs.h"
#include "codec_error.h"

#include <errno.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <png.h>

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
        cic_set_error(error, error_length, "cannot open: %s", strerror(errno));
        return CIC_NOT_FOUND;
    }
    unsigned char signature[8];
    size_t got = fread(signature, 1, 8, context->file);
    if (got < 8 || png_sig_cmp(signature, 0, 8) != 0) {
        fclose(context->file);
        cic_set_error(error, error_length, "%s", got < 8 ? "file too short for a PNG signature" : "not a PNG file");
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
        cic_set_error(error, error_length, "%s", context->message);
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
        cic_set_error(error, error_length, "cannot create: %s", strerror(errno));
        return CIC_ERROR;
    }
    context.file = file;
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &context, png_on_error, png_on_warning);
    png_infop png_info = png ? png_create_info_struct(png) : NULL;
    if (png == NULL || png_info == NULL) {
        png_destroy_write_struct(&png, NULL);
        fclose(file);
        cic_set_error(error, error_length, "%s", "out of memory");
        return CIC_ERROR;
    }
    if (setjmp(context.jump)) {
        png_destroy_write_struct(&png, &png_info);
        fclose(file);
        cic_set_error(error, error_length, "%s", context.message);
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
        cic_set_error(error, error_length, "close failed: %s", strerror(errno));
        return CIC_ERROR;
    }
    return CIC_OK;
}

