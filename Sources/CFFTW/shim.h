#ifndef FOCUSD_CFFTW_SHIM_H
#define FOCUSD_CFFTW_SHIM_H
// FFTW 3 (Debian libfftw3-dev), double precision: the real two-dimensional transforms of
// Registration's layered image-formation model (DeconvolvedRefinement).
#include <fftw3.h>
#endif
