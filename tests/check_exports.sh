#!/bin/sh
# Every symbol the shared library exports must be public API: tl_ followed by
# a letter. Internals are tl__* (hidden), so '^tl_' alone would let one
# exported by mistake through.
lib=$1
bad=$(nm -D --defined-only "$lib" | awk '{print $3}' | grep -v '^tl_[a-z]' | grep -v '^_')
if [ -n "$bad" ]; then
    echo "exported symbols outside the API:"; echo "$bad"; exit 1
fi
n=$(nm -D --defined-only "$lib" | awk '{print $3}' | grep -c '^tl_[a-z]')
echo "exports: $n tl_* symbols, nothing else"
