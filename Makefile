# Switchyard: the two commands a fresh machine needs are `make serve` and `make test`.
BUILD_DIR ?= build
CONFIG ?= examples/switchyard.yaml
JOBS ?= $(shell nproc)

.PHONY: all bootstrap build serve test bench format format-check clean

all: build

bootstrap:
	@bash scripts/bootstrap.sh

$(BUILD_DIR)/build.ninja:
	cmake -S . -B $(BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo

build: bootstrap $(BUILD_DIR)/build.ninja
	cmake --build $(BUILD_DIR) -j $(JOBS)

serve: build
	./$(BUILD_DIR)/switchyard serve --config $(CONFIG)

test: build
	cd $(BUILD_DIR) && ctest --output-on-failure --timeout 300 -j 2

bench: build
	bash bench/gateway_overhead.sh

format:
	find include src tools tests bench -name node_modules -prune -o \( -name '*.hpp' -o -name '*.cpp' \) -print | xargs clang-format -i

format-check:
	find include src tools tests bench -name node_modules -prune -o \( -name '*.hpp' -o -name '*.cpp' \) -print | xargs clang-format --dry-run --Werror

clean:
	rm -rf $(BUILD_DIR)
