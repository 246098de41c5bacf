/*
 * clock: wall-clock stamps for records and monotonic deadlines for loops.
 * Pure functions over struct timespec and milliseconds; nothing can fail.
 */
#ifndef GXKIT_CLOCK_H
#define GXKIT_CLOCK_H

#include <stdint.h>
#include <time.h>

/* CLOCK_REALTIME, for the "ts" of records. */
struct timespec clock_wall(void);
/* CLOCK_MONOTONIC in milliseconds, for intervals and deadlines. */
uint64_t clock_mono_ms(void);
struct timespec clock_from_ms(uint64_t ms);

#endif
