/* SPDX-License-Identifier: MIT */
/* h2wire.c - settings and sending shared by both HTTP/2 ends (see h2wire.h). */
#include "h2wire.h"

#include <event2/buffer.h>

void h2wire_settings(nghttp2_session *s, uint32_t window)
{
	nghttp2_settings_entry iv[] = {
	    {NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, H2WIRE_MAX_STREAMS},
	    {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, window},
	    {NGHTTP2_SETTINGS_ENABLE_PUSH, 0},
	};
	nghttp2_submit_settings(s, NGHTTP2_FLAG_NONE, iv, sizeof iv / sizeof *iv);
	nghttp2_session_set_local_window_size(s, NGHTTP2_FLAG_NONE, 0,
					      (int32_t)(window * H2WIRE_MAX_STREAMS));
}

int h2wire_send(nghttp2_session *s, struct evbuffer *out, size_t limit, const char **err)
{
	while (evbuffer_get_length(out) < limit) {
		const uint8_t *data;
		ssize_t n = nghttp2_session_mem_send(s, &data);
		if (n < 0) {
			*err = nghttp2_strerror((int)n);
			return -1;
		}
		if (n == 0)
			break;
		evbuffer_add(out, data, (size_t)n);
	}
	return 0;
}
