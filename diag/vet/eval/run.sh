#!/usr/bin/env bash
# diag/vet/eval/run.sh [tune|heldout|heldout2|heldout3|heldout4|heldout5|heldout6|heldout7|heldout8|heldout9|heldout10|heldout11|heldout12|all]: measures diag vet's recall on the
# fix-commit cases and its precision on the modules of an evaluation set,
# and writes the tables to stdout (and to $OUT/<set>.md).
#
# Needs the network (the Go module proxy) and minutes: not part of make
# test. Everything is downloaded into a module cache outside the clone,
# $VET_EVAL_CACHE (default $HOME/.cache/vigil/vet-eval); each module is
# copied from it into a writable directory there and loaded with
# GOFLAGS=-mod=mod. diag is built from this repository, or $DIAG_BIN is
# used. Every step runs under timeout. $VET_EVAL_OUT (default $cache/out)
# is where the raw output and the tables go, one directory per set.
#
# heldout2 to heldout12 are run by name only, never by all, so that a
# routine run cannot look at them. heldout2 to heldout12 are spent (each
# measured once, blind; see README.md and RESULTS.md).
#
# VET_EVAL_PREFETCH=1 downloads and copies every case's and module's
# module and runs go build on the packages (warming the module and build
# caches) but runs no diag vet and builds no diag: the later measured run
# then starts warm. It is safe on a held-out set.
set -euo pipefail

which=${1:-all}
case $which in
tune | heldout | heldout2 | heldout3 | heldout4 | heldout5 | heldout6 | heldout7 | heldout8 | heldout9 | heldout10 | heldout11 | heldout12) sets=$which ;;
all) sets="tune heldout" ;;
*)
	echo "usage: $0 [tune|heldout|heldout2|heldout3|heldout4|heldout5|heldout6|heldout7|heldout8|heldout9|heldout10|heldout11|heldout12|all]  (all = tune heldout)" >&2
	exit 2
	;;
esac

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
cache=${VET_EVAL_CACHE:-$HOME/.cache/vigil/vet-eval}
mkdir -p "$cache/mod" "$cache/work" "$cache/bin"
prefetch=${VET_EVAL_PREFETCH:-}

# diag itself is built with the repository's own settings (not needed to
# prefetch).
if [[ -z $prefetch && -z ${DIAG_BIN:-} ]]; then
	DIAG_BIN=$cache/bin/diag
	(cd "$root" && timeout 600 go build -o "$DIAG_BIN" ./cmd/diag)
fi

host_modcache=$(go env GOMODCACHE)
export GOMODCACHE=$cache/mod GOFLAGS=-mod=mod GOWORK=off GOTOOLCHAIN=local
# Each package's load, type check and analysis; the first run compiles the
# dependencies' export data, minutes for a client-go module on 2 cores.
vet_timeout=${VET_EVAL_TIMEOUT:-1200}

