# Tools, included by the root Makefile: `make tools` builds $(BUILD)/runnel-bench.
# Uses the root CC and CFLAGS; a tool never links librunnel.

BENCH_SRCS := $(sort $(wildcard tools/runnel-bench/*.c))
BENCH_OBJS := $(BENCH_SRCS:%.c=$(BUILD)/obj/%.o)

tools: $(BUILD)/runnel-bench

$(BUILD)/obj/tools/runnel-bench/%.o: tools/runnel-bench/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Itools/runnel-bench -MMD -MP -c $< -o $@

$(BUILD)/runnel-bench: $(BENCH_OBJS)
	$(CC) $(CFLAGS) -o $@ $^ -lhiredis -lm -lpthread
