// SPDX-License-Identifier: BSD-3-Clause
// Google Benchmark over the C benchmarks of perf/bench.h: the only C++ here.
#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstdlib>

#include "bench.h"

namespace {

void
run(benchmark::State &state, const spr_bench *b, void **ctx)
{
	if (*ctx == nullptr && (*ctx = b->setup()) == nullptr) {
		state.SkipWithError("setup failed");
		return;
	}
	while (state.KeepRunningBatch(static_cast<benchmark::IterationCount>(b->batch)))
		b->run(*ctx, b->batch);
	if (b->counters != nullptr) {
		spr_bench_counter c[SPR_BENCH_COUNTERS_MAX];
		int n = b->counters(*ctx, c, SPR_BENCH_COUNTERS_MAX);
		for (int i = 0; i < n; i++)
			state.counters[c[i].name] = benchmark::Counter(c[i].value);
	}
	state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}

} // namespace

int
main(int argc, char **argv)
{
	static const spr_bench *const tables[] = {spr_benches_sip, spr_benches_pidf, spr_benches_auth,
						   spr_benches_publish};
	static void *ctx[64];
	int i = 0;

	for (const spr_bench *t : tables)
		for (const spr_bench *b = t; b->name != nullptr && i < 64; b++, i++)
			benchmark::RegisterBenchmark(b->name, run, b, &ctx[i]);
	benchmark::Initialize(&argc, argv);
	if (benchmark::ReportUnrecognizedArguments(argc, argv))
		return 1;
	benchmark::RunSpecifiedBenchmarks();
	benchmark::Shutdown();
	return 0;
}
