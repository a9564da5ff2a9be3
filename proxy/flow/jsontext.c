/* SPDX-License-Identifier: MIT */
/* jsontext.c - the JSON text policy for bytes from the wire (see jsontext.h). */
#include "jsontext.h"

#include "b64.h"
#include "util.h"

#include <stdlib.h>

json_t *jsontext_string(const char *s, size_t len, int *latin1)
{
	if (!s)
		return json_null();
	json_t *j = json_stringn(s, len);
	if (j)
		return j;
	/* not UTF-8: widen each byte (Latin-1 maps 1:1 onto U+0000..U+00FF) */
	char *w = xmalloc(len * 2 + 1);
	size_t n = 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c < 0x80) {
			w[n++] = (char)c;
		} else {
			w[n++] = (char)(0xc0 | (c >> 6));
			w[n++] = (char)(0x80 | (c & 0x3f));
		}
	}
	j = json_stringn(w, n);
	free(w);
	if (latin1)
		*latin1 = 1;
	return j ? j : json_null();
}

json_t *jsontext_body(const char *data, size_t len, int *base64)
{
	json_t *j = json_stringn(data ? data : "", len);
	*base64 = 0;
	if (j)
		return j;
	size_t n;
	char *text = b64_encode(data, len, &n);
	j = json_stringn(text, n);
	free(text);
	*base64 = 1;
	return j;
}
