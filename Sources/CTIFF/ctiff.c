#include "ctiff.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { CTIFF_MESSAGE_CAPACITY = 4096 };

struct ctiff_handle {
    TIFF *tiff;
    char errors[CTIFF_MESSAGE_CAPACITY];
    char warnings[CTIFF_MESSAGE_CAPACITY];
};

static void append_message(char *buffer, const char *module, const char *fmt, va_list ap) {
    size_t used = strlen(buffer);
    if (used + 4 >= CTIFF_MESSAGE_CAPACITY) return;
    if (used > 0) {
        strcpy(buffer + used, "; ");
        used += 2;
    }
    char text[1024];
    vsnprintf(text, sizeof text, fmt, ap);
    if (module != NULL && module[0] != '\0') {
        snprintf(buffer + used, CTIFF_MESSAGE_CAPACITY - used, "%s: %s", module, text);
    } else {
        snprintf(buffer + used, CTIFF_MESSAGE_CAPACITY - used, "%s", text);
    }
}

static int capture_error(TIFF *tif, void *user_data, const char *module, const char *fmt, va_list ap) {
    (void)tif;
    ctiff_handle *handle = user_data;
    if (handle != NULL) append_message(handle->errors, module, fmt, ap);
    return 1; // handled: libtiff must not call its global (stderr) handler
}

static int capture_warning(TIFF *tif, void *user_data, const char *module, const char *fmt, va_list ap) {
    (void)tif;
    ctiff_handle *handle = user_data;
    if (handle != NULL) append_message(handle->warnings, module, fmt, ap);
    return 1;
}

static pthread_once_t silence_once = PTHREAD_ONCE_INIT;

static void silence_global_handlers(void) {
    // Messages emitted without a handle (a few legacy code paths) would otherwise go to stderr.
    TIFFSetErrorHandler(NULL);
    TIFFSetWarningHandler(NULL);
    TIFFSetErrorHandlerExt(NULL);
    TIFFSetWarningHandlerExt(NULL);
}

ctiff_handle *ctiff_open(const char *path, const char *mode, int64_t max_single_alloc) {
    pthread_once(&silence_once, silence_global_handlers);
    ctiff_handle *handle = calloc(1, sizeof *handle);
    if (handle == NULL) return NULL;
    TIFFOpenOptions *options = TIFFOpenOptionsAlloc();
    if (options == NULL) {
        free(handle);
        return NULL;
    }
    TIFFOpenOptionsSetErrorHandlerExtR(options, capture_error, handle);
    TIFFOpenOptionsSetWarningHandlerExtR(options, capture_warning, handle);
    if (max_single_alloc > 0) TIFFOpenOptionsSetMaxSingleMemAlloc(options, (tmsize_t)max_single_alloc);
    handle->tiff = TIFFOpenExt(path, mode, options);
    TIFFOpenOptionsFree(options);
    return handle;
}

TIFF *ctiff_tiff(const ctiff_handle *handle) { return handle->tiff; }
const char *ctiff_error_message(const ctiff_handle *handle) { return handle->errors; }
const char *ctiff_warning_message(const ctiff_handle *handle) { return handle->warnings; }

void ctiff_clear_messages(ctiff_handle *handle) {
    handle->errors[0] = '\0';
    handle->warnings[0] = '\0';
}

int ctiff_close(ctiff_handle *handle) {
    if (handle == NULL) return 1;
    size_t before = strlen(handle->errors);
    if (handle->tiff != NULL) TIFFClose(handle->tiff);
    int ok = strlen(handle->errors) == before;
    free(handle);
    return ok;
}

int ctiff_flush_and_sync(ctiff_handle *handle) {
    if (handle->tiff == NULL) return 0;
    if (!TIFFFlush(handle->tiff)) return 0;
    int fd = TIFFFileno(handle->tiff);
    if (fd < 0) return 0;
    return fsync(fd) == 0;
}

