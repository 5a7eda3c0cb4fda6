#!/bin/bash
# Build the patched Linux 6.12 kernel for the QEMU guest.
#
#   scripts/kernel.sh [tree|config|build|all]
#
# tree:   unpack Debian's linux-source-6.12 into build/linux (a git repo with
#         the pristine tree tagged "xbase") and apply patches/series with git am.
#         Re-applied only when the series or a patch file changes.
# config: tinyconfig + scripts/qemu.config + Kconfig.fragment, verified: an
#         option the fragment asks for that does not end up in .config fails.
# build:  bzImage, in-tree modules, headers_install, through ccache.
#
# Everything is incremental: with nothing changed, this only runs kbuild's
# own (fast) up-to-date checks.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
B=${BUILD:-$ROOT/build}
KSRC=$B/linux
STAMPS=$B/stamps
TARBALL=${KERNEL_TARBALL:-/usr/src/linux-source-6.12.tar.xz}
JOBS=${JOBS:-$(nproc)}
# A variant (e.g. the lockdep+KASAN debug kernel) adds one more config
# fragment and builds in its own tree so the main build stays warm.
# VARIANT=stock is the same kernel without patches/ (and without the
# options the patches add), to measure what the patches cost when no
# provider is registered. VARIANT=stock-debug is the debug kernel without
# them, the control for a problem seen on the debug kernel.
VARIANT=${VARIANT:-}
STOCK=
case $VARIANT in stock | stock-*) STOCK=1 ;; esac
if [ -n "$VARIANT" ]; then
	KSRC=$B/linux-$VARIANT
	STAMPS=$B/stamps-$VARIANT
fi

log() { printf '\033[1m[kernel]\033[0m %s\n' "$*"; }
die() { printf '[kernel] error: %s\n' "$*" >&2; exit 1; }

mkdir -p "$STAMPS"

# Reproducible build identity: keeps ccache hits across clones and sessions.
export KBUILD_BUILD_TIMESTAMP='Thu Jan  1 00:00:00 UTC 2026'
export KBUILD_BUILD_USER=xlat KBUILD_BUILD_HOST=qemu
export CCACHE_BASEDIR=$KSRC CCACHE_NOHASHDIR=1 CCACHE_SLOPPINESS=time_macros
KMAKE=(make -C "$KSRC" -j"$JOBS" CC="ccache gcc" HOSTCC="ccache gcc")

