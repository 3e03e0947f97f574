#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# layers: libgreen's objects and sources keep to the layering of
# docs/ARCHITECTURE.md (scripts/check-layers). Works means: the built tree
# passes, and the check does catch a runtime object that calls an exported
# name (the program's write wrapper) or a symbol of wrappers/, and a
# wrapper that includes hub/internal.h.

load helpers

GREEN_CHECK_LAYERS=$GREEN_SRCDIR/scripts/check-layers
GREEN_TOP=$(dirname "$(dirname "$GREEN_LIB")")

@test "layers: the runtime calls no exported name, no layer calls one above it, only hub/ sees its internals" {
    run bash "$GREEN_CHECK_LAYERS" "$GREEN_TOP" "$GREEN_SRCDIR"
    echo "$output"
    assert_success
    assert_output --regexp '^check-layers: [0-9]+ objects keep to the layers'
}

@test "layers: a hub object that calls write() or a wrappers/ function, or a wrapper that includes hub/internal.h, fails the check" {
    local copy=$BATS_TEST_TMPDIR/tree
    mkdir -p "$copy/.libs"
    cp "$GREEN_LIB" "$copy/.libs/"
    local layer
    for layer in preload switch hub wrappers; do
        (cd "$GREEN_TOP" && find "$layer" -path '*/.libs/*.o' -print0 |
            xargs -0 cp --parents -t "$copy")
    done
    printf '%s\n' '#include <unistd.h>' \
        'void green__thread_destructors(void);' \
        'void green__planted(void) { write(2, "x", 1); green__thread_destructors(); }' \
        >"$BATS_TEST_TMPDIR/planted.c"
    cc -c -fPIC -o "$copy/hub/.libs/libgreen_la-planted.o" \
        "$BATS_TEST_TMPDIR/planted.c"
    mkdir -p "$copy/wrappers"
    printf '#include "hub/internal.h"\n' >"$copy/wrappers/planted.c"
    run bash "$GREEN_CHECK_LAYERS" "$copy"
    echo "$output"
    assert_failure 1
    assert_line 'wrappers/planted.c: includes hub/internal.h, which is hub/'"'"'s own'
    assert_line 'hub/.libs/libgreen_la-planted.o: the runtime references write, which libgreen exports'
    assert_line 'hub/.libs/libgreen_la-planted.o: hub/ references green__thread_destructors of wrappers/, a layer above'
}