int ctiff_read_page_info(TIFF *tif, ctiff_page_info *info) {
    memset(info, 0, sizeof *info);
    if (!TIFFGetField(tif, TIFFTAG_IMAGEWIDTH, &info->width)) return 0;
    if (!TIFFGetField(tif, TIFFTAG_IMAGELENGTH, &info->height)) return 0;
    TIFFGetFieldDefaulted(tif, TIFFTAG_SAMPLESPERPIXEL, &info->samples_per_pixel);
    TIFFGetFieldDefaulted(tif, TIFFTAG_BITSPERSAMPLE, &info->bits_per_sample);
    TIFFGetFieldDefaulted(tif, TIFFTAG_SAMPLEFORMAT, &info->sample_format);
    if (!TIFFGetField(tif, TIFFTAG_PHOTOMETRIC, &info->photometric)) info->photometric = 0xFFFF;
    TIFFGetFieldDefaulted(tif, TIFFTAG_PLANARCONFIG, &info->planar_config);
    TIFFGetFieldDefaulted(tif, TIFFTAG_COMPRESSION, &info->compression);
    uint16_t extra_count = 0;
    uint16_t *extra_types = NULL;
    if (TIFFGetField(tif, TIFFTAG_EXTRASAMPLES, &extra_count, &extra_types)) info->extra_samples = extra_count;
    TIFFGetFieldDefaulted(tif, TIFFTAG_FILLORDER, &info->fill_order);
    TIFFGetFieldDefaulted(tif, TIFFTAG_ORIENTATION, &info->orientation);
    TIFFGetFieldDefaulted(tif, TIFFTAG_SUBFILETYPE, &info->subfile_type);
    info->is_tiled = TIFFIsTiled(tif);
    if (info->is_tiled) {
        TIFFGetField(tif, TIFFTAG_TILEWIDTH, &info->tile_width);
        TIFFGetField(tif, TIFFTAG_TILELENGTH, &info->tile_height);
    } else {
        TIFFGetFieldDefaulted(tif, TIFFTAG_ROWSPERSTRIP, &info->rows_per_strip);
    }
    info->is_bigtiff = TIFFIsBigTIFF(tif);
    float xr = 0, yr = 0;
    if (TIFFGetField(tif, TIFFTAG_XRESOLUTION, &xr) && TIFFGetField(tif, TIFFTAG_YRESOLUTION, &yr)) {
        info->has_resolution = 1;
        info->x_resolution = xr;
        info->y_resolution = yr;
    }
    TIFFGetFieldDefaulted(tif, TIFFTAG_RESOLUTIONUNIT, &info->resolution_unit);
    char *text = NULL;
    if (TIFFGetField(tif, TIFFTAG_IMAGEDESCRIPTION, &text)) info->image_description = text;
    text = NULL;
    if (TIFFGetField(tif, TIFFTAG_SOFTWARE, &text)) info->software = text;
    return 1;
}

int ctiff_set_jpeg_rgb_output(TIFF *tif) { return TIFFSetField(tif, TIFFTAG_JPEGCOLORMODE, JPEGCOLORMODE_RGB); }

int ctiff_set_u16(TIFF *tif, uint32_t tag, uint16_t value) { return TIFFSetField(tif, tag, (int)value); }
int ctiff_set_u32(TIFF *tif, uint32_t tag, uint32_t value) { return TIFFSetField(tif, tag, value); }
int ctiff_set_double(TIFF *tif, uint32_t tag, double value) { return TIFFSetField(tif, tag, value); }
int ctiff_set_string(TIFF *tif, uint32_t tag, const char *value) { return TIFFSetField(tif, tag, value); }

int ctiff_set_extra_samples(TIFF *tif, uint16_t count, const uint16_t *types) {
    return TIFFSetField(tif, TIFFTAG_EXTRASAMPLES, count, types);
}

int ctiff_set_colormap(TIFF *tif, const uint16_t *red, const uint16_t *green, const uint16_t *blue) {
    return TIFFSetField(tif, TIFFTAG_COLORMAP, red, green, blue);
}
