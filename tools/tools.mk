# Tools, included by the root Makefile: `make tools` builds $(BUILD)/runnel-bench
# and $(BUILD)/runnel-check-aof.
# Uses the root CC and CFLAGS; a tool never links librunnel.

BENCH_SRCS := $(sort $(wildcard tools/runnel-bench/*.c))
BENCH_OBJS := $(BENCH_SRCS:%.c=$(BUILD)/obj/%.o)

tools: $(BUILD)/runnel-bench

$(BUILD)/obj/tools/runnel-bench/%.o: tools/runnel-bench/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Itools/runnel-bench -MMD -MP -c $< -o $@

$(BUILD)/runnel-bench: $(BENCH_OBJS)
	$(CC) $(CFLAGS) -o $@ $^ -lhiredis -lm -lpthread

# runnel-check-aof: the server's RESP parser, its snapshot reader and what
# they need, compiled as the server compiles them (no librunnel).
CHECK_AOF_OBJS := $(BUILD)/obj/tools/runnel-check-aof.o $(BUILD)/obj/src/protocol/parser.o \
                  $(BUILD)/obj/src/persistence/snapshot_walk.o $(BUILD)/obj/src/db/codec.o \
                  $(BUILD)/obj/src/util/crc64.o $(BUILD)/obj/src/util/mem.o $(BUILD)/obj/src/util/str.o

tools: $(BUILD)/runnel-check-aof

$(BUILD)/runnel-check-aof: $(CHECK_AOF_OBJS)
	$(CC) $(CFLAGS) -o $@ $^ -ljemalloc
