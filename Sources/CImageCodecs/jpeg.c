// JPEG decoding and (for tests) encoding through libjpeg; errors via setjmp/longjmp, kept in C.
#include "cimagecodecs.h"
#include "codec_error.h"

#include <errno.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jpeglib.h>
#include <jerror.h>

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
        cic_set_error(error, error_length, "cannot open: %s", strerror(errno));
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
        cic_set_error(error, error_length, "%s", context.message);
        return jpeg_status(&context);
    }
    jpeg_create_decompress(&cinfo);
    jpeg_stdio_src(&cinfo, file);
    jpeg_read_header(&cinfo, TRUE);
    if (context.truncated) {
        jpeg_destroy_decompress(&cinfo);
        fclose(file);
        cic_set_error(error, error_length, "%s", context.message);
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
        cic_set_error(error, error_length, "%s",
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
        cic_set_error(error, error_length, "%s", "the file changed between reading its header and decoding it");
        return CIC_ERROR;
    }
    jpeg_start_decompress(&cinfo);
    if ((int)cinfo.output_components != header.channels) {
        snprintf(context.message, sizeof context.message, "decoder produced %d components, expected %d",
                 cinfo.output_components, header.channels);
        jpeg_destroy_decompress(&cinfo);
        fclose(file);
        cic_set_error(error, error_length, "%s", context.message);
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
    if (status != CIC_OK) cic_set_error(error, error_length, "%s", context.message);
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
        cic_set_error(error, error_length, "cannot create: %s", strerror(errno));
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
        cic_set_error(error, error_length, "%s", context.message);
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
        cic_set_error(error, error_length, "close failed: %s", strerror(errno));
        return CIC_ERROR;
    }
    return CIC_OK;
}

