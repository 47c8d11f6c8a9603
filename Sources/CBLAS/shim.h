// OpenBLAS's CBLAS interface (Debian: libopenblas-dev). `cblas.h` resolves through Debian's
// alternatives to OpenBLAS's header, which also declares openblas_set_num_threads.
#include <cblas.h>
