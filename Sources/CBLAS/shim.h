// OpenBLAS's CBLAS interface (Debian: libopenblas-dev). `cblas.h` resolves through Debian's
// alternatives to OpenBLAS's header, which also declares openblas_set_num_threads.
#include <cblas.h>

// The NN engine's elementwise kernels. Swift compiles for the baseline x86-64 (SSE2) and cannot
// target AVX2 per function, so the two hot elementwise loops — GroupNorm statistics and the fused
// GroupNorm-apply + SiLU — live here as static inline C with an AVX2/FMA version chosen at run time
// (CPUID), and a portable fallback elsewhere. The Swift side is NN's `Activation.swift`/`GroupNorm.swift`.
#include "nn_kernels.h"
// Winograd F(4×4, 3×3) transforms and products for 3×3 stride-1 convolutions (NN's Conv2D+Winograd.swift),
// in AVX-512F, AVX2+FMA and portable builds chosen at run time.
#include "nn_winograd.h"
// Direct 3×3 convolution rows for few input or output channels, the stride-2 im2col gather and the
// transposed convolution's row interleave (NN's Conv2D+Direct.swift, Conv2D.swift, ConvTranspose2D.swift).
#include "nn_direct.h"
