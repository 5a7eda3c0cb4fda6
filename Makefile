# Entry point: XPS, LATR and X-Lane on Linux 6.12 (patches, modules, eBPF,
# C++ tools, kselftests, QEMU). `make help` lists the targets.
SHELL := /bin/bash
.NOTPARALLEL:
.DEFAULT_GOAL := all

ROOT := $(CURDIR)
B := $(ROOT)/build
KSRC := $(B)/linux
JOBS ?= $(shell nproc)
CCACHE_CC := ccache gcc

LIBBPF_DIR := $(B)/libbpf
LIBBPF_A := $(LIBBPF_DIR)/lib64/libbpf.a
BPFTOOL := $(B)/bpftool/bpftool
BPF_OUT := $(B)/bpf
US_OUT := $(B)/userspace

MODULES := $(patsubst modules/%/Kbuild,%,$(wildcard modules/*/Kbuild))
BPF_CC = clang -g -O2 -Wall -target bpf -D__TARGET_ARCH_x86 -mcpu=v3 \
	-I$(BPF_OUT) -I$(LIBBPF_DIR)/include -Ibpf -Imodules/xps/include
BPF_SRCS := $(wildcard bpf/*.bpf.c)
BPF_OBJS := $(patsubst bpf/%.bpf.c,$(BPF_OUT)/%.bpf.o,$(BPF_SRCS))
BPF_SKELS := $(patsubst bpf/%.bpf.c,$(BPF_OUT)/%.skel.h,$(BPF_SRCS))
SELFTEST_SRCS := $(wildcard selftests/*/*.c)
SELFTEST_BINS := $(patsubst selftests/%.c,$(B)/selftests/%,$(SELFTEST_SRCS))
SELFTEST_HDRS := $(wildcard selftests/*/*.h modules/*/include/*/*.h)

.PHONY: all help deps kernel kernel-debug kernel-stock kernel-stock-debug libbpf bpftool modules bpf userspace \
	selftests vm-run check check-debug demo clean distclean _bpf _selftests bench-latr bench-xlane \
	bench-xps checkpatch

all: kernel modules bpf userspace selftests

help:
	@echo "make deps        install the Debian packages the project needs"
	@echo "make kernel      unpack linux-source-6.12, apply patches/series, build bzImage,"
	@echo "                 libbpf, bpftool and the UAPI headers (build/linux)"
	@echo "make modules     out-of-tree modules in modules/*/ against build/linux"
	@echo "make bpf         eBPF objects and libbpf skeletons (build/bpf)"
	@echo "make userspace   C++ libraries, tools and host unit tests (build/userspace)"
	@echo "make selftests   kselftest binaries (build/selftests)"
	@echo "make vm-run CMD='...'  boot the kernel in QEMU and run CMD in the guest"
	@echo "make check       host unit tests + every kselftest in the VM; ends 'N passed, N failed'"
	@echo "make demo        the main job: boot, show the setup, run what exists"
	@echo "make kernel-debug  the same kernel with lockdep + KASAN (build/linux-debug)"
	@echo "make check-debug the LATR kselftests on that kernel (T=... to choose)"
	@echo "make kernel-stock  6.12 without the patches, same config (build/linux-stock)"
	@echo "make kernel-stock-debug  the debug kernel without the patches (build/linux-stock-debug)"
	@echo "make bench-latr  stock vs LATR in one boot: munmap, Apache, overhead"
	@echo "make bench-xlane X-Lane vs UDP and busy-poll UDP, idle and stressed; X-FD accuracy"
	@echo "make bench-xps   stock vs XPS in one boot: Redis GET and GET/SET mixes, nginx POST 405"
	@echo "make checkpatch  checkpatch.pl --strict on patches/ and modules/"

deps:
	@scripts/deps.sh

kernel: deps
	@scripts/kernel.sh all
	@$(MAKE) --no-print-directory libbpf bpftool

kernel-debug: deps
	@VARIANT=debug scripts/kernel.sh all

# 6.12 without patches/, same configuration: the baseline of what the
# patches cost with no provider registered (bench-latr BENCH_UNPATCHED=1).
kernel-stock: deps
	@VARIANT=stock scripts/kernel.sh all

# The debug kernel without patches/: the control for a problem seen on
# make kernel-debug (build/linux-stock-debug).
kernel-stock-debug: deps
	@VARIANT=stock-debug scripts/kernel.sh all

# The LATR kselftests on the lockdep + KASAN kernel, with the modules
# built against it in build/modules-debug. no5lvl: with QEMU's LA57 an
# interrupt in identify_cpu()'s window makes KASAN report the irq
# descriptor's lock as a wild access (a false positive, see the README's
# Lockdep + KASAN kernel), after which KASAN is silent for the whole boot.
check-debug: kernel-debug all
	@for m in $(MODULES); do \
		mkdir -p $(B)/modules-debug/$$m && cp modules/$$m/*.c modules/$$m/Kbuild $(B)/modules-debug/$$m/ && \
		{ [ ! -d modules/$$m/include ] || cp -r modules/$$m/include $(B)/modules-debug/$$m/; } && \
		{ cp modules/$$m/*.h $(B)/modules-debug/$$m/ 2>/dev/null || true; } && \
		$(MAKE) -s -C $(B)/linux-debug M=$(B)/modules-debug/$$m CC="$(CCACHE_CC)" -j$(JOBS) modules || exit 1; \
	done
	@CHECK_HOST=0 CHECK_NAME=debug VM_TIMEOUT=3600 VM_APPEND="no5lvl page_poison=1 $${VM_APPEND:-}" \
		VM_KERNEL=$(B)/linux-debug/arch/x86/boot/bzImage \
		XSEL_MODULES=$(B)/modules-debug T="$${T:-latr/ infra/module}" \
		scripts/check.sh

# libbpf and bpftool come from the kernel tree (Debian's libbpf is too old
# for module struct_ops). install -p keeps timestamps, so nothing that
# includes the headers rebuilds when they did not change.
libbpf:
	@mkdir -p $(LIBBPF_DIR)/obj
	@$(MAKE) -s -C $(KSRC)/tools/lib/bpf -j$(JOBS) CC="$(CCACHE_CC)" \
		OUTPUT=$(LIBBPF_DIR)/obj/ BUILD_STATIC_ONLY=1 prefix=$(LIBBPF_DIR) \
		INSTALL="install -p" install_headers install_lib >/dev/null

bpftool:
	@mkdir -p $(B)/bpftool
	@$(MAKE) -s -C $(KSRC)/tools/bpf/bpftool -j$(JOBS) \
		OUTPUT=$(B)/bpftool/ >/dev/null

modules: kernel
	@for m in $(MODULES); do \
		echo "[modules] $$m"; \
		$(MAKE) -s -C $(KSRC) M=$(ROOT)/modules/$$m CC="$(CCACHE_CC)" \
			-j$(JOBS) modules || exit 1; \
	done

bpf: kernel
	@$(MAKE) --no-print-directory _bpf

_bpf: $(BPF_OUT)/vmlinux.h $(BPF_OBJS) $(BPF_SKELS) $(BPF_OUT)/xps_redis_incoherent.bpf.o

# vmlinux.h from the built kernel's BTF; rewritten only when it changes.
$(BPF_OUT)/vmlinux.h: $(KSRC)/vmlinux
	@mkdir -p $(@D)
	@$(BPFTOOL) btf dump file $< format c >$@.tmp
	@if cmp -s $@.tmp $@; then rm $@.tmp; else mv $@.tmp $@; echo "[bpf] vmlinux.h"; fi

$(BPF_OUT)/%.bpf.o: bpf/%.bpf.c $(BPF_OUT)/vmlinux.h $(wildcard bpf/*.h) \
		$(wildcard modules/xps/include/xps/*.h)
	@echo "[bpf] $*.bpf.o"
	@$(BPF_CC) -c $< -o $@

# For the stale-read checker's negative test only: the Redis handler with
# its write fences sent to one fixed slot, so its cache is not coherent. Never shipped
# in libxps; selftests/xps/stale_read.c shows the checker catches it.
$(BPF_OUT)/xps_redis_incoherent.bpf.o: bpf/xps_redis.bpf.c $(BPF_OUT)/xps_redis.bpf.o
	@echo "[bpf] $(@F) (test only)"
	@$(BPF_CC) -DXPS_REDIS_INCOHERENT -c $< -o $@

$(BPF_OUT)/%.skel.h: $(BPF_OUT)/%.bpf.o
	@$(BPFTOOL) gen skeleton $< name $* >$@.tmp && mv $@.tmp $@

userspace: bpf
	@cmake -S userspace -B $(US_OUT) -DCMAKE_BUILD_TYPE=RelWithDebInfo \
		-DLIBBPF_DIR=$(LIBBPF_DIR) -DBPF_OUT=$(BPF_OUT) \
		-DCMAKE_CXX_COMPILER_LAUNCHER=ccache >/dev/null
	@cmake --build $(US_OUT) -j$(JOBS) -- --no-print-directory -s

selftests: kernel
	@$(MAKE) --no-print-directory _selftests

_selftests: $(SELFTEST_BINS)

$(B)/selftests/%: selftests/%.c $(SELFTEST_HDRS)
	@mkdir -p $(@D)
	@echo "[selftests] $*"
	@gcc -O2 -g -Wall -Wextra -Wno-unused-parameter -Wno-clobbered -Wno-sign-compare -D_GNU_SOURCE \
		-I$(KSRC)/tools/testing/selftests -Iselftests/lib -I$(<D) \
		-Imodules/xlane/include -isystem $(KSRC)/usr/include -o $@ $< -lpthread

# make vm-run CMD='cat /proc/cmdline'
vm-run: all
	@scripts/vm-run.sh "$(CMD)"

check: all
	@scripts/check.sh

demo: all
	@scripts/demo.sh

bench-latr: all
	@scripts/bench-latr.sh

bench-xlane: all
	@scripts/bench-xlane.sh

bench-xps: all
	@scripts/bench-xps.sh

# Debian's python3 has the modules spdxcheck.py wants (python3-ply, -git).
checkpatch: kernel
	@cd $(KSRC) && PATH=/usr/bin:$$PATH scripts/checkpatch.pl --strict -q \
		$(addprefix $(ROOT)/patches/,$(shell grep -v '^\#' patches/series | xargs))
	@cd $(KSRC) && for f in $(filter-out %.mod.c,$(wildcard modules/*/*.c modules/*/*.h modules/*/include/*/*.h)); do \
		PATH=/usr/bin:$$PATH scripts/checkpatch.pl --strict -q --no-tree -f $(ROOT)/$$f || exit 1; \
	done
	@echo "checkpatch: clean"

clean:
	rm -rf $(BPF_OUT) $(US_OUT) $(B)/selftests
	@for m in $(MODULES); do $(MAKE) -s -C $(KSRC) M=$(ROOT)/modules/$$m clean 2>/dev/null; done; true

distclean:
	rm -rf $(B)
