/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * C benchmarks behind the Google Benchmark shim (gbench_shim.cc). Each
 * benchmark's setup runs once per process and its state is reused by every
 * run Google Benchmark makes, so a 1M-AOR table is built once.
 */
#ifndef SPR_BENCH_H
#define SPR_BENCH_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SPR_BENCH_COUNTERS_MAX 8

struct spr_bench_counter {
	const char *name;
	double value;
};

struct spr_bench {
	const char *name;
	void *(*setup)(void);                     /* NULL on failure */
	void (*run)(void *ctx, uint64_t iters);   /* iters operations */
	/* figures to attach as counters; returns how many were written */
	int (*counters)(void *ctx, struct spr_bench_counter *out, int max);
	uint64_t batch; /* operations per run() call */
};

/* The benchmarks of each bench_*.c, each table terminated by an entry with name NULL. */
extern const struct spr_bench spr_benches_sip[];
extern const struct spr_bench spr_benches_pidf[];
extern const struct spr_bench spr_benches_auth[];
extern const struct spr_bench spr_benches_publish[];

#ifdef __cplusplus
}
#endif

#endif
