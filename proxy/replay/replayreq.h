/* SPDX-License-Identifier: MIT */
/* replayreq.h - checking a recorded request and rebuilding it as a replay sends it
 * (replay.c). */
#ifndef REPLAYREQ_H
#define REPLAYREQ_H

#include "dial.h"
#include "flow.h"

#include <stddef.h>

/* Checks req (scheme http/https, host, path, method, a whole body, header syntax) and fills
 * nf (the replay's new flow: scheme, host, port, path, request) with the request as it will be
 * sent; req's request body moves to nf. *wire gets the bytes to send (malloc'd, the caller
 * frees), the head in absolute-form with credentials when via names a proxy and the target is
 * plain HTTP. via is not NULL (via->host NULL: direct). anticache: the live option of that name
 * (If-None-Match and If-Modified-Since are not sent, nor recorded). Returns 0, or -1 with a message
 * in err (nf and *wire then untouched or partly filled: the caller frees nf). */
int replayreq_build(struct flow *req, struct flow *nf, const struct dial_via *via, int anticache,
		    char **wire, size_t *wire_len, char *err, size_t errlen);

#endif