# moddir MODULE VERSION: prints a writable copy of the module's directory.
moddir() {
	local mod=$1 ver=$2 dir src
	dir=$cache/work/$(echo "$mod" | tr '/' '_')@$ver
	if [[ ! -f $dir/.complete ]]; then
		src=$(timeout 300 go mod download -json "$mod@$ver" | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p')
		if [[ -z $src || ! -d $src ]]; then
			echo "run.sh: go mod download $mod@$ver failed" >&2
			return 1
		fi
		rm -rf "$dir"
		cp -r "$src" "$dir"
		chmod -R u+w "$dir"
		# A module with no go.mod at that tag gets a minimal one.
		[[ -f $dir/go.mod ]] || printf 'module %s\n\ngo 1.16\n' "$mod" >"$dir/go.mod"
		# Replace directives pointing into the module's own repository
		# (../api in etcd's server module) name directories the module
		# zip does not hold. A module's replaces never apply to those who
		# depend on it: drop them, as a consumer of the tag would.
		(cd "$dir" && go mod edit -json | jq -r '.Replace[]? | select(.New.Version == null) | .Old.Path + (if .Old.Version then "@" + .Old.Version else "" end)' |
			while read -r old; do go mod edit -dropreplace="$old"; done)
		touch "$dir/.complete"
	fi
	echo "$dir"
}

# vet BASE DIR PATTERN...: runs diag vet -o json in DIR, leaving BASE.json,
# BASE.rc (its exit status: 0 nothing found, 1 findings, else an error),
# BASE.err and BASE.dir. With VET_EVAL_PREFETCH it runs go build instead
# and leaves BASE.buildrc and BASE.builderr.
vet() {
	local base=$1 dir=$2 rc=0
	shift 2
	echo "$dir" >"$base.dir"
	if [[ -n $prefetch ]]; then
		# Prefetch: compile the packages and their dependencies only.
		(cd "$dir" && timeout "$vet_timeout" go build -o /dev/null "$@") >/dev/null 2>"$base.builderr" || rc=$?
		echo "$rc" >"$base.buildrc"
		return 0
	fi
	(cd "$dir" && timeout "$vet_timeout" "$DIAG_BIN" vet -o json "$@") >"$base.json" 2>"$base.err" || rc=$?
	echo "$rc" >"$base.rc"
}

for set in $sets; do
	out=${VET_EVAL_OUT:-$cache/out}/$set
	# A prefetch leaves its logs apart, never where a measured run's
	# output goes.
	[[ -z $prefetch ]] || out=${VET_EVAL_OUT:-$cache/out}/prefetch-$set
	# VET_EVAL_ONLY="h08 h09 m2" re-runs those cases (and modules, mN)
	# only, keeping the other results.
	only=" ${VET_EVAL_ONLY:-} "
	[[ -n ${VET_EVAL_ONLY:-} ]] || rm -rf "$out"
	mkdir -p "$out/cases" "$out/modules"
	tail -n +2 "$here/$set/cases.tsv" | while IFS=$'\t' read -r id repo commit mod ver pkg file line also kind desc; do
		[[ $only == "  " || $only == *" $id "* ]] || continue
		echo "run.sh: $set case $id: $mod@$ver $pkg" >&2
		if ! dir=$(moddir "$mod" "$ver"); then
			echo 3 >"$out/cases/$id.rc"
			continue
		fi
		vet "$out/cases/$id" "$dir" "$pkg"
	done
	n=0
	tail -n +2 "$here/$set/modules.tsv" | while IFS=$'\t' read -r mod ver patterns kind desc; do
		n=$((n + 1))
		[[ $only == "  " || $only == *" m$n "* ]] || continue
		echo "run.sh: $set module $n: $mod@$ver" >&2
		base=$out/modules/$n
		if ! dir=$(moddir "$mod" "$ver"); then
			echo 3 >"$base.rc"
			continue
		fi
		# Only the packages that load (no error in them or their
		# dependencies) and have non-test Go files: diag vet skips test
		# files, and a package of tests alone does not load without them.
		# shellcheck disable=SC2086
		(cd "$dir" && timeout 900 go list -e -f '{{if not .Error}}{{if not .DepsErrors}}{{if or .GoFiles .CgoFiles}}{{.ImportPath}}{{end}}{{end}}{{end}}' $patterns) >"$base.pkgs" 2>"$base.listerr" || true
		if [[ ! -s $base.pkgs ]]; then
			echo 3 >"$base.rc"
			continue
		fi
		# shellcheck disable=SC2046
		vet "$base" "$dir" $(cat "$base.pkgs")
	done
	if [[ -n $prefetch ]]; then
		# What was fetched and built, per case and module (no findings).
		for f in "$out"/cases/*.buildrc "$out"/cases/*.rc "$out"/modules/*.buildrc "$out"/modules/*.rc; do
			if [[ -f $f ]]; then
				echo "run.sh: prefetch $set $(basename "$(dirname "$f")")/$(basename "$f"): exit $(cat "$f")"
			fi
		done >&2
		continue
	fi
	(cd "$root" && GOMODCACHE=$host_modcache GOFLAGS= timeout 300 go run ./diag/vet/eval/report -set "$here/$set" -out "$out") | tee "$out.md"
done
