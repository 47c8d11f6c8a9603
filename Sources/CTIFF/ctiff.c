#include "ctiff.h"
