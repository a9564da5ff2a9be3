/* SPDX-License-Identifier: MIT */
/* intercept.c - PLACEHOLDER: live rules and intercept are being written. */
#include "proxy.h"

#include "util.h"

#include <stdio.h>

int proxy_set_rules(struct proxy *p, const struct proxy_rules *r, char *err, size_t errlen)
{
	(void)p, (void)r;
	snprintf(err, errlen, "live rules are not implemented yet");
	return -1;
}

static int not_paused(uint64_t id, struct flow *edit, char *err, size_t errlen)
{
	flow_free(edit);
	snprintf(err, errlen, "flow %llu is not paused", (unsigned long long)id);
	return -1;
}

int proxy_resume(struct proxy *p, uint64_t id, struct flow *edit, char *err, size_t errlen)
{
	(void)p;
	return not_paused(id, edit, err, errlen);
}

int proxy_edit(struct proxy *p, uint64_t id, struct flow *edit, char *err, size_t errlen)
{
	(void)p;
	return not_paused(id, edit, err, errlen);
}

int proxy_kill(struct proxy *p, uint64_t id, char *err, size_t errlen)
{
	(void)p;
	return not_paused(id, NULL, err, errlen);
}
