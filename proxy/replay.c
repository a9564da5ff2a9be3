/* SPDX-License-Identifier: MIT */
/* replay.c - PLACEHOLDER: replay is being written. */
#include "proxy.h"

#include "util.h"

#include <stdio.h>

uint64_t proxy_replay(struct proxy *p, struct flow *req, char *err, size_t errlen)
{
	(void)p;
	flow_free(req);
	snprintf(err, errlen, "replay is not implemented yet");
	return 0;
}
