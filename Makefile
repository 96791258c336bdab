# Planner build.  `make` -> build/planner (optimised); `make asan` -> build/asan/planner;
# `make tsan` -> build/tsan/planner (ThreadSanitizer).
# `make test` installs missing Debian packages, then runs the unit tests (release and ASan
# builds) and the API tests (release, ASan and TSan builds).  See README.md.

PREFIX  ?= /usr/local
DESTDIR ?=
MODE    ?= release
PYTHON  ?= /usr/bin/python3

PKGS    := libmicrohttpd jansson libical sqlite3 libsodium libsystemd
CC      ?= cc
WARN    := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
           -Wformat=2 -Wvla -Wnull-dereference
CSTD    := -std=c17 -D_POSIX_C_SOURCE=200809L

# OUT may be set on the command line to build side by side (make OUT=build/mine).
ifeq ($(MODE),asan)
  OUT      ?= build/asan
  OPTFLAGS := -O1 -g -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
else ifeq ($(MODE),tsan)
  OUT      ?= build/tsan
  OPTFLAGS := -O2 -g -fsanitize=thread -fno-omit-frame-pointer
else
  OUT      ?= build
  OPTFLAGS := -O2 -g
endif

PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
CFLAGS  += $(CSTD) $(WARN) $(OPTFLAGS) -Isrc -I$(OUT)/gen $(PKG_CFLAGS) -MMD -MP
LDFLAGS += $(OPTFLAGS)
LDLIBS  += $(PKG_LIBS) -lpthread -lm

SRCS      := $(sort $(wildcard src/*.c src/*/*.c))
OBJS      := $(SRCS:%.c=$(OUT)/obj/%.o) $(OUT)/obj/gen/migrations.o $(OUT)/obj/gen/openapi.o
LIB_OBJS  := $(filter-out $(OUT)/obj/src/main.o,$(OBJS))
TEST_SRCS := $(sort $(wildcard tests/unit/*.c))
TEST_OBJS := $(TEST_SRCS:%.c=$(OUT)/obj/%.o)
MIGRATIONS := $(sort $(wildcard src/store/migrations/sqlite/*.sql))

.PHONY: all asan tsan run test unit api-test check-layers checksrc install deps clean bench seed load
all: $(OUT)/planner

$(OUT)/planner: $(OBJS)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# The W200 data generator (bench/README.md): the library objects plus bench/seed.c's main.
$(OUT)/planner-seed: $(LIB_OBJS) $(OUT)/obj/bench/seed.o
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)
seed: $(OUT)/planner-seed

# The W200 load generator (bench/load.c, --help): one file, only jansson from the libraries.
$(OUT)/planner-load: $(OUT)/obj/bench/load.o
	$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS) -lm
load: $(OUT)/planner-load

# The W200 benchmark (bench/README.md): seeds (cached in var/bench/), starts nginx and planner
# on loopback, drives them with planner-load, writes bench/results/w200-DATE.md and PNGs.
# make bench BENCH_ARGS="--scales 1,10,100" adds the data-size curve (seeding x100 takes long).
BENCH_ARGS ?=
bench:
	@sh scripts/install-deps.sh bench
	$(MAKE) $(OUT)/planner $(OUT)/planner-seed $(OUT)/planner-load
	$(PYTHON) bench/run.py --build $(OUT) $(BENCH_ARGS)

$(OUT)/planner-tests: $(LIB_OBJS) $(TEST_OBJS)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS) $(shell pkg-config --libs criterion)

$(OUT)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c -o $@ $<

# Migrations are compiled into the binary: one C array per engine, generated from the .sql files.
# The directory is a prerequisite too: its time changes when a file is added or removed.
$(OUT)/gen/migrations.c: $(MIGRATIONS) src/store/migrations/sqlite scripts/embed-sql.sh
	@mkdir -p $(dir $@)
	sh scripts/embed-sql.sh sqlite $(MIGRATIONS) > $@.tmp && mv $@.tmp $@
$(OUT)/gen/openapi.c: docs/openapi.json scripts/embed-file.sh
	@mkdir -p $(dir $@)
	sh scripts/embed-file.sh api_openapi_json docs/openapi.json > $@.tmp && mv $@.tmp $@
$(OUT)/obj/gen/%.o: $(OUT)/gen/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c -o $@ $<

asan:
	$(MAKE) MODE=asan build/asan/planner build/asan/planner-tests

tsan:
	$(MAKE) MODE=tsan build/tsan/planner

deps:
	@sh scripts/install-deps.sh

run: deps
	$(MAKE) all
	@mkdir -p var
	./build/planner serve

# The layering rules of STYLE.md R10 and the banned-function list of R13.
check-layers:
	@! grep -nE '#include <(microhttpd|jansson|sqlite3|libpq-fe|sodium|curl/curl)\.h>' src/core/*.[ch]
	@! grep -nE '#include <(microhttpd|jansson)\.h>' src/store/*.[ch]
	@! grep -nE '#include <(sqlite3|libpq-fe)\.h>' src/api/*.[ch] src/http/*.[ch] src/*.[ch]
	@! grep -nE 'sqlite3_' src/api/*.c src/http/*.c src/core/*.c src/*.c src/worker/*.c
checksrc:
	@sh scripts/checksrc src tests/unit

unit: $(OUT)/planner-tests
	$(OUT)/planner-tests --jobs 2

api-test: $(OUT)/planner
	PLANNER_BIN=$(CURDIR)/$(OUT)/planner $(PYTHON) -m pytest -q tests/api

test: deps
	$(MAKE) check-layers checksrc
	$(MAKE) all build/planner-tests build/planner-seed build/planner-load
	$(MAKE) MODE=asan build/asan/planner build/asan/planner-tests
	./build/planner-tests --jobs 2
	@# Criterion counts a test whose process LeakSanitizer reports on as passed: read the log.
	ASAN_OPTIONS=detect_leaks=1 ./build/asan/planner-tests --jobs 2 > build/asan/unit.log 2>&1; \
	  rc=$$?; cat build/asan/unit.log; test $$rc -eq 0 && \
	  ! grep -E 'Sanitizer|runtime error' build/asan/unit.log
	PLANNER_BIN=$(CURDIR)/build/planner $(PYTHON) -m pytest -q -p no:cacheprovider tests/api
	PLANNER_BIN=$(CURDIR)/build/asan/planner PLANNER_ASAN=1 $(PYTHON) -m pytest -q -p no:cacheprovider tests/api
	@# The server's threads under ThreadSanitizer (Criterion's runner cannot start under it,
	@# so the unit tests are not run this way).
	$(MAKE) MODE=tsan build/tsan/planner
	TSAN_OPTIONS=suppressions=$(CURDIR)/tests/tsan.supp PLANNER_BIN=$(CURDIR)/build/tsan/planner \
	  PLANNER_ASAN=1 PLANNER_TSAN=1 $(PYTHON) -m pytest -q -p no:cacheprovider tests/api

install: all
	install -D -m 0755 build/planner $(DESTDIR)$(PREFIX)/bin/planner
	install -D -m 0644 deploy/planner.service $(DESTDIR)$(PREFIX)/lib/systemd/system/planner.service

clean:
	rm -rf build

-include $(shell find build -name '*.d' 2>/dev/null)
