// SPDX-License-Identifier: GPL-2.0
/* The tracepoints (trace.h), defined once, here. */

#define CREATE_TRACE_POINTS
#include "trace.h"
