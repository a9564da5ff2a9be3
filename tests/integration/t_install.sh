#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# t_install.sh - `cmake --install` puts the binary and its man page where Debian expects them
# (PREFIX/bin/flowscope, PREFIX/share/man/man1/flowscope.1); the installed binary runs; the
# man page describes every option --help lists (so the two do not drift) and renders.
. "$(dirname "$0")/lib.sh"

BUILD="${FLOWSCOPE_BUILD:-$(dirname "$FLOWSCOPE_BIN")/..}"
ok "cmake --install into a prefix" cmake --install "$BUILD" --prefix "$T/inst"
ok "the binary in PREFIX/bin" test -x "$T/inst/bin/flowscope"
ok "the man page in PREFIX/share/man/man1" test -s "$T/inst/share/man/man1/flowscope.1"
like "the installed binary runs" "$("$T/inst/bin/flowscope" --version)" '^flowscope [0-9.]+$'

man_text=$(sed 's/\\-/-/g; s/\\f[BIR]//g' "$T/inst/share/man/man1/flowscope.1")
for opt in $("$FLOWSCOPE_BIN" --help | grep -o -- '--[a-z-]*' | sort -u); do
	ok "the man page describes $opt" grep -q -- "$opt" <<<"$man_text"
done
like "its version is the binary's" "$man_text" "$("$FLOWSCOPE_BIN" --version)"
if command -v man >/dev/null; then
	like "it renders" "$(MANWIDTH=80 man -l "$T/inst/share/man/man1/flowscope.1" 2>&1)" 'web-token-rotate'
else
	skip "man is not installed"
fi

done_testing
