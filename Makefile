# Runnel build. `make` builds the server and tools into build/;
# `make run` and `make test` first install missing Debian packages.

CC       ?= cc
BUILD    ?= build
OPT      ?= -O2
SANITIZE ?=
CFLAGS   := -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Wno-missing-field-initializers \
            $(OPT) -g -fno-strict-aliasing -Isrc -I/usr/include/lua5.1 $(SANITIZE) $(EXTRA_CFLAGS)
# Debian's lua-cjson and lua-bitop, linked statically: scripts' cjson and bit.
LUA_LIBS := -l:liblua5.1-cjson.a -l:liblua5.1-bitop.a
LDLIBS   := $(LUA_LIBS) -luring -ljemalloc -llua5.1 -lcurl -ljson-c -lssl -lcrypto -lm -lpthread
PYTHON   := /usr/bin/python3

SRCS      := $(shell find src -name '*.c' | sort)
LIB_SRCS  := $(filter-out src/main.c,$(SRCS))
# The console's files, turned into a C table by scripts/embed-assets (generated, in $(BUILD)/gen).
CONSOLE_FILES := $(sort $(wildcard src/http/console/*))
CONSOLE_GEN   := $(BUILD)/gen/console_assets.c
CONSOLE_OBJ   := $(BUILD)/obj/gen/console_assets.o
LIB_OBJS  := $(LIB_SRCS:%.c=$(BUILD)/obj/%.o) $(CONSOLE_OBJ)
MAIN_OBJ  := $(BUILD)/obj/src/main.o
UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/%)
TOOL_SRCS := $(shell find tools -name '*.c' 2>/dev/null | sort)

.PHONY: all clean deps run cluster-run chaos test unit integration integration-epoll asan fuzz fuzz-long tools

all: $(BUILD)/runnel-server tools

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -MMD -MP -c $< -o $@

$(CONSOLE_GEN): $(CONSOLE_FILES) scripts/embed-assets
	@mkdir -p $(dir $@)
	$(PYTHON) scripts/embed-assets src/http/console $@

$(CONSOLE_OBJ): $(CONSOLE_GEN)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c $< -o $@

$(BUILD)/librunnel.a: $(LIB_OBJS)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/runnel-server: $(MAIN_OBJ) $(BUILD)/librunnel.a
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/tests/%: tests/unit/%.c $(BUILD)/librunnel.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $< $(BUILD)/librunnel.a $(LDLIBS) -lcriterion

-include tools/tools.mk

deps:
	@scripts/install-deps

# The default configuration, plus the HTTP endpoint (the console at /, Prometheus metrics) on
# 127.0.0.1:9121; the server logs its address at start-up.
run: deps
	@$(MAKE) --no-print-directory $(BUILD)/runnel-server
	$(BUILD)/runnel-server --http-port 9121 --http-bind 127.0.0.1

# A local etcd and a six-node cluster on ports 30001-30006 (docs/cluster.md).
cluster-run: deps
	@$(MAKE) --no-print-directory $(BUILD)/runnel-server
	@scripts/cluster-run

# Ten minutes of faults against a cluster (docs/cluster.md, "Chaos"); not part of make test.
chaos: deps
	@$(MAKE) --no-print-directory $(BUILD)/runnel-server
	RUNNEL_SERVER=$(abspath $(BUILD)/runnel-server) $(PYTHON) tests/chaos/cluster_chaos.py --minutes $(or $(MINUTES),10)

unit: $(UNIT_BINS)
	@set -e; for t in $(UNIT_BINS); do echo "== $$t"; $$t --jobs 2; done

integration: $(BUILD)/runnel-server tools
	RUNNEL_SERVER=$(abspath $(BUILD)/runnel-server) RUNNEL_BUILD=$(abspath $(BUILD)) \
	  $(PYTHON) -m pytest -q -x tests/integration $(PYTEST_ARGS)

# The same suites under AddressSanitizer + UndefinedBehaviorSanitizer.
# The suite runs on io-engine auto: io_uring where the kernel allows it. The
# files that lean on the network layer most run again on the epoll engine
# (about half a minute), so that both engines stay covered.
EPOLL_TESTS := test_connection.py test_clients.py test_protocol.py test_pubsub.py test_list_blocking.py test_limits.py
integration-epoll: $(BUILD)/runnel-server tools
	RUNNEL_IO_ENGINE=epoll RUNNEL_SERVER=$(abspath $(BUILD)/runnel-server) RUNNEL_BUILD=$(abspath $(BUILD)) \
	  $(PYTHON) -m pytest -q -x $(addprefix tests/integration/,$(EPOLL_TESTS)) $(PYTEST_ARGS)

# The sanitizer pass leaves out the soak tests, the files that drive client
# frameworks and the browser test: their server paths are the command and API
# paths the other tests cover, and their time is mostly the frameworks' own
# waiting (docs/architecture.md, "Decisions").
ASAN_SKIP := test_bull.py test_bullmq.py test_bee_queue.py test_celery.py test_rq.py test_sidekiq.py \
  test_channels_redis.py
ASAN_DESELECT := test_console.py::test_console_pages_match_the_server
ASAN_PYTEST_ARGS := -m "not soak" $(addprefix --ignore=tests/integration/,$(ASAN_SKIP)) \
  $(addprefix --deselect tests/integration/,$(ASAN_DESELECT))
asan:
	$(MAKE) --no-print-directory BUILD=build-asan OPT=-O1 \
	  SANITIZE="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined" \
	  PYTEST_ARGS='$(ASAN_PYTEST_ARGS)' unit integration

fuzz:
	@scripts/fuzz 12

fuzz-long:
	@scripts/fuzz 3600

test: deps
	@$(MAKE) --no-print-directory all
	@$(MAKE) --no-print-directory unit
	@$(MAKE) --no-print-directory integration
	@$(MAKE) --no-print-directory integration-epoll
	@$(MAKE) --no-print-directory asan
	@$(MAKE) --no-print-directory fuzz

clean:
	rm -rf build build-asan build-fuzz

-include $(shell find $(BUILD) build-asan -name '*.d' 2>/dev/null)
