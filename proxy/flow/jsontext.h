/* SPDX-License-Identifier: MIT */
/* jsontext.h - bytes from the wire as JSON strings: one policy for the web API, the event
 * stream and HAR, so that the same bytes always read the same way.
 *
 * The policy:
 *   bodies   valid UTF-8 goes out as text; anything else as base64 text, and the holder gets
 *            an encoding mark (HAR: "encoding": "base64"; the API: "..._base64").
 *   strings  header names and values, URLs and their parts, methods, reason phrases: these
 *            cannot be base64 (a reader expects text there), so valid UTF-8 goes out as is and
 *            anything else is read whole as Latin-1, each byte the code point of the same
 *            value (U+0000-U+00FF), and the holder gets a mark ("latin1": true in the API,
 *            "_latin1": true in HAR). The whole string, never byte by byte: with the mark,
 *            the original bytes can be told back from the text.
 * Validity is jansson's (json_stringn refuses invalid UTF-8); NUL bytes are valid UTF-8. */
#ifndef JSONTEXT_H
#define JSONTEXT_H

#include <jansson.h>
#include <stddef.h>

/* A string's JSON: s[0..len) as is when UTF-8, else widened from Latin-1 with *latin1 (OUT,
 * may be NULL) set to 1 (left alone otherwise). s NULL gives JSON null. New reference. */
json_t *jsontext_string(const char *s, size_t len, int *latin1);

/* A body's JSON text: data[0..len) as is when UTF-8 with *base64 (OUT) set to 0, else its
 * base64 with *base64 set to 1. data may be NULL when len is 0. New reference. */
json_t *jsontext_body(const char *data, size_t len, int *base64);

#endif
