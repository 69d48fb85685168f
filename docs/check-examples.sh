#!/usr/bin/env bash
# Compiles (and, when build/libtulip.a exists, links and runs) the EXAMPLE of
# every page in docs/reference/. Run from the repository root:
#
#     docs/check-examples.sh [page.md ...]
#
# Each page's first ```c block after its "## EXAMPLE" heading is extracted to
# a temporary directory and compiled with
#     cc -std=gnu11 -Wall -Wextra -Werror -I include -c
# If build/libtulip.a exists it is then linked (-luv -lcurl -lssl -lcrypto -lpthread -lm) and run
# with a 10 s timeout; a non-zero exit fails it. A page other than README.md
# without an example fails too. Exits non-zero if anything failed.
# VERBOSE=1 shows each example's output; TULIP_LIB=path uses another static
# library (a path that does not exist means compile only); CC picks the compiler.
set -u

read -r -a CC <<<"${CC:-cc}" # may carry flags: CC="clang -fsanitize=address"
CFLAGS=(-std=gnu11 -Wall -Wextra -Werror -I include)
LIB=${TULIP_LIB:-build/libtulip.a} # TULIP_LIB overrides, e.g. to test compile-only
LIBS=(-luv -lcurl -lssl -lcrypto -lpthread -lm)

if [ ! -f include/tulip.h ] || [ ! -d docs/reference ]; then
    echo "check-examples: run me from the repository root (include/tulip.h, docs/reference/)" >&2
    exit 2
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/tulip-doc-examples.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

if [ $# -gt 0 ]; then
    pages=("$@")
else
    pages=(docs/reference/*.md)
fi

link=0
if [ -f "$LIB" ]; then
    link=1
else
    echo "note: $LIB not found: compiling only, not linking or running"
fi

pass=0 fail=0 failed=()
for page in "${pages[@]}"; do
    name=$(basename "$page" .md)
    [ "$name" = README ] && continue
    src=$tmp/$name.c
    # The first fenced C block after the EXAMPLE heading, without the fences.
    awk '
        /^##[[:space:]]+EXAMPLE[[:space:]]*$/ { in_ex = 1; next }
        in_ex && !in_code && /^##[[:space:]]/ { exit }
        in_ex && !in_code && /^```c[[:space:]]*$/ { in_code = 1; next }
        in_code && /^```[[:space:]]*$/ { exit }
        in_code { print }
    ' "$page" >"$src"
    if [ ! -s "$src" ]; then
        echo "FAIL $name: no \`\`\`c block under an \"## EXAMPLE\" heading"
        fail=$((fail + 1)) failed+=("$name")
        continue
    fi
    if ! out=$("${CC[@]}" "${CFLAGS[@]}" -c "$src" -o "$tmp/$name.o" 2>&1); then
        echo "FAIL $name: does not compile"
        echo "$out" | sed 's/^/    /'
        fail=$((fail + 1)) failed+=("$name")
        continue
    fi
    if [ $link -eq 0 ]; then
        echo "ok   $name (compiled)"
        pass=$((pass + 1))
        continue
    fi
    if ! out=$("${CC[@]}" "$tmp/$name.o" "$LIB" "${LIBS[@]}" -o "$tmp/$name" 2>&1); then
        echo "FAIL $name: does not link"
        echo "$out" | sed 's/^/    /'
        fail=$((fail + 1)) failed+=("$name")
        continue
    fi
    start=$(date +%s%N)
    out=$(cd "$tmp" && timeout 10 "./$name" </dev/null 2>&1)
    status=$?
    ms=$((($(date +%s%N) - start) / 1000000))
    if [ $status -ne 0 ]; then
        if [ $status -eq 124 ]; then
            echo "FAIL $name: still running after 10 s"
        else
            echo "FAIL $name: exit status $status"
        fi
        echo "$out" | sed 's/^/    /'
        fail=$((fail + 1)) failed+=("$name")
        continue
    fi
    echo "ok   $name (ran in ${ms} ms)"
    [ -n "${VERBOSE:-}" ] && echo "$out" | sed 's/^/    /'
    pass=$((pass + 1))
done

echo "$pass passed, $fail failed"
if [ $fail -gt 0 ]; then
    echo "failed: ${failed[*]}"
    exit 1
fi
exit 0