series_files() {
	local f
	[ -f "$ROOT/patches/series" ] || return 0
	[ -z "$STOCK" ] || return 0
	while read -r f; do
		f=${f%%#*}
		f=$(echo "$f" | xargs)
		[ -n "$f" ] || continue
		[ -f "$ROOT/patches/$f" ] || die "patches/series names $f, which does not exist"
		echo "$ROOT/patches/$f"
	done <"$ROOT/patches/series"
}

patch_hash() {
	{ cat "$ROOT/patches/series" 2>/dev/null || true; series_files | xargs -r cat; } |
		sha256sum | cut -d' ' -f1
}

do_tree() {
	if [ ! -f "$STAMPS/tree" ]; then
		[ -f "$TARBALL" ] || die "$TARBALL missing: run 'make deps' (package linux-source-6.12)"
		log "unpacking $(basename "$TARBALL") into $KSRC"
		rm -rf "$KSRC" "$B/linux-source-6.12"
		tar -C "$B" -xf "$TARBALL"
		mv "$B/linux-source-6.12" "$KSRC"
		log "recording the pristine tree (git tag xbase)"
		git -C "$KSRC" init -q
		git -C "$KSRC" -c user.name=xbase -c user.email=xbase@localhost \
			add -A -f
		git -C "$KSRC" -c user.name=xbase -c user.email=xbase@localhost \
			commit -q -m "Debian linux-source-6.12 $(dpkg-query -W -f='${Version}' linux-source-6.12 2>/dev/null || echo unknown)"
		git -C "$KSRC" tag xbase
		touch "$STAMPS/tree"
		rm -f "$STAMPS/patches"
	fi
	local want
	want=$(patch_hash)
	if [ "$(cat "$STAMPS/patches" 2>/dev/null)" != "$want" ]; then
		log "applying patches/series"
		git -C "$KSRC" am --abort >/dev/null 2>&1 || true
		git -C "$KSRC" reset -q --hard xbase
		local p n=0
		for p in $(series_files); do
			log "  git am $(basename "$p")"
			if ! git -C "$KSRC" -c user.name=xbuild -c user.email=xbuild@localhost \
				am -q "$p"; then
				git -C "$KSRC" am --abort >/dev/null 2>&1 || true
				die "patch $(basename "$p") does not apply to 6.12"
			fi
			n=$((n + 1))
		done
		log "$n patch(es) applied"
		echo "$want" >"$STAMPS/patches"
	fi
}

# The configuration fragments of this build. For the stock variant,
# Kconfig.fragment without the options the patches introduce.
fragments() {
	local frag=$ROOT/Kconfig.fragment syms
	if [ -n "$STOCK" ]; then
		syms=$(sed -n 's/^+config \([A-Z0-9_]*\)$/\1/p' "$ROOT"/patches/*.patch | sort -u | paste -sd'|')
		frag=$STAMPS/Kconfig.fragment
		grep -vE "^(# )?CONFIG_(${syms:-NONE})[= ]" "$ROOT/Kconfig.fragment" >"$frag"
	fi
	echo "$ROOT/scripts/qemu.config"
	echo "$frag"
	local extra=${VARIANT#stock-}
	[ ! -f "$ROOT/scripts/$extra.config" ] || echo "$ROOT/scripts/$extra.config"
}
config_inputs() {
	fragments | xargs cat
	cat "$STAMPS/patches"
}

# Every CONFIG_ line the inputs ask for must hold in the final .config.
verify_config() {
	local want bad=0 line opt
	while read -r line; do
		case "$line" in
		CONFIG_*=*)
			opt=${line%%=*}
			want=$line
			grep -qx -- "$want" "$KSRC/.config" || {
				echo "  wanted $want, got: $(grep -E "^(# )?${opt}[= ]" "$KSRC/.config" || echo 'absent')" >&2
				bad=1
			}
			;;
		"# CONFIG_"*" is not set")
			opt=${line#\# }
			opt=${opt%% *}
			if grep -q "^$opt=" "$KSRC/.config"; then
				echo "  wanted $opt off, got: $(grep "^$opt=" "$KSRC/.config")" >&2
				bad=1
			fi
			;;
		esac
	done < <(cat "$@")
	return $bad
}

do_config() {
	local want files
	mapfile -t files < <(fragments)
	want=$(config_inputs | sha256sum | cut -d' ' -f1)
	if [ "$(cat "$STAMPS/config" 2>/dev/null)" = "$want" ] && [ -f "$KSRC/.config" ]; then
		return 0
	fi
	log "writing .config: tinyconfig + ${files[*]##*/}"
	cp "$KSRC/.config" "$KSRC/.config.prev" 2>/dev/null || true
	"${KMAKE[@]}" -s tinyconfig >/dev/null
	(cd "$KSRC" && scripts/kconfig/merge_config.sh -m -O . .config "${files[@]}" >/dev/null)
	"${KMAKE[@]}" -s olddefconfig >/dev/null
	if ! verify_config "${files[@]}"; then
		die "the options above could not be set (unmet dependencies?)"
	fi
	# Keep the old .config's timestamp when nothing changed, so kbuild
	# does not consider everything out of date.
	if [ -f "$KSRC/.config.prev" ] && cmp -s "$KSRC/.config" "$KSRC/.config.prev"; then
		touch -r "$KSRC/.config.prev" "$KSRC/.config"
	fi
	echo "$want" >"$STAMPS/config"
}

do_build() {
	log "building bzImage and modules (ccache: $(ccache -k cache_dir 2>/dev/null || echo default))"
	"${KMAKE[@]}" -s bzImage modules
	"${KMAKE[@]}" -s headers_install INSTALL_HDR_PATH="$KSRC/usr" >/dev/null
	log "kernel ready: $KSRC/arch/x86/boot/bzImage ($(make -s -C "$KSRC" kernelrelease))"
}

case "${1:-all}" in
tree) do_tree ;;
config) do_tree; do_config ;;
build | all) do_tree; do_config; do_build ;;
*) die "usage: $0 [tree|config|build|all]" ;;
esac
