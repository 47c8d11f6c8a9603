// Moving samples between interleaved rows (as codecs store them) and planar Float32 planes.
#include "cimagecodecs.h"

#include <math.h>

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
